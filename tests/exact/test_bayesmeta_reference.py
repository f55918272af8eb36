"""The exact engines against R's bayesmeta 3.3 (``bayesmeta()`` and ``bmr()``).

R (``tests/reference/bayesmeta_engine.R`` and ``bayesmeta_bmr.R``, outputs ``.Rout``),
every call made twice: with bayesmeta's defaults (``delta = 0.01, epsilon = 1e-4``) and
with ``delta = 1e-5, epsilon = 1e-8`` (``bmr()``: ``delta = 1e-3, epsilon = 1e-8``; keys
``*.fine``).

bayesmeta integrates over tau with ``integrate()`` (rel.tol 2^16 eps = 1.5e-11) and finds
quantiles with ``uniroot()`` at the same tolerance, so everything about tau, the marginal
likelihood and the Bayes factors is pinned tightly. The marginals of mu, of the prediction
and of the regression coefficients are, in bayesmeta, a finite normal mixture over a tau grid
(the DIRECT algorithm, Roever and Friede 2017) whose spacing is set by ``delta`` and whose
range ends at the ``1 - epsilon`` quantile of tau; survmeta integrates them by quadrature.
With the defaults the grid is the limiting accuracy, so those numbers get the DIRECT
tolerance; the fine run shows the two converging.
"""

import math

import numpy as np
import pytest

from _exact_data import (
    BCG_ABLAT,
    CRINS_LABELS,
    SCHOOLS_LABELS,
    SCHOOLS_SE,
    SCHOOLS_Y,
    bcg_log_rr,
    crins_log_or,
)
from _rref import rref
from survmeta.exact import bayesmeta, bmr

E = rref("bayesmeta_engine")
B = rref("bayesmeta_bmr")

INTEGRATE = 5e-8   # relative: tau moments, quantiles and intervals, p(y), Bayes factors
                   # (bayesmeta's integrate()/uniroot() at 1.5e-11, survmeta's tau grid at
                   # ~1e-9; measured up to 1.1e-8, the upper ETI end of tau in bmr on dat.bcg)
OPTIMIZE = 1.2e-4  # absolute: modes and 1-D maxima from R's optimize(), whose default tol is
                   # .Machine$double.eps^0.25 = 1.2e-4
OPTIM = 2e-4       # absolute: joint ML / MAP from optim()'s Nelder-Mead (reltol 1e-8 on the
                   # objective); measured up to 8e-5 on Crins
DIRECT = 5e-3      # in posterior SDs: mu and prediction summaries from bayesmeta's default
                   # DIRECT grid (17-19 tau bins here); measured up to 3.1e-3 SD (prediction
                   # interval ends), 1.4e-3 SD for mu
FINE = 2e-5        # in posterior SDs: the same with delta = 1e-5, epsilon = 1e-8 (about 800
                   # bins); measured up to 1.1e-5 SD (shortest-interval ends, Crins)
FINE_BMR = 5e-4    # in posterior SDs: bmr() with delta = 1e-3, epsilon = 1e-8 (92-204 bins);
                   # measured up to 2.8e-4 SD (intercept ETI end, dat.bcg)
FINE_SD = 2e-3     # relative: bmr() coefficient SDs at epsilon = 1e-8 on the documented example
                   # (see test_bmr_coefficient_sd_depends_on_bayesmeta_epsilon)

STATS = ("mean", "sd", "median", "hdi.lb", "hdi.ub", "eti.lb", "eti.ub")


def _schools():
    return bayesmeta(SCHOOLS_Y, SCHOOLS_SE, "halfcauchy(25)", "normal(0, 50)",
                     labels=SCHOOLS_LABELS)


def _crins():
    y, v = crins_log_or()
    return bayesmeta(y, np.sqrt(v), "halfnormal(0.5)", "normal(0, 4)", labels=CRINS_LABELS)


POSTERIORS = {"schools": _schools, "crins": _crins}


