# bayesmeta() on the eight-schools data (Rubin 1981) and Crins et al. (2014), with the priors
# of tests/exact/test_engine_behaviour.py. Output made with bayesmeta 3.3 (R 4.2.2, metafor
# 3.8-1); to regenerate, install bayesmeta from CRAN (install.packages("bayesmeta")), then
#   R CMD BATCH --no-save --no-restore bayesmeta_engine.R   (gives bayesmeta_engine.Rout)
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py). Each analysis is run
# with bayesmeta's defaults (delta = 0.01, epsilon = 1e-4: the DIRECT discretisation of the tau
# mixture) and once more with delta = 1e-5, epsilon = 1e-8 (suffix ".fine"), which shows how far
# the mu results move with the discretisation.
suppressPackageStartupMessages(library(bayesmeta))
print(packageVersion("bayesmeta"))
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
report <- function(key, b) {
  print(summary(b))
  s <- b$summary
  for (p in c("tau", "mu", "theta")) {
    eti <- b$post.interval(tau.level = if (p == "tau") 0.95 else NA,
                           mu.level = if (p == "tau") NA else 0.95,
                           method = "central", predict = (p == "theta"))
    ref(paste0(key, ".", p), c(mean = s["mean", p], sd = s["sd", p], median = s["median", p],
                               mode = s["mode", p], hdi.lb = s["95% lower", p],
                               hdi.ub = s["95% upper", p], eti.lb = eti[1], eti.ub = eti[2]))
  }
  cat("$bayesfactor\n"); print(b$bayesfactor)
  cat("$marginal.likelihood\n"); print(b$marginal.likelihood)
  cat("$ML\n"); print(b$ML); cat("$MAP\n"); print(b$MAP)
  ref(key, c(bf.tau0 = b$bayesfactor["actual", "tau=0"], bf.mu0 = b$bayesfactor["actual", "mu=0"],
             minbf.tau0 = b$bayesfactor["minimum", "tau=0"],
             minbf.mu0 = b$bayesfactor["minimum", "mu=0"],
             marglik = b$marginal.likelihood, bins = nrow(b$support),
             ML.joint.tau = b$ML["joint", "tau"], ML.joint.mu = b$ML["joint", "mu"],
             ML.marginal.tau = b$ML["marginal", "tau"], ML.marginal.mu = b$ML["marginal", "mu"],
             MAP.joint.tau = b$MAP["joint", "tau"], MAP.joint.mu = b$MAP["joint", "mu"]))
}

# Rubin (1981), as in bayesmeta's data set Rubin1981 (tests/exact/_exact_data.py).
schools.y <- c(28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16)
schools.s <- c(14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6)
for (fine in c(FALSE, TRUE)) {
  b <- bayesmeta(schools.y, schools.s, labels = LETTERS[1:8],
                 tau.prior = function(t) dhalfcauchy(t, scale = 25),
                 mu.prior.mean = 0, mu.prior.sd = 50,
                 delta = if (fine) 1e-5 else 0.01, epsilon = if (fine) 1e-8 else 1e-4)
  report(if (fine) "schools.fine" else "schools", b)
}

# Crins et al. (2014), bayesmeta's data/CrinsEtAl2014.R; log odds ratios by escalc("OR").
crins <- data.frame(publication = c("Heffron (2003)", "Gibelli (2004)", "Schuller (2005)",
                                    "Ganschow (2005)", "Spada (2006)", "Gras (2008)"),
                    exp.AR.events = c(14, 16, 3, 9, 4, 0), exp.total = c(61, 28, 18, 54, 36, 50),
                    cont.AR.events = c(15, 19, 8, 29, 11, 3),
                    cont.total = c(20, 28, 12, 54, 36, 34))
es <- escalc(measure = "OR", ai = exp.AR.events, n1i = exp.total, ci = cont.AR.events,
             n2i = cont.total, slab = publication, data = crins)
for (fine in c(FALSE, TRUE)) {
  b <- bayesmeta(es$yi, sqrt(es$vi), labels = crins$publication, tau.prior = function(t) dhalfnormal(t, scale = 0.5),
                 mu.prior.mean = 0, mu.prior.sd = 4,
                 delta = if (fine) 1e-5 else 0.01, epsilon = if (fine) 1e-8 else 1e-4)
  report(if (fine) "crins.fine" else "crins", b)
}
