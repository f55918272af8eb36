"""Pooling single-group proportions: the binomial-normal model, exact Bayesian and by ML.

The model (the GLMM of a proportion on the logit scale)::

    events_i ~ Binomial(n_i, expit(theta_i)),   theta_i ~ N(mu, tau^2)

keeps each study's binomial likelihood as it is, so small series and series with 0% or
100% need no continuity correction. The likelihood of study ``i`` at ``(mu, tau)`` is the
one-dimensional integral over ``theta_i``; it is computed by adaptive Gauss-Hermite
quadrature (centred at the mode of the integrand, scaled by its curvature; with 7 points
this is lme4's ``nAGQ = 7``, which metafor's ``rma.glmm`` uses).

* :func:`pool_proportions` is the exact Bayesian fit: the posterior of ``(mu, tau)`` on a
  two-dimensional grid (refined around the posterior mass), the pooled proportion
  ``expit(mu)`` with its equal-tailed credible interval and the prediction interval for a
  new study's proportion (``expit(theta_new)``, ``theta_new ~ N(mu, tau^2)`` mixed over the
  posterior). Priors: ``mu_prior`` on the logit (default
  :data:`DEFAULT_PROPORTION_MU_PRIOR`), ``tau_prior`` from :mod:`survmeta.priors` (default
  :data:`DEFAULT_PROPORTION_TAU_PRIOR`).
* :func:`rma_glmm_proportions` is the same model by maximum likelihood, as metafor's
  ``rma.glmm(measure = "PLO")``.
* :func:`rma_proportions` pools transformed proportions by inverse variance, as metafor's
  ``rma()`` on ``escalc(measure = "PLO")`` (logit, back-transformed with ``transf.ilogit``)
  or ``escalc(measure = "PFT")`` (Freeman-Tukey double arcsine, back-transformed with
  ``transf.ipft.hm``, Miller's inverse at the harmonic mean of the ``n_i``).

Only numpy and scipy (and :mod:`survmeta.priors`) are used.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import integrate, interpolate, optimize, special, stats

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.frequentist import rma
from survmeta.priors import Prior, parse_prior

__all__ = [
    "DEFAULT_PROPORTION_MU_PRIOR",
    "DEFAULT_PROPORTION_TAU_PRIOR",
    "ProportionFrequentist",
    "ProportionPool",
    "escalc_proportions",
    "pool_proportions",
    "rma_glmm_proportions",
    "rma_proportions",
    "transf_ipft_hm",
]

#: Default prior on the pooled logit ``mu``: normal, mean 0, SD 2 (95% of its mass on
#: proportions between 2% and 98%).
DEFAULT_PROPORTION_MU_PRIOR = "normal(0, 2)"
#: Default prior on the between-study SD of the logits: half-normal with scale 1.
DEFAULT_PROPORTION_TAU_PRIOR = "halfnormal(1)"

#: Gauss-Hermite points of the per-study integral in the exact Bayesian fit.
BAYES_NAGQ = 20
#: Gauss-Hermite points of the ML fit: lme4's ``nAGQ = 7``, as metafor's ``rma.glmm``.
GLMM_NAGQ = 7
#: Largest tau (logit scale) the grid reaches; beyond it no proportion data say anything.
TAU_MAX = 10.0
#: Grid points (mu, tau) of the refined posterior grid.
GRID = (241, 161)
_NEWTON_STEPS = 40
_ENGINE_WORDS = {"exact": "exact Bayesian", "mcmc": "Bayesian by MCMC"}


# --------------------------------------------------------------------------- data


def _check(events, n) -> tuple[np.ndarray, np.ndarray]:
    x = np.atleast_1d(np.asarray(events, dtype=float))
    m = np.atleast_1d(np.asarray(n, dtype=float))
    if x.ndim != 1 or x.shape != m.shape or x.size == 0:
        raise SurvmetaError("events and n must be non-empty 1-D arrays of equal length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
        raise SurvmetaError("events and n must be finite numbers")
    if np.any(x != np.round(x)) or np.any(m != np.round(m)):
        raise SurvmetaError("events and n must be whole numbers")
    if np.any(m < 1):
        raise SurvmetaError("every n must be at least 1")
    if np.any(x < 0) or np.any(x > m):
        bad = int(np.flatnonzero((x < 0) | (x > m))[0])
        raise SurvmetaError(f"study {bad + 1}: events ({x[bad]:g}) must be between 0 and n "
                            f"({m[bad]:g})")
    return x, m


def _labels(labels, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i + 1) for i in range(k))
    out = tuple(str(s) for s in labels)
    if len(out) != k:
        raise SurvmetaError(f"{len(out)} labels for {k} studies")
    return out


# ----------------------------------------------------------------- likelihood


def _log_binom_coef(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    return special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)


def study_loglik(events, n, mu, tau, nagq: int = BAYES_NAGQ) -> np.ndarray:
    """Log marginal likelihood of each study at each ``(mu, tau)``.

    ``log integral Binomial(x_i | n_i, expit(theta)) N(theta | mu, tau^2) dtheta``,
    by adaptive Gauss-Hermite quadrature with ``nagq`` points (the limit
    ``Binomial(x_i | n_i, expit(mu))`` at ``tau = 0``).

    Parameters
    ----------
    events, n : array_like, shape (k,)
    mu, tau : array_like
        Broadcastable to each other; the result has their shape plus ``(k,)``.
    nagq : int
        Quadrature points.

    Returns
    -------
    ndarray
        Shape ``broadcast(mu, tau).shape + (k,)``.
    """
    x, m = _check(events, n)
    return _study_loglik(x, m, mu, tau, nagq)


@functools.lru_cache(maxsize=None)
def _hermgauss(nagq: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights, computed once per ``nagq`` (read-only arrays)."""
    z, w = np.polynomial.hermite.hermgauss(nagq)
    z.flags.writeable = False
    w.flags.writeable = False
    return z, w


