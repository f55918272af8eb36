# Truth for the reconstructKM walkthrough example (validation/km_published/).
# The simulation is the one printed in the reconstructKM vignette
# (ryanrsun/reconstructKM, vignettes/walkthrough.rmd, GPL-3; the data are
# re-simulated here, not copied): 200 patients, set.seed(2), exponential
# event times (mean 5 placebo, 7 treatment; two competing causes combined),
# exponential censoring with mean 5. Base R and survival only.
suppressPackageStartupMessages(library(survival))
cat("survival", as.character(packageVersion("survival")), "\n")
suppressWarnings(RNGversion("3.5.0"))  # the vignette (2019) was knitted with the pre-3.6 sampler
set.seed(2)
n <- 200
arm <- factor(sample(1:2, n, replace = TRUE), 1:2, c("Placebo", "Treatment"))
lambda <- ifelse(arm == "Placebo", 1/5, 1/7)
time1 <- rexp(n = n, rate = lambda)
time2 <- rexp(n = n, rate = lambda)
cens_time <- rexp(n = n, rate = 1/5)
event_time <- pmin(time1, time2)
obs_time <- ifelse(event_time < cens_time, event_time, cens_time)
status <- ifelse(cens_time < event_time, 0, 1)
cat("n per arm:", table(arm), "\n")
fit <- survfit(Surv(obs_time, status) ~ arm)
print(summary(fit, times = 0:10)$n.risk)
cat("events per arm:", tapply(status, arm, sum), "\n")
print(fit)
cx <- coxph(Surv(obs_time, status) ~ I(arm == "Treatment"), ties = "efron")
cat(sprintf("log HR (treatment vs placebo) %.6f se %.6f\n", coef(cx), sqrt(vcov(cx))[1]))
cat(sprintf("HR %.4f 95%% CI %.4f %.4f\n", exp(coef(cx)), exp(confint(cx))[1], exp(confint(cx))[2]))
ref <- function(key, value) cat("REF", key, sprintf("%.17g", value), "\n")
ref("reconstructkm.cox.log_hr", coef(cx))
ref("reconstructkm.cox.se", sqrt(vcov(cx))[1])
ref("reconstructkm.events.treatment", sum(status[arm == "Treatment"]))
ref("reconstructkm.events.placebo", sum(status[arm == "Placebo"]))
