# Pooled median survival of single-group studies: metafor on the log medians (SEs from
# the 95% CIs) and the median of medians (MM) and weighted median of medians (WM) with
# the sign-test interval of McGrath et al. (2019, Stat Med 38:969-984), written out as
# metamedian's pool.med(yi, wi, norm.approx = TRUE) computes it (metamedian is not
# installed here; its weighted quantile is Hmisc::wtd.quantile).
# Data: illustrative medians (months), not from a publication. Study D's median was not
# reached (excluded); study C's upper limit was not reached (SE from the lower half).
# Run: Rscript tests/reference/metafor_medians.R > tests/reference/metafor_medians.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages({library(metafor); library(Hmisc)})
cat("metafor", as.character(packageVersion("metafor")),
    "Hmisc", as.character(packageVersion("Hmisc")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
med <- c(A = 3.0, B = 2.5, C = 4.1, E = 2.0, F = 5.3, G = 3.6, H = 1.9)
lo  <- c(A = 2.1, B = 1.8, C = 2.9, E = 1.5, F = 3.0, G = 2.2, H = 1.2)
hi  <- c(A = 4.2, B = 3.9, C = NA,  E = 2.8, F = 9.0, G = 6.3, H = 3.1)
n   <- c(A = 40,  B = 25,  C = 60,  E = 22,  F = 50,  G = 35,  H = 18)
z <- qnorm(0.975)
yi <- log(med)
sei <- ifelse(is.na(hi), (log(med) - log(lo)) / z, (log(hi) - log(lo)) / (2 * z))
ref("med.data", c(sei.A = sei[["A"]], sei.C = sei[["C"]]))
for (m in c("REML", "DL", "EE")) {
  r <- rma(yi = yi, sei = sei, method = m)
  print(r)
  ref(paste0("med.", m), c(b = as.numeric(r$b), se = r$se, ci.lb = r$ci.lb, ci.ub = r$ci.ub,
                          tau2 = r$tau2))
  p <- predict(r, transf = exp)
  print(p)
  ref(paste0("med.", m, ".exp"), c(pred = p$pred, ci.lb = p$ci.lb, ci.ub = p$ci.ub,
                                  pi.lb = if (m == "EE") NA else p$pi.lb,
                                  pi.ub = if (m == "EE") NA else p$pi.ub))
}
k <- length(med)
for (lev in c(0.95, 0.9)) {
  p <- min(0.5, qnorm(1 - (1 - lev) / 2) / (2 * sqrt(k)))
  probs <- c(0.5 - p, 0.5, 0.5 + p)
  mm <- unname(quantile(med, probs = probs))
  wm <- unname(wtd.quantile(med, weights = n, probs = probs))
  tag <- sprintf("%02d", round(100 * lev))
  cat("MM", tag, mm, "\nWM", tag, wm, "\n")
  ref(paste0("med.mm", tag), c(est = mm[2], ci.lb = mm[1], ci.ub = mm[3]))
  ref(paste0("med.wm", tag), c(est = wm[2], ci.lb = wm[1], ci.ub = wm[3]))
}
# non-integer weights
w2 <- c(1.5, 2.25, 0.5, 3, 1, 2.5, 0.75)
wq <- unname(wtd.quantile(med, weights = w2, probs = c(0.2, 0.5, 0.8)))
ref("med.wq", c(q20 = wq[1], q50 = wq[2], q80 = wq[3]))