def _stats(post, param):
    hdi, eti = post.hdi(param), post.eti(param)
    return {"mean": post.mean(param), "sd": post.sd(param), "median": post.median(param),
            "hdi.lb": hdi[0], "hdi.ub": hdi[1], "eti.lb": eti[0], "eti.ub": eti[1]}


@pytest.fixture(scope="module", params=sorted(POSTERIORS))
def case(request):
    return request.param, POSTERIORS[request.param]()


def test_tau_posterior(case):
    """Posterior of tau: mean, SD, median, shortest and equal-tailed 95% intervals, mode.

    R: ``b <- bayesmeta(schools.y, schools.s, tau.prior = function(t) dhalfcauchy(t, scale = 25),
    mu.prior.mean = 0, mu.prior.sd = 50)`` and ``bayesmeta(es$yi, sqrt(es$vi), tau.prior =
    function(t) dhalfnormal(t, scale = 0.5), mu.prior.mean = 0, mu.prior.sd = 4)`` (Crins);
    ``b$summary[, "tau"]``, ``b$post.interval(tau.level = 0.95, method = "central")``.
    """
    key, post = case
    for run in (key, key + ".fine"):
        for stat, value in _stats(post, "tau").items():
            r = E[f"{run}.tau.{stat}"]
            assert value == pytest.approx(r, rel=INTEGRATE, abs=1e-300), (run, stat)
        assert post.mode("tau") == pytest.approx(E[f"{run}.tau.mode"], abs=OPTIMIZE)


@pytest.mark.parametrize("param, rname", [("mu", "mu"), ("predict", "theta")])
def test_mu_and_prediction_converge_to_survmeta(case, param, rname):
    """mu and the predicted effect of a new study (bayesmeta's ``theta`` column): within the
    DIRECT tolerance at bayesmeta's default grid, within FINE at ``delta = 1e-5``.

    R: as in test_tau_posterior, ``b$summary[, c("mu", "theta")]``,
    ``b$post.interval(mu.level = 0.95, method = "central", predict = TRUE/FALSE)``, and the
    same with ``delta = 1e-5, epsilon = 1e-8``.
    """
    key, post = case
    sd = post.sd(param)
    for run, tol in ((key, DIRECT), (key + ".fine", FINE)):
        for stat, value in _stats(post, param).items():
            assert value == pytest.approx(E[f"{run}.{rname}.{stat}"], abs=tol * sd), (run, stat)
    assert post.mode(param) == pytest.approx(E[f"{key}.fine.{rname}.mode"],
                                             abs=OPTIMIZE + FINE * sd)


def test_the_fine_grid_is_what_moves(case):
    """The default-grid mu results differ from the fine ones by the grid error, not noise:
    the fine run is at least 50 times closer to survmeta than the default run."""
    key, post = case
    worst = {run: max(abs(v - E[f"{run}.mu.{s}"]) for s, v in _stats(post, "mu").items())
             for run in (key, key + ".fine")}
    assert worst[key + ".fine"] * 50 < worst[key]
    assert E[f"{key}.bins"] < 25 and E[f"{key}.fine.bins"] > 500


def test_bayes_factors_and_marginal_likelihood(case):
    """R: ``b$bayesfactor["actual", c("tau=0", "mu=0")]`` and ``b$marginal.likelihood``."""
    key, post = case
    assert post.bayes_factor("tau=0") == pytest.approx(E[f"{key}.bf.tau0"], rel=INTEGRATE)
    assert post.bayes_factor("mu=0") == pytest.approx(E[f"{key}.bf.mu0"], rel=INTEGRATE)
    assert post.marginal_likelihood() == pytest.approx(E[f"{key}.marglik"], rel=INTEGRATE)
    assert E[f"{key}.fine.marglik"] == pytest.approx(E[f"{key}.marglik"], rel=1e-12)


