"""A sensitivity-analysis script, as a reviewer would write it.

It loads the registry, adds a newly published study (to a copy, so the
registry itself is untouched), pools the question with the exact engine, runs
a leave-one-out analysis, and saves the figure and a CSV of the results.

Run it from anywhere::

    python examples/sensitivity_script.py                  # writes to a new temporary folder
    python examples/sensitivity_script.py --out results/ --registry studies.toml

Without ``--out`` the files go to a new temporary folder, whose path is
printed, so nothing is written into the working copy.

The new study below is an invented example to show the workflow; it is not a
real paper and is never written to the registry.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import survmeta as sm
from survmeta.living import add_study, plot_sensitivity, sensitivity

QUESTION = "oligo_vs_systemic"

#: The study to add, in the registry format (`survmeta template` prints a blank one).
NEW_STUDY = """\
# Invented example study, to show the workflow (not a real paper).
[[study]]
id = "example2026"
citation = "Example A, et al. Invented example, not a real paper. 2026."
year = 2026
design = "retrospective cohort"
population = "advanced NSCLC with progression on anti-PD-(L)1"

[[study.comparison]]
id = "os_oligo_vs_systemic"
question = "oligo_vs_systemic"
endpoint = "OS after progression"
quote = "invented: HR 0.60 (95% CI 0.38-0.95)"
location = "Abstract"
experimental = { label = "oligo-progression", n = 40 }
reference = { label = "systemic progression", n = 60 }
hr = { estimate = 0.60, ci = [0.38, 0.95] }
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo = Path(__file__).resolve().parent.parent
    parser.add_argument("--registry", default=str(repo / "studies.toml"), help="registry to start from")
    parser.add_argument("--out", default=None,
                        help="folder for the figure and CSV (default: a new temporary folder)")
    args = parser.parse_args(argv)
    if args.out is None:
        out = Path(tempfile.mkdtemp(prefix="survmeta-sensitivity-"))
    else:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    print(f"writing to {out}")

    with tempfile.TemporaryDirectory() as tmp:
        # 1. Work on a copy of the registry, so the bundled file stays as it is.
        registry_path = Path(tmp) / "studies.toml"
        shutil.copyfile(args.registry, registry_path)

        # 2. Add the new study: validated before it is written, atomically.
        added = add_study(registry_path, NEW_STUDY)
        print(added.describe())

        # 3. Load and pool (exact engine, default priors).
        registry = sm.load_registry(registry_path)
        result = sm.pool(registry, question=QUESTION)[QUESTION]
        print(result)

        # 4. Leave-one-out, Bayesian and REML (as metafor's leave1out).
        table = sensitivity(registry, QUESTION, loo=True, cumulative=False, priors=False,
                            methods=False, progress=False)

    # 5. Save a CSV and the figure.
    csv_path = out / f"{QUESTION}-leave-one-out.csv"
    table.to_csv(csv_path, index=False)
    figures = plot_sensitivity(table, out / f"{QUESTION}-leave-one-out.png", question=result.question)
    print(f"wrote {csv_path}")
    for fig in figures:
        print(f"wrote {fig}")
    loo = table[(table["analysis"] == "leave-one-out") & (table["engine"] == "exact")]
    for row in loo.itertuples():
        print(f"  {row.variant}: HR {row.hr:.2f} [{row.hr_lower:.2f}, {row.hr_upper:.2f}], "
              f"P(HR < 1) = {row.p_hr_below_1:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