def _study_loglik(x: np.ndarray, m: np.ndarray, mu, tau, nagq: int) -> np.ndarray:
    """:func:`study_loglik` on checked data (the ML fit calls it thousands of times)."""
    mu_a, tau_a = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(tau, dtype=float))
    mu_b = mu_a[..., None]
    tau_b = tau_a[..., None]
    const = _log_binom_coef(x, m)
    zero = tau_b <= 0.0
    tau_s = np.where(zero, 1.0, tau_b)
    # conditional mode of theta: x - n expit(theta) - (theta - mu) / tau^2 = 0 (concave)
    theta = np.broadcast_to(mu_b, np.broadcast_shapes(mu_b.shape, x.shape)).copy()
    inv = 1.0 / tau_s ** 2
    for _ in range(_NEWTON_STEPS):
        p = special.expit(theta)
        grad = x - m * p - (theta - mu_b) * inv
        hess = -m * p * (1.0 - p) - inv
        step = np.clip(-grad / hess, -2.0, 2.0)
        theta = theta + step
        if np.all(np.abs(step) < 1e-12):
            break
    p = special.expit(theta)
    s = 1.0 / np.sqrt(m * p * (1.0 - p) + inv)
    z, w = _hermgauss(nagq)
    nodes = theta[..., None] + math.sqrt(2.0) * s[..., None] * z
    xb, mb = x[:, None], m[:, None]
    log_f = (xb * nodes - mb * np.logaddexp(0.0, nodes)
             - 0.5 * ((nodes - mu_b[..., None]) / tau_s[..., None]) ** 2
             - np.log(tau_s[..., None]) - 0.5 * math.log(2.0 * math.pi))
    log_f += z ** 2 + np.log(w)
    top = log_f.max(axis=-1)
    log_int = top + np.log(np.exp(log_f - top[..., None]).sum(axis=-1)) + np.log(math.sqrt(2.0) * s)
    at_zero = x * mu_b - m * np.logaddexp(0.0, mu_b)
    return const + np.where(zero, at_zero, log_int)


# ------------------------------------------------------------------ back-transforms


