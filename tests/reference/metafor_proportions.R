# metafor on dat.pritz1997 (14 series of patients, events xi of ni, two with 100%): pooled
# proportions as the binomial-normal GLMM by ML (rma.glmm, measure "PLO"), the inverse-variance
# logit (escalc "PLO", rma REML and DL, back-transformed with transf.ilogit) and the
# Freeman-Tukey double arcsine (escalc "PFT" with add = 0, which gives the same values as
# escalc's default: it adds nothing for "PFT"; rma REML, DL and FE, back-transformed with transf.ipft.hm: the inverse with the harmonic mean
# of ni).
# Run: Rscript tests/reference/metafor_proportions.R > tests/reference/metafor_proportions.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py).
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
suppressPackageStartupMessages(library(lme4))
cat("lme4", as.character(packageVersion("lme4")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
dat <- dat.pritz1997
cat("DATA pritz.xi", dat$xi, "\n")
cat("DATA pritz.ni", dat$ni, "\n")
keep <- c("b", "se", "zval", "pval", "ci.lb", "ci.ub", "tau2")
row <- function(r) sapply(keep, function(n) as.numeric(r[[n]]))
pred <- function(prefix, p) {
  ref(prefix, c(pred = p$pred, ci.lb = p$ci.lb, ci.ub = p$ci.ub,
                pi.lb = if (is.null(p$pi.lb)) NA else p$pi.lb,
                pi.ub = if (is.null(p$pi.ub)) NA else p$pi.ub))
}

# binomial-normal GLMM, maximum likelihood (lme4::glmer, adaptive quadrature with 7 points)
g <- rma.glmm(measure = "PLO", xi = xi, ni = ni, data = dat)
print(g)
ref("pritz.glmm", c(row(g), I2 = g$I2, H2 = g$H2))
p <- predict(g, transf = transf.ilogit); print(p)
pred("pritz.glmm.prop", p)

# inverse-variance logit (1/2 added to both cells of the 100% series, escalc's default)
d <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat)
print(d)
for (i in seq_len(nrow(d))) ref(paste0("pritz.plo.", i), c(yi = d$yi[i], vi = d$vi[i]))
for (m in c("REML", "DL")) {
  r <- rma(yi, vi, data = d, method = m)
  print(r)
  ref(paste0("pritz.plo.", m), row(r))
  p <- predict(r, transf = transf.ilogit); print(p)
  pred(paste0("pritz.plo.", m, ".prop"), p)
}

# Freeman-Tukey double arcsine
d <- escalc(measure = "PFT", xi = xi, ni = ni, data = dat, add = 0)
print(d)
for (i in seq_len(nrow(d))) ref(paste0("pritz.pft.", i), c(yi = d$yi[i], vi = d$vi[i]))
for (m in c("REML", "DL", "FE")) {
  r <- rma(yi, vi, data = d, method = m)
  print(r)
  ref(paste0("pritz.pft.", m), row(r))
  p <- predict(r, transf = transf.ipft.hm, targs = list(ni = dat$ni)); print(p)
  pred(paste0("pritz.pft.", m, ".prop"), p)
}
print(transf.ipft.hm)
print(transf.pft)