def test_ml_and_map(case):
    """R: ``b$ML`` and ``b$MAP`` (joint rows from optim(), marginal ML from optimize())."""
    key, post = case
    ml, mp = post.ml_estimates(), post.map_estimates()
    assert ml.joint.tau == pytest.approx(E[f"{key}.ML.joint.tau"], abs=OPTIM)
    assert ml.joint.mu == pytest.approx(E[f"{key}.ML.joint.mu"], abs=OPTIM)
    assert ml.marginal.tau == pytest.approx(E[f"{key}.ML.marginal.tau"], abs=OPTIMIZE)
    assert ml.marginal.mu == pytest.approx(E[f"{key}.ML.marginal.mu"], abs=OPTIMIZE)
    assert mp.joint.tau == pytest.approx(E[f"{key}.MAP.joint.tau"], abs=OPTIM)
    assert mp.joint.mu == pytest.approx(E[f"{key}.MAP.joint.mu"], abs=OPTIM)


def test_schools_tau_is_zero_at_the_margin():
    """Eight schools: bayesmeta puts the tau mode, the joint ML and MAP tau and the lower end
    of tau's shortest interval at exactly 0 (``b$summary["mode", "tau"]``, ``b$ML``, ``b$MAP``,
    ``b$post.interval(tau.level = 0.95, method = "shortest")``); so does survmeta."""
    assert E["schools.tau.mode"] == 0.0 and E["schools.ML.joint.tau"] == 0.0
    assert E["schools.MAP.joint.tau"] == 0.0 and E["schools.tau.hdi.lb"] == 0.0
    post = _schools()
    assert post.mode("tau") == 0.0
    assert post.ml_estimates().joint.tau == pytest.approx(0.0, abs=OPTIM)
    assert post.map_estimates().joint.tau == pytest.approx(0.0, abs=OPTIM)
    assert post.hdi("tau", 0.95)[0] == 0.0


# ---------------------------------------------------------------------------------- bmr


@pytest.fixture(scope="module")
def crins_bmr():
    y, v = crins_log_or()
    return bmr(y, np.sqrt(v), {"offset.dac": [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]})


def test_bmr_documented_example_tau(crins_bmr):
    """bayesmeta's documented bmr() example 1 (Crins 2014, IL-2RA type, uniform tau prior,
    flat beta prior): the tau posterior.

    R: ``bmr01 <- bmr(crins.es, X = cbind(bas = ..., dac = ...))`` and the documented
    alternative ``X = cbind("bas" = 1, "offset.dac" = c(1, 0, 1, 0, 0, 0))``;
    ``bmr01$summary[, "tau"]``, ``bmr01$post.interval(tau.level = 0.95, method = "central")``.
    survmeta's intercept is ``bas`` and its slope ``offset.dac``.
    """
    t = crins_bmr.tau
    for run in ("crins.bmr01", "crins.offset", "crins.bmr01.fine", "crins.offset.fine"):
        assert t.mean == pytest.approx(B[f"{run}.tau.mean"], rel=INTEGRATE)
        assert t.sd == pytest.approx(B[f"{run}.tau.sd"], rel=INTEGRATE)
        assert t.median == pytest.approx(B[f"{run}.tau.median"], rel=INTEGRATE)
        assert (t.lower, t.upper) == pytest.approx((B[f"{run}.tau.eti.lb"],
                                                    B[f"{run}.tau.eti.ub"]), rel=INTEGRATE)
    assert math.isnan(B["crins.bmr01.marglik"])   # improper priors: bayesmeta gives NA


def test_bmr_documented_example_coefficients(crins_bmr):
    """Coefficients of the documented example: basiliximab (intercept) and the daclizumab
    offset, median and equal-tailed 95% interval; the ``dac`` coefficient of the first
    parametrisation is their sum, so only its median and interval are compared to R.

    R: ``bmr01b$summary[, c("bas", "offset.dac")]``,
    ``bmr01b$post.interval(beta.level = 0.95, which.beta = j, method = "central")``.
    """
    sd = {c.name: c.sd for c in crins_bmr.coefficients}
    for name, rname in (("intrcpt", "bas"), ("offset.dac", "offset.dac")):
        c = crins_bmr.coef(name)
        for run, tol in (("crins.offset", DIRECT), ("crins.offset.fine", FINE_BMR)):
            assert c.median == pytest.approx(B[f"{run}.{rname}.median"], abs=tol * sd[name])
            assert c.lower == pytest.approx(B[f"{run}.{rname}.eti.lb"], abs=tol * sd[name])
            assert c.upper == pytest.approx(B[f"{run}.{rname}.eti.ub"], abs=tol * sd[name])
            assert c.mean == pytest.approx(B[f"{run}.{rname}.mean"], abs=tol * sd[name])
    # the two regressor matrices of the documentation are the same model
    assert B["crins.bmr01.bas.median"] == pytest.approx(B["crins.offset.bas.median"], rel=1e-12)


