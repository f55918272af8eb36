# metafor meta-regression (mixed-effects models, rma(mods=)) on dat.bcg (log risk
# ratios): moderators ablat + year, ablat, factor(alloc); REML, ML, DL, EE and the
# Knapp-Hartung test.
# Run: Rscript tests/reference/metafor_metareg.R > tests/reference/metafor_metareg.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
cat("DATA ablat", dat$ablat, "\n")
cat("DATA year", dat$year, "\n")
cat("DATA alloc", as.integer(factor(dat$alloc)), "\n")
cat("# alloc levels:", levels(factor(dat$alloc)), "\n")
fit <- function(key, r) {
  print(r)
  for (j in seq_along(r$b)) {
    ref(paste0(key, ".b", j - 1), c(b = r$b[j], se = r$se[j], zval = r$zval[j],
                                    pval = r$pval[j], ci.lb = r$ci.lb[j], ci.ub = r$ci.ub[j]))
  }
  ref(key, c(tau2 = r$tau2, se.tau2 = if (is.null(r$se.tau2)) NA else r$se.tau2,
             QE = r$QE, QEp = r$QEp, QM = r$QM, QMp = r$QMp, QMdf1 = r$QMdf[1],
             QMdf2 = r$QMdf[2], I2 = r$I2, H2 = r$H2,
             R2 = if (is.null(r$R2)) NA else r$R2))
}
# REML and ML iterate to a 1e-12 change (metafor default 1e-5) so the stored values
# are the converged ones (the default stops early enough to move QM for ablat + year
# in the 4th decimal: 12.2043 instead of 12.2045).
ctrl <- list(threshold = 1e-12, maxiter = 1000)
mods <- list(ablat_year = ~ ablat + year, ablat = ~ ablat, alloc = ~ factor(alloc))
for (m in names(mods)) {
  for (meth in c("REML", "ML", "DL", "EE")) {
    fit(paste0("mr.", m, ".", meth), rma(yi, vi, mods = mods[[m]], data = dat, method = meth,
                                               control = ctrl))
  }
  fit(paste0("mr.", m, ".REML.knha"), rma(yi, vi, mods = mods[[m]], data = dat, test = "knha",
                                                  control = ctrl))
}
