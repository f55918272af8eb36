# metafor meta-regression on the bundled question oligo_vs_systemic (k = 4), read from the CSV
# that `survmeta export studies.toml --format metafor` writes (tests/reference/metafor_export.csv):
# rma(yi, vi, mods = ~ year) with REML (run to a 1e-12 change in tau^2), REML + Knapp-Hartung
# and DL. The comparability fields (oligo_max_lesions, oligo_max_sites, time_origin, line) are
# not complete for these four rows, so year is the only moderator fitted here; the count of
# rows with a value for each field is printed as REF nonmissing.<field>.
# Run: Rscript tests/reference/metafor_metareg_oligo.R > tests/reference/metafor_metareg_oligo.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- read.csv("metafor_export.csv", na.strings = c("", "NA"))
dat <- dat[dat$question == "oligo_vs_systemic", ]
print(dat[, c("study_id", "comparison", "year", "yi", "sei", "oligo_max_lesions",
              "oligo_max_sites", "time_origin", "line")])
for (f in c("oligo_max_lesions", "oligo_max_sites", "time_origin", "line")) {
  cat("REF", paste0("nonmissing.", f), sum(!is.na(dat[[f]])), "\n")
}
fit <- function(key, r) {
  print(r)
  for (j in seq_along(r$b)) {
    ref(paste0(key, ".b", j - 1), c(b = r$b[j], se = r$se[j], zval = r$zval[j],
                                    pval = r$pval[j], ci.lb = r$ci.lb[j], ci.ub = r$ci.ub[j]))
  }
  ref(key, c(k = r$k, tau2 = r$tau2, QE = r$QE, QEp = r$QEp, QM = r$QM, QMp = r$QMp,
             I2 = r$I2))
}
ctrl <- list(threshold = 1e-12, maxiter = 1000)
fit("oligo.year.REML", rma(yi, vi, mods = ~ year, data = dat, control = ctrl))
fit("oligo.year.REML.knha", rma(yi, vi, mods = ~ year, data = dat, test = "knha", control = ctrl))
fit("oligo.year.DL", rma(yi, vi, mods = ~ year, data = dat, method = "DL"))