def _pft(x, m):
    return 0.5 * (np.arcsin(np.sqrt(x / (m + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (m + 1.0))))


def transf_ipft_hm(y, n) -> np.ndarray:
    """Inverse Freeman-Tukey double arcsine at the harmonic mean of ``n`` (metafor's ``transf.ipft.hm``).

    Miller's (1978) inverse ``p = (1 - sgn(cos 2y) sqrt(1 - (sin 2y + (sin 2y - 1 / sin 2y)
    / n_hm)^2)) / 2`` with ``n_hm = 1 / mean(1 / n_i)``; 0 below the transform of 0 events
    and 1 above that of ``n_hm`` events, as metafor.
    """
    y = np.asarray(y, dtype=float)
    nhm = 1.0 / float(np.mean(1.0 / np.asarray(n, dtype=float)))
    s = np.sin(2.0 * y)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 0.5 * (1.0 - np.sign(np.cos(2.0 * y)) * np.sqrt(1.0 - (s + (s - 1.0 / s) / nhm) ** 2))
    p = np.where(y > _pft(nhm, nhm), 1.0, p)
    p = np.where(y < _pft(0.0, nhm), 0.0, p)
    return p


def escalc_proportions(events, n, measure: str = "PLO", add: float | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Transformed proportions and their sampling variances, as metafor's ``escalc``.

    Parameters
    ----------
    events, n : array_like
    measure : {"PLO", "PFT"}
        ``"PLO"``: logit ``log(x / (n - x))``, variance ``1/x + 1/(n - x)``.
        ``"PFT"``: Freeman-Tukey double arcsine
        ``(asin sqrt(x / (n + 1)) + asin sqrt((x + 1) / (n + 1))) / 2``, variance
        ``1 / (4 n + 2)``.
    add : float, optional
        Added to ``x`` and ``n - x`` of the studies with 0 or ``n`` events (metafor's
        ``to = "only0"``). Default 1/2 for ``"PLO"`` and 0 for ``"PFT"``, which needs
        none (both what escalc does by default: its ``add = 1/2`` leaves ``"PFT"`` alone).

    Returns
    -------
    (yi, vi) : tuple of ndarray
    """
    x, m = _check(events, n)
    measure = str(measure).upper()
    if measure not in ("PLO", "PFT"):
        raise SurvmetaError(f"unknown measure {measure!r}; use 'PLO' or 'PFT'")
    if add is None:
        add = 0.5 if measure == "PLO" else 0.0
    edge = (x == 0) | (x == m)
    x = np.where(edge, x + add, x)
    m = np.where(edge, m + 2.0 * add, m)
    if measure == "PLO":
        if np.any((x <= 0) | (x >= m)):
            raise SurvmetaError("the logit of 0 or n events needs add > 0")
        return np.log(x / (m - x)), 1.0 / x + 1.0 / (m - x)
    return _pft(x, m), 1.0 / (4.0 * m + 2.0)


# ------------------------------------------------------------------ frequentist


@dataclass(frozen=True)
class ProportionFrequentist:
    """A frequentist pooled proportion (names follow metafor's printout).

    Attributes
    ----------
    model : str
        ``"GLMM"`` (binomial-normal, :func:`rma_glmm_proportions`) or ``"inverse variance"``.
    measure : {"PLO", "PFT"}
        Scale of ``estimate``: logit or Freeman-Tukey double arcsine.
    method : str
        tau^2 estimator: ``"ML"`` for the GLMM, else as in :func:`~survmeta.exact.rma`.
    back_transform : str
        How estimates are taken to proportions: ``"transf.ilogit"`` or ``"transf.ipft.hm"``
        (inverse double arcsine at the harmonic mean of n).
    level : float
    k : int
    estimate, se, zval, pval, ci_lower, ci_upper : float
        On the ``measure`` scale.
    tau2, tau : float
    I2, H2 : float
        I^2 in percent, from the "typical" within-study variance as metafor.
    pi_lower, pi_upper : float or None
        Prediction interval on the ``measure`` scale (None for a common-effect fit).
    proportion, proportion_ci, proportion_pi
        Back-transformed estimate, CI and prediction interval (None when there is none).
    """

    model: str
    measure: str
    method: str
    back_transform: str
    level: float
    k: int
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lower: float
    ci_upper: float
    tau2: float
    tau: float
    I2: float
    H2: float
    pi_lower: float | None
    pi_upper: float | None
    proportion: float
    proportion_ci: tuple[float, float]
    proportion_pi: tuple[float, float] | None

    @property
    def name(self) -> str:
        """E.g. ``"GLMM (ML), logit"`` or ``"inverse variance (REML), double arcsine"``."""
        scale = "logit" if self.measure == "PLO" else "Freeman-Tukey double arcsine"
        return f"{self.model} ({self.method}), {scale}"

    def summary(self) -> str:
        """One line: the pooled proportion with its CI and prediction interval."""
        pct = f"{100 * self.level:g}%"
        text = (f"{self.name}: {100 * self.proportion:.1f}% ({pct} CI "
                f"{100 * self.proportion_ci[0]:.1f}% to {100 * self.proportion_ci[1]:.1f}%)")
        if self.proportion_pi is not None:
            text += (f", prediction interval {100 * self.proportion_pi[0]:.1f}% to "
                     f"{100 * self.proportion_pi[1]:.1f}%")
        return f"{text}; tau^2 = {self.tau2:.4f}, k = {self.k} (back-transform {self.back_transform})"

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["proportion_ci"] = list(self.proportion_ci)
        out["proportion_pi"] = None if self.proportion_pi is None else list(self.proportion_pi)
        out["name"] = self.name
        return out


def _typical_v(v: np.ndarray) -> float:
    w = 1.0 / v
    k = v.size
    if k < 2:
        return float(v[0])
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w ** 2).sum()))


def _back(measure: str, n: np.ndarray):
    if measure == "PLO":
        return "transf.ilogit", lambda t: float(special.expit(t))
    return "transf.ipft.hm", lambda t: float(transf_ipft_hm(t, n))


def rma_proportions(events, n, measure: str = "PLO", method: str = "REML",
                    level: float = 0.95, add: float | None = None) -> ProportionFrequentist:
    """Inverse-variance pooling of transformed proportions, as metafor.

    ``rma(yi, vi, method = method)`` on ``escalc(measure, xi, ni)`` (see
    :func:`escalc_proportions` for ``add``), back-transformed with ``transf.ilogit``
    (``"PLO"``) or ``transf.ipft.hm`` with the ``n`` of the studies (``"PFT"``), as
    ``predict(res, transf = ...)``.

    Returns
    -------
    ProportionFrequentist
    """
    x, m = _check(events, n)
    yi, vi = escalc_proportions(x, m, measure, add)
    measure = str(measure).upper()
    fit = rma(yi, np.sqrt(vi), method=method, level=level)
    name, back = _back(measure, m)
    pi = None if fit.pi_lower is None or fit.pi_upper is None else (back(fit.pi_lower),
                                                                    back(fit.pi_upper))
    return ProportionFrequentist(
        model="inverse variance", measure=measure, method=fit.method, back_transform=name,
        level=level, k=fit.k, estimate=fit.estimate, se=fit.se, zval=fit.stat, pval=fit.pval,
        ci_lower=fit.ci_lower, ci_upper=fit.ci_upper, tau2=fit.tau2, tau=fit.tau, I2=fit.I2,
        H2=fit.H2, pi_lower=fit.pi_lower, pi_upper=fit.pi_upper, proportion=back(fit.estimate),
        proportion_ci=(back(fit.ci_lower), back(fit.ci_upper)), proportion_pi=pi)


def _negloglik(params, x, m, nagq):
    mu, tau = params
    return -float(np.sum(_study_loglik(x, m, mu, max(tau, 0.0), nagq)))


def _negloglik_grad(params, x, m, nagq, theta0=None):
    """Negative log-likelihood at ``(mu, log tau)`` and its exact gradient.

    The same adaptive quadrature as :func:`_study_loglik`, vectorised over studies and
    nodes, differentiated as computed: through the integrand at the nodes and through
    the nodes themselves, which move with the conditional mode ``theta_hat`` and the
    scale ``s`` (implicit differentiation of ``d/dtheta log f = 0``). ``theta0`` (updated
    in place) warm-starts the conditional modes from the previous call.
    """
    mu, log_tau = float(params[0]), float(params[1])
    tau = math.exp(log_tau)
    inv = 1.0 / tau ** 2
    theta = np.full(x.shape, mu) if theta0 is None else theta0.copy()
    for _ in range(_NEWTON_STEPS):
        p = special.expit(theta)
        step = np.clip((x - m * p - (theta - mu) * inv) / (m * p * (1.0 - p) + inv), -2.0, 2.0)
        theta += step
        if np.all(np.abs(step) < 1e-12):
            break
    if theta0 is not None:
        theta0[:] = theta
    p = special.expit(theta)
    curv = m * p * (1.0 - p)
    h = curv + inv                                  # -d2/dtheta2 log f at the mode = 1 / s^2
    s = 1.0 / np.sqrt(h)
    z, w = _hermgauss(nagq)
    nodes = theta[:, None] + math.sqrt(2.0) * s[:, None] * z
    d = (nodes - mu) / tau
    log_f = (x[:, None] * nodes - m[:, None] * np.logaddexp(0.0, nodes) - 0.5 * d ** 2
             + (z ** 2 + np.log(w)))
    top = log_f.max(axis=1)
    e = np.exp(log_f - top[:, None])
    tot = e.sum(axis=1)
    ll = (_log_binom_coef(x, m) + top + np.log(tot) + np.log(math.sqrt(2.0) * s)
          - log_tau - 0.5 * math.log(2.0 * math.pi))
    post = e / tot[:, None]
    slope = x[:, None] - m[:, None] * special.expit(nodes) - d / tau  # d/dtheta log f at nodes
    # mode and scale as functions of (mu, log tau)
    dth_mu = inv / h
    dth_lt = 2.0 * (theta - mu) * inv / h
    third = curv * (1.0 - 2.0 * p)
    ds_mu = -0.5 * s ** 3 * (third * dth_mu)
    ds_lt = -0.5 * s ** 3 * (third * dth_lt - 2.0 * inv)
    zz = math.sqrt(2.0) * z
    g_mu = (ds_mu / s + np.sum(post * (d / tau + slope * (dth_mu[:, None]
                                                        + zz * ds_mu[:, None])), axis=1))
    g_lt = (ds_lt / s + np.sum(post * (d ** 2 - 1.0 + slope * (dth_lt[:, None]
                                                              + zz * ds_lt[:, None])), axis=1))
    return -float(np.sum(ll)), np.array([-float(np.sum(g_mu)), -float(np.sum(g_lt))])


#: Smallest tau of the ML fit's search on log tau; below it the fit is the tau = 0 boundary.
_ML_TAU_MIN = 1e-6


def _glmm_ml(x, m, nagq, start) -> tuple[float, float]:
    """ML estimate of ``(mu, tau)``: L-BFGS-B on ``(mu, log tau)`` with the analytic score
    from ``start`` (``mu``, ``tau``), against the boundary ``tau = 0`` (where the ML ``mu``
    is ``logit(sum x / sum n)``)."""
    mu0 = float(special.logit(x.sum() / m.sum()))
    best = (_negloglik((mu0, 0.0), x, m, nagq), mu0, 0.0)
    theta0 = np.full(x.shape, float(start[0]))
    res = optimize.minimize(_negloglik_grad, [float(start[0]), math.log(float(start[1]))],
                            args=(x, m, nagq, theta0), jac=True, method="L-BFGS-B",
                            bounds=[(-50.0, 50.0), (math.log(_ML_TAU_MIN), math.log(TAU_MAX))],
                            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 500})
    mu, tau = float(res.x[0]), math.exp(float(res.x[1]))
    if tau > 1.001 * _ML_TAU_MIN:
        val = _negloglik((mu, tau), x, m, nagq)
        if val < best[0]:
            best = (val, mu, tau)
    return best[1], best[2]


def rma_glmm_proportions(events, n, level: float = 0.95, nagq: int = GLMM_NAGQ
                         ) -> ProportionFrequentist:
    """The binomial-normal model by maximum likelihood, as metafor's ``rma.glmm(measure = "PLO")``.

    The marginal likelihood uses adaptive Gauss-Hermite quadrature with ``nagq`` points
    (7, lme4's ``nAGQ`` in metafor's call). The SE of ``mu`` is from the inverse of the
    observed information of ``(mu, tau)`` (lme4's Hessian-based ``vcov``; of ``mu`` alone
    when ``tau`` is 0). z-based CI; prediction interval ``mu +- z sqrt(se^2 + tau^2)``.
    I^2 and H^2 use the "typical" within-study variance of the ``escalc("PLO")`` variances,
    as metafor.

    Returns
    -------
    ProportionFrequentist
    """
    x, m = _check(events, n)
    level = check_level(level)
    if np.all(x == 0) or np.all(x == m):
        which = "no study has an event" if np.all(x == 0) else "every patient has the event"
        raise SurvmetaError(f"the maximum-likelihood estimate does not exist: {which} "
                            "(the pooled logit runs off to infinity)")
    yi, vi = escalc_proportions(x, m, "PLO")
    start = np.array([float(np.average(yi, weights=1.0 / vi)), max(float(np.std(yi)), 0.1)])
    mu, tau = _glmm_ml(x.astype(float), m.astype(float), nagq, start)
    se = _ml_se(x, m, mu, tau, nagq)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    tau2 = tau ** 2
    s2 = _typical_v(vi)
    pi = (mu - z * math.sqrt(se ** 2 + tau2), mu + z * math.sqrt(se ** 2 + tau2))
    zval = mu / se
    return ProportionFrequentist(
        model="GLMM", measure="PLO", method="ML", back_transform="transf.ilogit", level=level,
        k=int(x.size), estimate=mu, se=se, zval=zval, pval=float(2.0 * stats.norm.sf(abs(zval))),
        ci_lower=mu - z * se, ci_upper=mu + z * se, tau2=tau2, tau=tau,
        I2=100.0 * tau2 / (tau2 + s2), H2=(tau2 + s2) / s2, pi_lower=pi[0], pi_upper=pi[1],
        proportion=float(special.expit(mu)),
        proportion_ci=(float(special.expit(mu - z * se)), float(special.expit(mu + z * se))),
        proportion_pi=(float(special.expit(pi[0])), float(special.expit(pi[1]))))


def _ml_se(x, m, mu, tau, nagq) -> float:
    """SE of mu from the observed information (central differences)."""
    def f(a, b):
        return _negloglik((a, b), x, m, nagq)

    h = 1e-4
    hmm = (f(mu + h, tau) - 2 * f(mu, tau) + f(mu - h, tau)) / h ** 2
    if tau <= 1e-6:
        return 1.0 / math.sqrt(hmm)
    ht = 1e-4 * max(tau, 1e-2)
    htt = (f(mu, tau + ht) - 2 * f(mu, tau) + f(mu, tau - ht)) / ht ** 2
    hmt = (f(mu + h, tau + ht) - f(mu + h, tau - ht) - f(mu - h, tau + ht)
           + f(mu - h, tau - ht)) / (4 * h * ht)
    cov = np.linalg.inv(np.array([[hmm, hmt], [hmt, htt]]))
    return math.sqrt(float(cov[0, 0]))


# ------------------------------------------------------------------ exact Bayesian


@dataclass(frozen=True)
class ProportionPool:
    """Exact Bayesian pooled proportion (binomial-normal model), with frequentist companions.

    Attributes
    ----------
    labels : tuple of str
    events, n : tuple of int
    level : float
        Level of every interval.
    mu_prior, tau_prior : str
        Prior specs (``Prior.spec``).
    mu_mean, mu_sd, mu_median : float
        Posterior of the pooled logit.
    mu_ci : (float, float)
        Equal-tailed credible interval of ``mu``.
    tau_mean, tau_median : float
    tau_ci : (float, float)
        Equal-tailed credible interval of ``tau``.
    proportion : float
        Posterior median of the pooled proportion ``expit(mu)``.
    proportion_mean : float
        Its posterior mean.
    proportion_ci : (float, float)
        Equal-tailed credible interval of ``expit(mu)``.
    proportion_pi : (float, float)
        Equal-tailed prediction interval of a new study's proportion ``expit(theta_new)``.
    engine : {"exact", "mcmc"}
        How the Bayesian fit was made: the exact grid (this module) or PyMC's NUTS
        (:func:`survmeta.models.fit_proportions`, via :func:`survmeta.pooling.pool`).
    companions : tuple of ProportionFrequentist
        GLMM by ML, inverse-variance logit (REML) and Freeman-Tukey (REML), when asked for.
    notes : tuple of str
        Companions that could not be fitted and why (the GLMM's ML estimate does not exist
        when no study has an event, or when every patient of every study has it).
    """

    labels: tuple[str, ...]
    events: tuple[int, ...]
    n: tuple[int, ...]
    level: float
    mu_prior: str
    tau_prior: str
    mu_mean: float
    mu_sd: float
    mu_median: float
    mu_ci: tuple[float, float]
    tau_mean: float
    tau_median: float
    tau_ci: tuple[float, float]
    proportion: float
    proportion_mean: float
    proportion_ci: tuple[float, float]
    proportion_pi: tuple[float, float]
    companions: tuple[ProportionFrequentist, ...] = ()
    notes: tuple[str, ...] = ()
    engine: str = "exact"

    @property
    def k(self) -> int:
        return len(self.events)

    def summary(self) -> str:
        """A few lines: the pooled proportion with its CrI and prediction interval, then companions."""
        pct = f"{100 * self.level:g}%"
        lines = [
            f"Pooled proportion (binomial-normal, {_ENGINE_WORDS.get(self.engine, self.engine)}; "
            f"k = {self.k}): "
            f"{100 * self.proportion:.1f}% ({pct} CrI {100 * self.proportion_ci[0]:.1f}% to "
            f"{100 * self.proportion_ci[1]:.1f}%), prediction interval "
            f"{100 * self.proportion_pi[0]:.1f}% to {100 * self.proportion_pi[1]:.1f}%",
            f"tau (logit scale): median {self.tau_median:.3f} ({pct} CrI {self.tau_ci[0]:.3f} "
            f"to {self.tau_ci[1]:.3f}); priors mu ~ {self.mu_prior}, tau ~ {self.tau_prior}",
        ]
        lines += [c.summary() for c in self.companions]
        lines += list(self.notes)
        return "\n".join(lines)

    def plot(self, **kwargs):
        """Forest plot on a percent axis; see :func:`survmeta.plotting.plot_proportion_forest`.

        matplotlib is imported only here, so this module does not need it.
        """
        from survmeta.plotting.single_arm import plot_proportion_forest

        return plot_proportion_forest(self, **kwargs)

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = {key: (list(v) if isinstance(v, tuple) else v)
               for key, v in asdict(self).items() if key not in ("companions", "notes")}
        out["k"] = self.k
        out["companions"] = [c.to_dict() for c in self.companions]
        out["notes"] = list(self.notes)
        return out


def _grid_posterior(x, m, mu_prior: Prior, tau_prior: Prior, nagq: int):
    """The posterior density on a grid refined around its mass.

    Returns ``(mus, taus, density, wm, wt)``: nodes, the joint density normalised so that
    its trapezoid integral ``wm @ density @ wt`` is 1, and the trapezoid weights.
    """
    if tau_prior.is_point_mass:
        taus = np.array([0.0])
    else:
        lo_t, hi_t = tau_prior.support
        hi_t = min(hi_t, TAU_MAX)
        taus = np.linspace(lo_t, hi_t, 41)
    mus = np.linspace(-20.0, 20.0, 161)

    def logpost(mu_nodes, tau_nodes):
        mm, tt = np.meshgrid(mu_nodes, tau_nodes, indexing="ij")
        out = _study_loglik(x, m, mm, tt, nagq).sum(axis=-1) + mu_prior.logpdf(mm)
        return out + tau_prior.logpdf(tt) if not tau_prior.is_point_mass else out

    for size in ((121, 61), GRID):  # locate the posterior mass, then refine twice
        lp = logpost(mus, taus)
        keep = lp > lp.max() - 40.0
        i = np.flatnonzero(keep.any(axis=1))
        lo_m = mus[max(i[0] - 1, 0)]
        hi_m = mus[min(i[-1] + 1, mus.size - 1)]
        mus = np.linspace(lo_m, hi_m, size[0])
        if taus.size > 1:
            j = np.flatnonzero(keep.any(axis=0))
            lo_t = taus[max(j[0] - 1, 0)]
            hi_t = taus[min(j[-1] + 1, taus.size - 1)]
            taus = np.linspace(lo_t, hi_t, size[1])
    lp = logpost(mus, taus)
    wm = _trapezoid_weights(mus)
    wt = _trapezoid_weights(taus) if taus.size > 1 else np.ones(1)
    dens = np.exp(lp - lp.max())
    dens /= float(wm @ dens @ wt)
    return mus, taus, dens, wm, wt


def _trapezoid_weights(x: np.ndarray) -> np.ndarray:
    h = np.diff(x)
    w = np.zeros_like(x)
    w[:-1] += h / 2
    w[1:] += h / 2
    return w


def _quantiles_1d(nodes: np.ndarray, density: np.ndarray, probs) -> list[float]:
    """Quantiles of a density on a uniform grid.

    The CDF at the nodes is the cumulative Simpson integral of the density; between nodes
    it is the cubic Hermite interpolant with the density as its slope (both of fourth
    order, so tail quantiles, where the density is small, stay accurate).
    """
    if nodes.size == 1:
        return [float(nodes[0])] * len(probs)
    cdf = integrate.cumulative_simpson(density, x=nodes, initial=0.0)
    total = float(cdf[-1])
    spline = interpolate.CubicHermiteSpline(nodes, cdf / total, density / total)
    out = []
    for p in probs:
        i = int(np.clip(np.searchsorted(cdf / total, p), 1, nodes.size - 1))
        a, b = float(nodes[i - 1]), float(nodes[i])
        fa, fb = float(spline(a)) - p, float(spline(b)) - p
        if fa * fb > 0:  # the interpolant is not monotone in this cell; take its linear root
            out.append(float(np.interp(p, cdf / total, nodes)))
        else:
            out.append(float(optimize.brentq(lambda t: float(spline(t)) - p, a, b, xtol=1e-13)))
    return out


def _mixture_quantile(mus, taus, w, p: float) -> float:
    mm, tt = np.meshgrid(mus, taus, indexing="ij")
    mm, tt, ww = mm.ravel(), tt.ravel(), w.ravel()
    keep = ww > 1e-300
    mm, tt, ww = mm[keep], tt[keep], ww[keep]

    def cdf(t):
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(tt > 0, (t - mm) / np.where(tt > 0, tt, 1.0), np.where(t >= mm, np.inf,
                                                                                 -np.inf))
        return float(np.sum(ww * special.ndtr(z))) - p

    lo, hi = float(mm.min() - 10 * tt.max() - 1), float(mm.max() + 10 * tt.max() + 1)
    return float(optimize.brentq(cdf, lo, hi, xtol=1e-12))


def _companions(x, m, level: float
                ) -> tuple[tuple[ProportionFrequentist, ...], tuple[str, ...]]:
    """The frequentist companions of a pooled proportion: GLMM (ML), logit and double
    arcsine (REML); a note for each that cannot be fitted."""
    comps: list[ProportionFrequentist] = []
    notes: list[str] = []
    for fit in (lambda: rma_glmm_proportions(x, m, level),
                lambda: rma_proportions(x, m, "PLO", "REML", level),
                lambda: rma_proportions(x, m, "PFT", "REML", level)):
        try:
            comps.append(fit())
        except SurvmetaError as exc:
            notes.append(f"GLMM companion not fitted: {exc}")
    return tuple(comps), tuple(notes)


def pool_proportions(events, n, *, labels=None, mu_prior=DEFAULT_PROPORTION_MU_PRIOR,
                     tau_prior=DEFAULT_PROPORTION_TAU_PRIOR, level: float = 0.95,
                     companions: bool = True, nagq: int = BAYES_NAGQ) -> ProportionPool:
    """Pool single-group proportions with the binomial-normal model, exact Bayesian.

    Parameters
    ----------
    events, n : array_like
        Events and patients of each study (0 and ``n`` events are allowed).
    labels : sequence of str, optional
    mu_prior : str or Prior
        Prior on the pooled logit (``kind="mu"``), default ``normal(0, 2)``.
    tau_prior : str or Prior
        Prior on the between-study SD of the logits (``kind="tau"``), default
        ``halfnormal(1)``; ``"fixed"`` gives the common-effect model.
    level : float
        Level of the credible and prediction intervals (equal-tailed).
    companions : bool
        Also fit the frequentist companions: the GLMM by ML (:func:`rma_glmm_proportions`),
        the inverse-variance logit and the Freeman-Tukey double arcsine (REML,
        :func:`rma_proportions`).
    nagq : int
        Gauss-Hermite points of each study's integral over its logit.

    Returns
    -------
    ProportionPool
    """
    x, m = _check(events, n)
    level = check_level(level)
    lab = _labels(labels, x.size)
    mu_p = parse_prior(mu_prior, "mu")
    tau_p = parse_prior(tau_prior, "tau")
    mus, taus, dens, wm, wt = _grid_posterior(x, m, mu_p, tau_p, nagq)
    a = (1.0 - level) / 2.0
    f_mu, f_tau = dens @ wt, wm @ dens
    mu_lo, mu_med, mu_hi = _quantiles_1d(mus, f_mu, [a, 0.5, 1 - a])
    mu_mean = float(np.sum(wm * f_mu * mus))
    mu_sd = math.sqrt(max(float(np.sum(wm * f_mu * (mus - mu_mean) ** 2)), 0.0))
    tau_lo, tau_med, tau_hi = _quantiles_1d(taus, f_tau, [a, 0.5, 1 - a])
    w = dens * wm[:, None] * wt[None, :]
    w = w / w.sum()
    if tau_p.is_point_mass:  # common effect: a new study's logit is mu itself
        pi_lo, pi_hi = mu_lo, mu_hi
    else:
        pi_lo = _mixture_quantile(mus, taus, w, a)
        pi_hi = _mixture_quantile(mus, taus, w, 1 - a)
    comps, notes = _companions(x, m, level) if companions else ((), ())
    return ProportionPool(
        labels=lab, events=tuple(int(v) for v in x), n=tuple(int(v) for v in m), level=level,
        mu_prior=mu_p.spec, tau_prior=tau_p.spec, mu_mean=mu_mean, mu_sd=mu_sd,
        mu_median=mu_med, mu_ci=(mu_lo, mu_hi), tau_mean=float(np.sum(wt * f_tau * taus)),
        tau_median=tau_med, tau_ci=(tau_lo, tau_hi), proportion=float(special.expit(mu_med)),
        proportion_mean=float(np.sum(wm * f_mu * special.expit(mus))),
        proportion_ci=(float(special.expit(mu_lo)), float(special.expit(mu_hi))),
        proportion_pi=(float(special.expit(pi_lo)), float(special.expit(pi_hi))),
        companions=comps, notes=notes)