def test_bmr_coefficient_sd_depends_on_bayesmeta_epsilon(crins_bmr):
    """Not a disagreement of the models: with a flat tau prior and k - p = 4 the tau
    posterior has a tail ~ tau^-4, so Var(beta) = E[Var(beta | tau)] + Var(E[beta | tau])
    (E[Var] ~ E[tau^2] / n) converges slowly, and bayesmeta's grid ends at the 1 - epsilon
    quantile of tau (18.3 at epsilon = 1e-4, 396 at 1e-8). At epsilon = 1e-4 its SDs are 2.5%
    (bas: 0.6555 vs 0.6725) and 2.5% (offset.dac: 1.1441 vs 1.1732) below survmeta's; at
    epsilon = 1e-8 1.3e-3 below (the tail beyond tau = 396 still holds 0.26% of Var(bas)).
    Truncating survmeta's posterior at the same quantiles gives 0.6534 and 0.6716. Medians
    and intervals (above) hardly depend on the far tail.

    R: ``bmr01b$summary["sd", ]`` with the defaults and with ``epsilon = 1e-8``.
    """
    for name, rname in (("intrcpt", "bas"), ("offset.dac", "offset.dac")):
        sd = crins_bmr.coef(name).sd
        assert sd * 0.97 < B[f"crins.offset.{rname}.sd"] < sd * 0.98
        assert sd == pytest.approx(B[f"crins.offset.fine.{rname}.sd"], rel=FINE_SD)


@pytest.fixture(scope="module")
def bcg_bmr():
    yi, vi = bcg_log_rr()
    return bmr(yi, np.sqrt(vi), {"ablat": BCG_ABLAT}, tau_prior="halfnormal(0.5)",
               beta_sd=[4.0, 1.0])


def test_bmr_proper_priors_bcg(bcg_bmr):
    """dat.bcg, intercept + ablat, halfnormal(0.5) on tau, Normal(0, 4^2) and Normal(0, 1)
    on the coefficients: tau, coefficients and the marginal likelihood.

    R: ``bmr(dat, X = cbind(intrcpt = 1, ablat = dat$ablat), tau.prior = function(t)
    dhalfnormal(t, scale = 0.5), beta.prior.mean = c(0, 0), beta.prior.sd = c(4, 1))``;
    ``$summary``, ``$post.interval(..., method = "central")``, ``$marginal.likelihood``.
    """
    r = bcg_bmr
    t = r.tau
    for run in ("bcg", "bcg.fine"):
        assert (t.mean, t.sd, t.median) == pytest.approx(
            (B[f"{run}.tau.mean"], B[f"{run}.tau.sd"], B[f"{run}.tau.median"]), rel=INTEGRATE)
        assert (t.lower, t.upper) == pytest.approx((B[f"{run}.tau.eti.lb"],
                                                    B[f"{run}.tau.eti.ub"]), rel=INTEGRATE)
    for c in r.coefficients:
        for run, tol in (("bcg", DIRECT), ("bcg.fine", FINE_BMR)):
            for stat, value in (("mean", c.mean), ("sd", c.sd), ("median", c.median),
                                ("eti.lb", c.lower), ("eti.ub", c.upper)):
                assert value == pytest.approx(B[f"{run}.{c.name}.{stat}"], abs=tol * c.sd), (
                    run, c.name, stat)
    assert r.log_marginal_likelihood == pytest.approx(math.log(B["bcg.marglik"]), abs=INTEGRATE)
