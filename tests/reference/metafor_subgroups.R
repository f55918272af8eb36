# metafor: the test for subgroup differences on dat.bcg (log risk ratios) by allocation,
# with a random-effects model fitted within each subgroup (REML) and the subgroup estimates
# compared by a common-effect model (its Q is the test for subgroup differences, as RevMan
# and Borenstein et al. 2009, ch. 19, compute it), and the same with DL within subgroups.
# Run: Rscript tests/reference/metafor_subgroups.R > tests/reference/metafor_subgroups.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
for (m in c("REML", "DL")) {
  fits <- lapply(split(dat, dat$alloc), function(d) rma(yi, vi, data = d, method = m))
  est <- sapply(fits, function(r) as.numeric(coef(r)))
  se <- sapply(fits, function(r) r$se)
  for (g in names(fits)) ref(paste0("sub.", m, ".", g), c(estimate = est[[g]], se = se[[g]],
                                                          k = fits[[g]]$k))
  comp <- rma(est, sei = se, method = "EE")
  print(comp)
  ref(paste0("sub.", m, ".between"), c(Q = comp$QE, df = comp$k - 1, p = comp$QEp))
}
