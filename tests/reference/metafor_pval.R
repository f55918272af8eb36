# How metafor prints the p-value of a test (its internal .pval(), used by print.rma.uni,
# regtest, ranktest, anova, ...): the fits of dat.bcg (log risk ratios) print p-values from
# "<.0001" to near 1, and a few values at the cutoff 1e-4 and at 1 are passed to .pval directly.
# Run: Rscript tests/reference/metafor_pval.R > tests/reference/metafor_pval.Rout 2>&1
# Lines "PVAL <key> <value> <text>" give a p-value (17 significant digits) and metafor's
# .pval(p, digits = 4, add0 = TRUE) of it (the tests compare survmeta._format.fmt_pval).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
pv <- function(key, p) {
  cat("PVAL", key, sprintf("%.17g", p), metafor:::.pval(p, digits = 4, add0 = TRUE), "\n")
}
dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
r <- rma(yi, vi, data = dat); print(r)
pv("rma.QEp", r$QEp); pv("rma.pval", r$pval)
r <- rma(yi, vi, mods = ~ ablat, data = dat); print(r)
pv("ablat.QEp", r$QEp); pv("ablat.QMp", r$QMp); pv("ablat.pval.intrcpt", r$pval[1])
pv("ablat.pval.ablat", r$pval[2])
r <- rma(yi, vi, mods = ~ year, data = dat); print(r)
pv("year.QMp", r$QMp); pv("year.pval.intrcpt", r$pval[1])
r <- rma(yi, vi, mods = ~ factor(alloc), data = dat, test = "knha"); print(r)
pv("alloc.knha.QMp", r$QMp)
r <- rma(yi, vi, data = dat)
t <- regtest(r); print(t); pv("regtest.rma", t$pval)
t <- regtest(r, model = "lm"); print(t); pv("regtest.lm", t$pval)
t <- ranktest(r); print(t); pv("ranktest", t$pval)
# The systematically allocated studies, common-effect model: Q's p-value below .001 keeps
# four decimals (0.0009).
s <- rma(yi, vi, data = dat, subset = alloc == "systematic", method = "EE"); print(s)
pv("systematic.EE.QEp", s$QEp)
# At the cutoff and at the ends.
for (p in c(1, 0.99996, 0.99994, 0.00015, 0.0001, 0.000099996, 0.00005, 1e-300, 0)) {
  pv(paste0("value.", sprintf("%g", p)), p)
}
