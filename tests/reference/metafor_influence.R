# metafor on dat.bcg (log risk ratios): the Q-profile interval for tau^2
# (confint.rma.uni), influence diagnostics (influence.rma.uni) and Baujat
# coordinates (baujat.rma).
# Run: Rscript tests/reference/metafor_influence.R > tests/reference/metafor_influence.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
fields <- function(ci) {
  r <- ci$random
  c(tau2 = r[1, 1], tau2.lb = r[1, 2], tau2.ub = r[1, 3], tau = r[2, 1], tau.lb = r[2, 2],
    tau.ub = r[2, 3], I2 = r[3, 1], I2.lb = r[3, 2], I2.ub = r[3, 3], H2 = r[4, 1],
    H2.lb = r[4, 2], H2.ub = r[4, 3])
}
# Q-profile interval: metafor's default (uniroot tol = .Machine$double.eps^0.25) and
# with tol = 1e-12 (the roots themselves, for tight comparisons)
for (m in c("REML", "DL")) {
  r <- rma(yi, vi, data = dat, method = m)
  ci <- confint(r); print(ci, digits = 6)
  ref(paste0("ci.", m), fields(ci))
  ci <- confint(r, control = list(tol = 1e-12)); print(ci, digits = 8)
  ref(paste0("ci.", m, ".tight"), fields(ci))
}
r <- rma(yi, vi, data = dat)
ci <- confint(r, level = 0.90, control = list(tol = 1e-12)); print(ci, digits = 8)
ref("ci.REML.90", fields(ci))
# Trials 1, 2, 3, 4, 7 and 10 (similar estimates): Q(0) lies between the chi^2 quantiles,
# so the lower bound is at 0
r <- rma(yi, vi, data = dat, subset = c(1, 2, 3, 4, 7, 10))
print(r, digits = 6)
ci <- confint(r, control = list(tol = 1e-12)); print(ci, digits = 8)
ref("ci.sub", fields(ci))
cat("REF ci.sub.null", as.integer(ci$ci.null), "\n")
# Nearly identical estimates: Q(0) is below the lower chi^2 quantile, the whole interval
# is at 0 (metafor: "The upper and lower CI bounds for tau^2 both fall below 0")
r <- rma(c(0.1, 0.1, 0.1001), c(0.1, 0.1, 0.1))
ci <- confint(r, control = list(tol = 1e-12)); print(ci, digits = 8)
ref("ci.null", fields(ci))
cat("REF ci.null.null", as.integer(ci$ci.null), "\n")
# Influence diagnostics
cols <- c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")
for (m in c("REML", "DL", "EE")) {
  r <- rma(yi, vi, data = dat, method = m)
  inf <- influence(r)
  print(inf, digits = 6)
  for (i in seq_len(r$k)) {
    ref(paste0("inf.", m, ".", i), c(sapply(cols, function(n) inf$inf[[n]][i]),
                                     dfbs = inf$dfbs[[1]][i], inf = as.integer(inf$is.infl[i])))
  }
}
# Baujat coordinates
for (m in c("EE", "REML")) {
  r <- rma(yi, vi, data = dat, method = m)
  pdf(NULL); b <- baujat(r); invisible(dev.off())
  print(b, digits = 8)
  for (i in seq_len(nrow(b))) ref(paste0("baujat.", m, ".", i), c(x = b$x[i], y = b$y[i]))
}
