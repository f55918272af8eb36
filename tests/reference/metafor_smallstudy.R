# metafor's small-study-effect tests: regtest() (mixed-effects meta-regression on the SE
# with a z test, and the classical weighted regression with a t test), ranktest() (Begg
# and Mazumdar, Kendall's tau with cor.test's exact p when there are no ties) and
# trimfill() (L0 and R0 estimators), on dat.bcg (log risk ratios) and dat.hackshaw1998
# (log odds ratios, passive smoking and lung cancer).
# Run: Rscript tests/reference/metafor_smallstudy.R > tests/reference/metafor_smallstudy.Rout 2>&1
# Lines "REF <key> <value>" and "DATA <key> v1 v2 ..." are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
data_line <- function(key, x) cat("DATA", key, sprintf("%.17g", x), "\n")
reg <- function(t) c(zval = t$zval, pval = t$pval, dfs = ifelse(is.null(t$dfs), NA, t$dfs),
                     est = unname(t$est), ci.lb = t$ci.lb, ci.ub = t$ci.ub)
tf <- function(t) c(k0 = t$k0, se.k0 = t$se.k0, right = as.numeric(t$side == "right"),
                    k = t$k, b = as.numeric(t$b), se = t$se, zval = t$zval, pval = t$pval,
                    ci.lb = t$ci.lb, ci.ub = t$ci.ub, tau2 = t$tau2)
run <- function(name, yi, vi) {
  data_line(paste0(name, ".yi"), yi)
  data_line(paste0(name, ".vi"), vi)
  r <- rma(yi, vi)
  print(r)
  t <- regtest(r); print(t); ref(paste0(name, ".regtest.rma"), c(reg(t), tau2 = t$fit$tau2))
  t <- regtest(r, model = "lm"); print(t); ref(paste0(name, ".regtest.lm"), reg(t))
  t <- ranktest(r); print(t); ref(paste0(name, ".ranktest"), c(tau = unname(t$tau), pval = t$pval))
  for (est in c("L0", "R0")) {
    t <- trimfill(r, estimator = est); print(t)
    ref(paste0(name, ".trimfill.", est), tf(t))
    data_line(paste0(name, ".trimfill.", est, ".fill"), t$yi[t$fill])
  }
  for (s in c("left", "right")) {
    t <- trimfill(r, side = s); print(t)
    ref(paste0(name, ".trimfill.L0.", s), tf(t))
    data_line(paste0(name, ".trimfill.L0.", s, ".fill"), t$yi[t$fill])
  }
}
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
run("bcg", bcg$yi, bcg$vi)
run("hackshaw", dat.hackshaw1998$yi, dat.hackshaw1998$vi)
# Ties among the variances: cor.test cannot give the exact p and uses the normal
# approximation with the tie-corrected variance (it warns "Cannot compute exact p-value with ties").
v2 <- round(dat.hackshaw1998$vi, 2)
data_line("ties.vi", v2)
t <- ranktest(dat.hackshaw1998$yi, v2); print(t)
ref("ties.ranktest", c(tau = unname(t$tau), pval = t$pval))
# Other tau^2 estimators in the meta-regression of regtest().
r <- rma(yi, vi, data = dat.hackshaw1998, method = "DL")
t <- regtest(r); print(t); ref("hackshaw.regtest.rma.DL", c(reg(t), tau2 = t$fit$tau2))
r <- rma(yi, vi, data = dat.hackshaw1998, method = "ML")
t <- regtest(r); print(t); ref("hackshaw.regtest.rma.ML", c(reg(t), tau2 = t$fit$tau2))
t <- regtest(r, predictor = "vi"); print(t); ref("hackshaw.regtest.rma.ML.vi", c(reg(t), tau2 = t$fit$tau2))
# Knapp-Hartung in the meta-regression: t test on k - 2 df.
r <- rma(yi, vi, data = dat.hackshaw1998, test = "knha")
t <- regtest(r); print(t); ref("hackshaw.regtest.rma.knha", c(reg(t), tau2 = t$fit$tau2))
