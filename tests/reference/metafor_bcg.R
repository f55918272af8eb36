# metafor on dat.bcg (log risk ratios): every tau^2 estimator with its SE, the
# Knapp-Hartung test, leave1out and cumul.
# Run: Rscript tests/reference/metafor_bcg.R > tests/reference/metafor_bcg.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
keep <- c("b", "se", "zval", "pval", "ci.lb", "ci.ub", "tau2", "se.tau2", "QE", "QEp", "I2", "H2")
row <- function(r) sapply(keep, function(n) as.numeric(r[[n]]))
for (m in c("REML", "DL", "PM", "ML", "HE", "SJ", "HS", "EB", "EE")) {
  r <- rma(yi, vi, data = dat, method = m)
  print(r)
  ref(paste0("bcg.", m), row(r))
  if (m != "EE") {
    p <- predict(r); ref(paste0("bcg.", m, ".pred"), c(pi.lb = p$pi.lb, pi.ub = p$pi.ub))
  }
}
r <- rma(yi, vi, data = dat, test = "knha"); print(r)
ref("bcg.REML.knha", row(r))
r <- rma(yi, vi, data = dat)
l <- leave1out(r)
for (i in seq_along(l$estimate)) ref(paste0("bcg.l1o.", i), c(estimate = l$estimate[i],
                                                            se = l$se[i], tau2 = l$tau2[i]))
cu <- cumul(r, order = dat$year)
for (i in seq_along(cu$estimate)) ref(paste0("bcg.cumul.", i), c(estimate = cu$estimate[i],
                                                               se = cu$se[i], tau2 = cu$tau2[i]))
