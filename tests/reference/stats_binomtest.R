# Exact (Clopper-Pearson) confidence intervals of single-group proportions, as the
# proportion forest plot draws them for each study: binom.test(x, n, conf.level)$conf.int
# (R's stats package).
# Data: the illustrative events / n of tests/plotting/test_single_arm_forest.py (not from a
# publication), with a 0% and a 100% row.
# Run: Rscript tests/reference/stats_binomtest.R > tests/reference/stats_binomtest.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
cat("R", as.character(getRversion()), "\n")
x <- c(A = 52, B = 22, C = 0, D = 9, E = 30, F = 13)
n <- c(A = 63, B = 40, C = 13, D = 20, E = 41, F = 13)
for (level in c(0.95, 0.90)) {
  for (s in names(x)) {
    ci <- binom.test(x[[s]], n[[s]], conf.level = level)$conf.int
    print(binom.test(x[[s]], n[[s]], conf.level = level))
    key <- paste0("cp", round(100 * level), ".", s)
    cat("REF", paste0(key, ".lower"), sprintf("%.17g", ci[1]), "\n")
    cat("REF", paste0(key, ".upper"), sprintf("%.17g", ci[2]), "\n")
  }
}
