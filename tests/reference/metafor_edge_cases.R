# metafor at the edges: identical estimates, k = 1, k = 2, the common-effect model.
# Run: Rscript tests/reference/metafor_edge_cases.R > tests/reference/metafor_edge_cases.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/reference/rref.py); the rest is
# metafor's own printout, kept for reading.
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
fit <- function(...) withCallingHandlers(rma(...), warning = function(w) {
  cat("WARNING:", conditionMessage(w), "\n"); invokeRestart("muffleWarning")
})
keep <- c("b", "se", "zval", "pval", "ci.lb", "ci.ub", "tau2", "QE", "QEp", "I2", "H2")
row <- function(r) { x <- sapply(keep, function(n) as.numeric(r[[n]])); x }
st <- function(l) if (!is.null(l$tval)) l$tval else l$zval  # list.rma names it tval under knha

## 1. identical estimates (HR 0.75 three times)
yi <- log(c(0.75, 0.75, 0.75)); sei <- c(0.1, 0.2, 0.15)
for (m in c("REML", "DL", "PM", "ML")) {
  r <- fit(yi, sei = sei, method = m, test = "knha")
  if (m == "REML") print(r)
  ref(paste0("ident.", m, ".knha"), row(r))
  p <- predict(r); ref(paste0("ident.", m, ".knha.pred"), c(pi.lb = p$pi.lb, pi.ub = p$pi.ub))
}
r <- fit(yi, sei = sei, test = "knha")
l <- leave1out(r); print(l)
for (i in 1:3) ref(paste0("ident.l1o.knha.", i), c(estimate = l$estimate[i], se = l$se[i],
                                                 zval = st(l)[i], pval = l$pval[i],
                                                 ci.lb = l$ci.lb[i], ci.ub = l$ci.ub[i]))
cu <- cumul(r); print(cu)
for (i in 1:3) ref(paste0("ident.cumul.knha.", i), c(estimate = cu$estimate[i], se = cu$se[i],
                                                   zval = st(cu)[i], pval = cu$pval[i],
                                                   ci.lb = cu$ci.lb[i], ci.ub = cu$ci.ub[i]))
r0 <- fit(c(0, 0), sei = c(0.1, 0.2), test = "knha")
ref("zero.knha", c(se = r0$se, zval = r0$zval, pval = r0$pval, ci.lb = r0$ci.lb, ci.ub = r0$ci.ub))

## 2. k = 1
for (m in c("REML", "EE")) {
  r <- fit(0.1, sei = 0.2, method = m)
  print(r)
  ref(paste0("k1.", m), row(r))
}
cat("k = 1 with test = \"knha\":\n")
r <- fit(0.1, sei = 0.2, test = "knha")
ref("k1.REML.knha", c(row(r), test_is_z = as.numeric(r$test == "z")))

## 3. k = 2: Knapp-Hartung, and leave1out with Knapp-Hartung (one study left per fit)
yi <- c(-0.3, 0.1); sei <- c(0.2, 0.3)
r <- fit(yi, sei = sei, test = "knha"); print(r)
ref("k2.REML.knha", row(r))
cat("leave1out(rma(yi, sei = sei, test = \"knha\")):\n")
l <- withCallingHandlers(leave1out(r), warning = function(w) {
  cat("WARNING:", conditionMessage(w), "\n"); invokeRestart("muffleWarning")
})
print(l)
for (i in 1:2) ref(paste0("k2.l1o.knha.", i), c(estimate = l$estimate[i], se = l$se[i],
                                              zval = st(l)[i], pval = l$pval[i],
                                              ci.lb = l$ci.lb[i], ci.ub = l$ci.ub[i],
                                              I2 = l$I2[i], H2 = l$H2[i], QEp = l$Qp[i]))
z1 <- fit(yi[2], sei = sei[2], test = "z")
ref("k2.l1o.z.1", c(pval = z1$pval, ci.lb = z1$ci.lb))

## 4. the common-effect model: predict() gives no prediction interval
r <- fit(yi, sei = sei, method = "EE"); p <- predict(r); print(p)
cat("names(predict(rma(yi, sei = sei, method = \"EE\"))):", names(as.data.frame(p)), "\n")
ref("k2.EE.pred", c(pred = p$pred, ci.lb = p$ci.lb, ci.ub = p$ci.ub,
                    has_pi = as.numeric(!is.null(p$pi.lb))))
r <- fit(yi, sei = sei, method = "REML"); p <- predict(r)
ref("k2.REML.pred", c(pi.lb = p$pi.lb, pi.ub = p$pi.ub))
