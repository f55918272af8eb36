# survival on two groups: coxph (Efron ties), survdiff (log-rank) and cox.zph
# (Grambsch-Therneau score test), the references of survmeta.reconstruction.cox.
# Data: lung (time, status, sex as the group, female = 1) and two small data sets
# written here: heavy ties, and a group with no events after month 4.
# Run: Rscript tests/reference/survival_cox.R > tests/reference/survival_cox.Rout 2>&1
# Lines "REF <key> <value>" are read by the tests (tests/exact/_rref.py); lines
# "DATA <name>.<column> v1 v2 ..." hold the data sets themselves.
suppressPackageStartupMessages(library(survival))
cat("survival", as.character(packageVersion("survival")), "\n")
ref <- function(prefix, x) {
  for (n in names(x)) cat("REF", paste0(prefix, ".", n), sprintf("%.17g", x[[n]]), "\n")
}
data_line <- function(name, d) {
  for (col in c("time", "status", "group"))
    cat("DATA", paste0(name, ".", col), sprintf("%.17g", d[[col]]), "\n")
}
sets <- list(
  lung = data.frame(time = lung$time, status = as.integer(lung$status == 2),
                    group = as.integer(lung$sex == 2)),
  # 40 patients, integer months 1-6: every event time tied, censorings tied with events
  ties = data.frame(
    time   = c(1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6,
               1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6),
    status = c(1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0,
               1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0),
    group  = rep(c(1, 0), each = 20)),
  # group 1 has its events before month 4, then only censorings up to month 20;
  # group 0 has events throughout
  late = data.frame(
    time   = c(0.5, 1.2, 1.2, 2.0, 2.7, 3.1, 3.9, 5.0, 7.5, 9.0, 12.0, 15.0, 18.0, 20.0,
               0.8, 1.5, 2.2, 3.3, 4.4, 5.5, 6.1, 8.2, 9.9, 11.3, 13.0, 14.6, 16.2, 19.0),
    status = c(1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0,
               1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1),
    group  = rep(c(1, 0), each = 14)))
for (name in names(sets)) {
  d <- sets[[name]]
  data_line(name, d)
  for (ctl in c("default", "tight")) {
    control <- if (ctl == "default") coxph.control() else coxph.control(eps = 1e-11, iter.max = 100)
    fit <- coxph(Surv(time, status) ~ group, data = d, ties = "efron", control = control)
    if (ctl == "default") print(summary(fit))
    p <- paste0(name, ".", ctl)
    ref(paste0(p, ".cox"), c(coef = unname(coef(fit)), se = sqrt(fit$var[1, 1]),
                             loglik0 = fit$loglik[1], loglik = fit$loglik[2],
                             wald = unname(fit$wald.test), score = fit$score,
                             lrt = 2 * diff(fit$loglik), iter = fit$iter))
    for (tr in c("km", "identity", "rank", "log")) {
      z <- cox.zph(fit, transform = tr)
      if (ctl == "default" && tr == "km") print(z)
      ref(paste0(p, ".zph.", tr), c(chisq = z$table["group", "chisq"],
                                   p = z$table["group", "p"]))
    }
  }
  sd <- survdiff(Surv(time, status) ~ group, data = d)
  print(sd)
  # rows of obs/exp in the order of the group levels: 0 then 1
  ref(paste0(name, ".logrank"), c(chisq = sd$chisq, obs0 = sd$obs[1], obs1 = sd$obs[2],
                                  exp0 = sd$exp[1], exp1 = sd$exp[2], var = sd$var[2, 2],
                                  p = pchisq(sd$chisq, 1, lower.tail = FALSE)))
}
