# metafor on the CSV that `survmeta export studies.toml --format metafor` writes
# (tests/reference/metafor_export.csv): rma(yi, vi) (REML run to a 1e-12 change in tau^2,
# and DL) per question with two or more rows.
# Run: Rscript tests/reference/metafor_export.R > tests/reference/metafor_export.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- read.csv("metafor_export.csv")
keep <- c("b", "se", "ci.lb", "ci.ub", "tau2", "QE", "I2")
row <- function(r) sapply(keep, function(n) as.numeric(r[[n]]))
cat("REF rows", nrow(dat), "\n")
for (q in unique(dat$question)) {
  if (sum(dat$question == q) < 2) next
  cat("\n", q, "\n")
  print(rma(yi, vi, data = dat, subset = question == q))
  # REML to convergence: by default metafor stops at a 1e-5 change in tau^2
  r <- rma(yi, vi, data = dat, subset = question == q,
           control = list(threshold = 1e-12, maxiter = 1000))
  ref(paste0("export.", q), c(k = r$k, row(r)))
  r <- rma(yi, vi, data = dat, subset = question == q, method = "DL")
  ref(paste0("export.", q, ".DL"), c(k = r$k, row(r)))
}
