# bmr() (bayesmeta's Bayesian meta-regression): the documented example (man/bmr.Rd, example 1:
# Crins et al. 2014, log odds ratios, IL-2RA type as regressor, uniform tau prior, flat beta
# prior), the same model with the documented alternative regressor matrix (intercept "bas" plus
# "offset.dac"), and dat.bcg with an ablat slope under proper priors (as in tests/exact/test_bmr.py).
# Output made with bayesmeta 3.3 (R 4.2.2, metafor 3.8-1, mvtnorm); to regenerate, install
# bayesmeta from CRAN (install.packages("bayesmeta")), then
#   R CMD BATCH --no-save --no-restore bayesmeta_bmr.R   (gives bayesmeta_bmr.Rout)
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py). Each model is fitted
# with bmr()'s defaults (delta = 0.01, epsilon = 1e-4) and once with delta = 1e-3,
# epsilon = 1e-8 (suffix ".fine").
suppressPackageStartupMessages(library(bayesmeta))
print(packageVersion("bayesmeta"))
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
report <- function(key, b) {
  print(b)
  s <- b$summary
  for (j in seq_len(ncol(s))) {
    p <- colnames(s)[j]
    eti <- if (j == 1) b$post.interval(tau.level = 0.95, method = "central")
           else b$post.interval(beta.level = 0.95, which.beta = j - 1, method = "central")
    ref(paste0(key, ".", p), c(mean = s["mean", p], sd = s["sd", p], median = s["median", p],
                               mode = s["mode", p], hdi.lb = s["95% lower", p],
                               hdi.ub = s["95% upper", p], eti.lb = eti[1], eti.ub = eti[2]))
  }
  cat("$marginal.likelihood\n"); print(b$marginal.likelihood)
  cat("$bayesfactor\n"); print(b$bayesfactor)
  cat("$ML\n"); print(b$ML)
  ref(key, c(marglik = b$marginal.likelihood, bins = length(b$support$tau)))
}

# Crins et al. (2014), bayesmeta's data/CrinsEtAl2014.R (rows in the data set's order).
crins <- data.frame(publication = c("Heffron (2003)", "Gibelli (2004)", "Schuller (2005)",
                                    "Ganschow (2005)", "Spada (2006)", "Gras (2008)"),
                    IL2RA = c("daclizumab", "basiliximab", "daclizumab", "basiliximab",
                              "basiliximab", "basiliximab"),
                    exp.AR.events = c(14, 16, 3, 9, 4, 0), exp.total = c(61, 28, 18, 54, 36, 50),
                    cont.AR.events = c(15, 19, 8, 29, 11, 3),
                    cont.total = c(20, 28, 12, 54, 36, 34))
crins.es <- escalc(measure = "OR", ai = exp.AR.events, n1i = exp.total, ci = cont.AR.events,
                   n2i = cont.total, slab = publication, data = crins)
X <- cbind("bas" = as.numeric(crins.es$IL2RA == "basiliximab"),
           "dac" = as.numeric(crins.es$IL2RA == "daclizumab"))
print(cbind(crins.es[, c("publication", "IL2RA", "yi", "vi")], X))
X2 <- cbind("bas" = 1, "offset.dac" = c(1, 0, 1, 0, 0, 0))
for (fine in c(FALSE, TRUE)) {
  dl <- if (fine) 1e-3 else 0.01
  ep <- if (fine) 1e-8 else 1e-4
  sfx <- if (fine) ".fine" else ""
  bmr01 <- bmr(crins.es, X = X, delta = dl, epsilon = ep)
  report(paste0("crins.bmr01", sfx), bmr01)
  bmr01b <- bmr(crins.es, X = X2, delta = dl, epsilon = ep)
  report(paste0("crins.offset", sfx), bmr01b)
}

# dat.bcg, log risk ratios, intercept + absolute latitude; halfnormal(0.5) on tau,
# Normal(0, 4^2) on the intercept and Normal(0, 1) on the slope.
dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
Xb <- cbind("intrcpt" = 1, "ablat" = dat$ablat)
for (fine in c(FALSE, TRUE)) {
  b <- bmr(dat, X = Xb, tau.prior = function(t) dhalfnormal(t, scale = 0.5),
           beta.prior.mean = c(0, 0), beta.prior.sd = c(4, 1),
           delta = if (fine) 1e-3 else 0.01, epsilon = if (fine) 1e-8 else 1e-4)
  report(if (fine) "bcg.fine" else "bcg", b)
}
