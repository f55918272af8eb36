#!/bin/sh
# Regenerate every R reference output the tests read (tests/exact/_rref.py).
# Needs R with metafor, lme4, survival and Hmisc (Debian: apt-get install r-base-core
# r-cran-metafor r-cran-lme4 r-cran-survival r-cran-hmisc); CI never runs it.
# The outputs were made with R 4.2.2, metafor 3.8-1, lme4 1.1-31 (metafor_proportions.R:
# rma.glmm), survival 3.5-3 and Hmisc 4.8-0. The bayesmeta_*.R scripts also need bayesmeta
# (not packaged for Debian: install.packages("bayesmeta") from CRAN; it depends on metafor,
# forestplot, mvtnorm and numDeriv); their outputs were made with bayesmeta 3.3 and are written
# by R CMD BATCH. Without bayesmeta those two scripts are skipped.
# Scripts: metafor_bcg.R, metafor_edge_cases.R, metafor_subgroups.R, metafor_influence.R,
# metafor_smallstudy.R, metafor_export.R, metafor_medians.R, metafor_metareg.R,
# metafor_metareg_oligo.R (reads metafor_export.csv), metafor_proportions.R, metafor_pval.R,
# survival_cox.R, survival_reconstructkm.R, stats_binomtest.R, bayesmeta_engine.R, bayesmeta_bmr.R (every
# metafor_*.R, survival_*.R, stats_*.R and bayesmeta_*.R here).
# metafor_export.R reads metafor_export.csv; after a registry change rewrite it first with
#   survmeta export studies.toml --format metafor -o tests/reference/metafor_export.csv
# Usage: sh tests/reference/regenerate.sh   (from anywhere), then `git diff tests/reference`.
set -eu
cd "$(dirname "$0")"
for script in metafor_*.R survival_*.R stats_*.R; do
    out="${script%.R}.Rout"
    Rscript --vanilla "$script" > "$out" 2>&1
    echo "wrote tests/reference/$out ($(grep -c '^REF ' "$out") reference values)"
done
if Rscript -e 'quit(status = !requireNamespace("bayesmeta", quietly = TRUE))' >/dev/null 2>&1; then
    for script in bayesmeta_*.R; do
        R CMD BATCH --no-save --no-restore "$script"
        out="${script%.R}.Rout"
        echo "wrote tests/reference/$out ($(grep -c '^REF ' "$out") reference values)"
    done
else
    echo "bayesmeta not installed: bayesmeta_*.R skipped (install.packages(\"bayesmeta\"))"
fi
