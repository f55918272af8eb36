"""Small-study effects: Egger's regression test, Begg's rank test and trim-and-fill.

Each function follows metafor 3.8 (``regtest()``, ``ranktest()``, ``trimfill()``)
applied to ``rma(yi, vi)``:

* :func:`regtest` -- Egger's test. By default the mixed-effects meta-regression
  of the estimates on their standard errors, fitted as ``rma(yi, vi,
  mods = ~ sei)`` with the chosen tau^2 estimator and a z test of the slope
  (``model="rma"``); or the classical weighted least-squares regression with
  weights ``1 / vi`` and multiplicative dispersion, a t test on k - 2 df
  (``model="lm"``). The intercept is the "limit estimate", the effect expected
  as the SE goes to 0.
* :func:`ranktest` -- Begg and Mazumdar's rank correlation: Kendall's tau
  between the standardised deviations ``(yi - theta) / sqrt(vi - 1/sum(wi))``
  from the common-effect estimate and the variances ``vi``. As metafor (which
  calls ``cor.test(..., method = "kendall", exact = TRUE)``), the p-value is
  exact when there are no ties, and otherwise from the normal approximation
  with the tie-corrected variance and no continuity correction.
* :func:`trimfill` -- Duval and Tweedie's trim-and-fill with the L0 or R0
  estimator of the number of missing studies, the side chosen (unless given)
  from the sign of the slope of the Egger meta-regression, and the pooled
  effect re-estimated by :func:`survmeta.exact.rma` on the augmented data
  (z test, as metafor's ``trimfill()``).
* :func:`small_study_tests` -- all three when there are at least ten studies
  (below that they have too little power to be interpreted), or on request
  with a caveat.

Pure numpy/scipy. The tau^2 estimators of the meta-regression (REML, ML, DL,
PM and FE) solve metafor's estimating equations for a model with moderators;
the intercept-only fits reuse :func:`survmeta.exact.rma`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.frequentist import (
    FrequentistResult,
    _check,
    _root_nonneg,
    rma,
)

MODELS = ("rma", "lm")
PREDICTORS = ("sei", "vi")
#: tau^2 estimators available for the meta-regression of :func:`regtest`.
REG_METHODS = ("REML", "ML", "DL", "PM", "FE")
ESTIMATORS = ("L0", "R0")
SIDES = ("left", "right")
#: Fewest studies for which the small-study tests are run without being forced
#: (Sterne et al. 2011, BMJ 343:d4002: below ten the tests have too little power).
MIN_K = 10
LOW_POWER = (f"fewer than {MIN_K} studies: the small-study tests have low power, and a "
             "non-significant result is no evidence that small-study effects are absent")


@dataclass(frozen=True)
class RegtestResult:
    """Result of :func:`regtest` (metafor's ``regtest()``).

    Attributes
    ----------
    model : str
        ``"rma"`` (mixed-effects meta-regression) or ``"lm"`` (weighted regression
        with multiplicative dispersion).
    predictor : str
        ``"sei"`` (standard error) or ``"vi"`` (variance).
    method : str or None
        tau^2 estimator of the meta-regression (None for ``model="lm"``).
    test : str
        ``"z"`` or ``"t"``: the distribution of ``statistic``.
    statistic : float
        z or t statistic of the slope on the predictor (metafor prints it as
        "Test for Funnel Plot Asymmetry: z = ..." or "t = ..., df = ...").
    df : int or None
        Degrees of freedom of the t test (k - 2); None for a z test.
    pval : float
    estimate, ci_lower, ci_upper : float
        The limit estimate (the intercept: the effect as the predictor goes to
        0), with its confidence interval (metafor's "Limit Estimate").
    level : float
    k : int
    tau2 : float or None
        Residual tau^2 of the meta-regression (None for ``model="lm"``).
    """

    model: str
    predictor: str
    method: str | None
    test: str
    statistic: float
    df: int | None
    pval: float
    estimate: float
    ci_lower: float
    ci_upper: float
    level: float
    k: int
    tau2: float | None

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class RanktestResult:
    """Result of :func:`ranktest` (metafor's ``ranktest()``).

    Attributes
    ----------
    tau : float
        Kendall's tau (tau-b) between the standardised effects and the variances.
    pval : float
        Two-sided p-value.
    exact : bool
        True when the p-value is from the exact null distribution (no ties);
        False when ties forced the normal approximation.
    k : int
    """

    tau: float
    pval: float
    exact: bool
    k: int

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class TrimfillResult:
    """Result of :func:`trimfill` (metafor's ``trimfill()``).

    Attributes
    ----------
    estimator : str
        ``"L0"`` or ``"R0"``.
    side : str
        ``"left"`` or ``"right"``: where the missing studies were imputed.
    side_given : bool
        False when the side was chosen from the Egger meta-regression.
    k0 : int
        Number of filled (imputed) studies (metafor's "Estimated number of
        missing studies").
    k0_se : float
        Its SE, as metafor computes it.
    k : int
        Number of observed studies.
    filled_y, filled_sigma : tuple of float
        Estimates and standard errors of the filled studies: the reflections
        ``2 * mu - yi`` of the k0 most extreme studies about the trimmed
        estimate ``mu``, in metafor's order.
    fit : FrequentistResult
        :func:`survmeta.exact.rma` on the observed and filled studies (the
        observed fit when ``k0 = 0``).
    method : str
        tau^2 estimator of every fit.
    """

    estimator: str
    side: str
    side_given: bool
    k0: int
    k0_se: float
    k: int
    filled_y: tuple[float, ...]
    filled_sigma: tuple[float, ...]
    fit: FrequentistResult
    method: str

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["filled_y"] = list(self.filled_y)
        out["filled_sigma"] = list(self.filled_sigma)
        out["fit"] = self.fit.to_dict()
        return out


@dataclass(frozen=True)
class SmallStudyTests:
    """Result of :func:`small_study_tests`.

    Attributes
    ----------
    k : int
    ran : bool
        False when the tests were not run (too few studies and not forced).
    reason : str or None
        Why the tests were not run.
    caveat : str or None
        The low-power caveat when they were forced with k < 10.
    regtest : RegtestResult or None
    ranktest : RanktestResult or None
    trimfill : TrimfillResult or None
    """

    k: int
    ran: bool
    reason: str | None
    caveat: str | None
    regtest: RegtestResult | None
    ranktest: RanktestResult | None
    trimfill: TrimfillResult | None

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {"k": self.k, "ran": self.ran, "reason": self.reason, "caveat": self.caveat,
                "regtest": None if self.regtest is None else self.regtest.to_dict(),
                "ranktest": None if self.ranktest is None else self.ranktest.to_dict(),
                "trimfill": None if self.trimfill is None else self.trimfill.to_dict()}


# --- weighted regression with moderators --------------------------------------------------

def _wls(y, X, w):
    """Weighted least squares: coefficients, (X'WX)^-1 and the residuals."""
    xtwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = xtwx_inv @ (X.T @ (w * y))
    return beta, xtwx_inv, y - X @ beta


def _proj_mods(X, w):
    """metafor's P = W - W X (X'WX)^-1 X'W."""
    xtwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    wx = w[:, None] * X
    return np.diag(w) - wx @ xtwx_inv @ wx.T


def _tau2_mods(y, v, X, method: str) -> float:
    """tau^2 of the meta-regression ``y ~ X`` as metafor's ``rma.uni(mods = X)``."""
    k, p = X.shape
    if method == "FE":
        return 0.0
    if method == "DL":
        P = _proj_mods(X, 1.0 / v)
        return max(0.0, (float(y @ P @ y) - (k - p)) / float(np.trace(P)))
    start = float(np.var(y)) + 1e-2

    def score(t: float) -> float:
        P = _proj_mods(X, 1.0 / (v + t))
        Py = P @ y
        if method == "PM":
            return float(y @ Py) - (k - p)
        trace = float(np.trace(P)) if method == "REML" else float(np.sum(1.0 / (v + t)))
        return -0.5 * trace + 0.5 * float(Py @ Py)

    return _root_nonneg(score, start)


def _design(v, predictor: str):
    col = np.sqrt(v) if predictor == "sei" else v
    return np.column_stack([np.ones_like(v), col])


def _name(value: str, allowed: tuple[str, ...], what: str, upper: bool = False) -> str:
    out = str(value).upper() if upper else str(value)
    if out not in allowed:
        raise SurvmetaError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")
    return out


def regtest(y, sigma, model: str = "rma", predictor: str = "sei", method: str = "REML",
            test: str = "z", level: float = 0.95) -> RegtestResult:
    """Egger's regression test for funnel-plot asymmetry (metafor's ``regtest()``).

    Parameters
    ----------
    y, sigma : array_like
        Estimates (e.g. log HRs) and their standard errors.
    model : {"rma", "lm"}
        ``"rma"``: mixed-effects meta-regression ``rma(yi, vi, mods = ~ predictor)``
        with the tau^2 estimator ``method``; ``"lm"``: the classical Egger test,
        weighted least squares (weights ``1 / vi``) with multiplicative
        dispersion and a t test on k - 2 df.
    predictor : {"sei", "vi"}
        Standard error (Egger) or variance.
    method : {"REML", "ML", "DL", "PM", "FE"}
        tau^2 estimator of the meta-regression (``"EE"`` is accepted for
        ``"FE"``); ignored for ``model="lm"``.
    test : {"z", "knha"}
        For ``model="rma"``: z test, or Knapp-Hartung (t on k - 2 df with the
        scaled SE), as ``rma(..., test = "knha")``.
    level : float
        Confidence level of the limit estimate's interval.

    Returns
    -------
    RegtestResult
    """
    y, v = _check(y, sigma)
    model = _name(model, MODELS, "model")
    predictor = _name(predictor, PREDICTORS, "predictor")
    method = "FE" if str(method).upper() == "EE" else _name(method, REG_METHODS, "method", True)
    if test not in ("z", "knha"):
        raise SurvmetaError(f"unknown test {test!r}; use 'z' or 'knha'")
    level = check_level(level)
    k = y.size
    if k < 3:
        raise SurvmetaError(f"the regression test needs at least three studies, got {k}")
    X = _design(v, predictor)
    if np.ptp(X[:, 1]) == 0.0:
        raise SurvmetaError("the regression test needs standard errors that are not all equal")
    df = k - 2
    tau2: float | None = None
    if model == "lm":
        beta, xtwx_inv, res = _wls(y, X, 1.0 / v)
        vb = xtwx_inv * float(np.sum(res ** 2 / v)) / df
        use_t = True
        method_out = None
    else:
        tau2 = _tau2_mods(y, v, X, method)
        w = 1.0 / (v + tau2)
        beta, vb, res = _wls(y, X, w)
        use_t = test == "knha"
        if use_t:
            vb = vb * float(np.sum(w * res ** 2)) / df
        method_out = method
    se = np.sqrt(np.diag(vb))
    stat = float(beta[1] / se[1])
    if use_t:
        pval = float(2.0 * stats.t.sf(abs(stat), df))
        crit = float(stats.t.ppf(0.5 + level / 2.0, df))
    else:
        pval = float(2.0 * stats.norm.sf(abs(stat)))
        crit = float(stats.norm.ppf(0.5 + level / 2.0))
    b0 = float(beta[0])
    return RegtestResult(model=model, predictor=predictor, method=method_out,
                         test="t" if use_t else "z", statistic=stat, df=df if use_t else None,
                         pval=pval, estimate=b0, ci_lower=b0 - crit * float(se[0]),
                         ci_upper=b0 + crit * float(se[0]), level=level, k=k, tau2=tau2)


# --- rank correlation ---------------------------------------------------------------------

def _kendall_null_cdf(n: int) -> np.ndarray:
    """P(T <= q), q = 0..n(n-1)/2, for the number T of concordant pairs of n untied
    pairs under independence (the distribution of inversions of a random permutation,
    which R's ``cor.test`` uses through ``pkendall``)."""
    dist = np.ones(1)
    for m in range(2, n + 1):
        # adding the m-th element adds 0..m-1 inversions, each with probability 1/m
        new = np.zeros(dist.size + m - 1)
        for j in range(m):
            new[j:j + dist.size] += dist
        dist = new / m
    return np.minimum(np.cumsum(dist), 1.0)


def _ties(x) -> np.ndarray:
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def _kendall(x, y) -> tuple[float, float, bool]:
    """Kendall's tau-b and its two-sided p-value as R's ``cor.test(exact = TRUE)``."""
    n = x.size
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    s = float(np.sum(np.triu(sx * sy, 1)))
    t0 = n * (n - 1) / 2.0
    xt, yt = _ties(x), _ties(y)
    t1, t2 = float(np.sum(xt * (xt - 1))) / 2.0, float(np.sum(yt * (yt - 1))) / 2.0
    if t0 == t1 or t0 == t2:
        raise SurvmetaError("the rank test needs effects and variances that are not all equal")
    r = s / math.sqrt((t0 - t1) * (t0 - t2))
    if xt.size == 0 and yt.size == 0:
        q = round((r + 1.0) * n * (n - 1) / 4.0)
        cdf = _kendall_null_cdf(n)
        p = 1.0 - cdf[q - 1] if q > n * (n - 1) / 4.0 else cdf[q]
        return r, float(min(2.0 * p, 1.0)), True
    var_s = ((n * (n - 1) * (2 * n + 5) - np.sum(xt * (xt - 1) * (2 * xt + 5))
              - np.sum(yt * (yt - 1) * (2 * yt + 5))) / 18.0
             + np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1)) / (2.0 * n * (n - 1))
             + np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
             / (9.0 * n * (n - 1) * (n - 2)))
    z = r * math.sqrt((t0 - t1) * (t0 - t2)) / math.sqrt(float(var_s))
    return r, float(2.0 * stats.norm.sf(abs(z))), False


def ranktest(y, sigma) -> RanktestResult:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest()``).

    Kendall's tau between ``(yi - theta) / sqrt(vi - 1 / sum(1 / vi))``, where
    ``theta`` is the common-effect estimate, and the variances ``vi``. The
    p-value is exact without ties (as ``cor.test(..., exact = TRUE)``, which
    metafor calls); with ties it is the normal approximation with the
    tie-corrected variance of the score, without continuity correction.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.

    Returns
    -------
    RanktestResult
    """
    y, v = _check(y, sigma)
    k = y.size
    if k < 3:
        raise SurvmetaError(f"the rank test needs at least three studies, got {k}")
    w = 1.0 / v
    theta = float(np.sum(w * y) / np.sum(w))
    v_star = v - 1.0 / float(np.sum(w))
    tau, pval, exact = _kendall((y - theta) / np.sqrt(v_star), v)
    return RanktestResult(tau=tau, pval=pval, exact=exact, k=k)


# --- trim and fill ------------------------------------------------------------------------

def _first_ranks(x) -> np.ndarray:
    """Ranks 1..n with ties broken by position (R's ``rank(ties.method = "first")``)."""
    ranks = np.empty(x.size)
    ranks[np.argsort(x, kind="stable")] = np.arange(1, x.size + 1)
    return ranks


def trimfill(y, sigma, side: str | None = None, estimator: str = "L0", method: str = "REML",
             maxiter: int = 100) -> TrimfillResult:
    """Duval and Tweedie's trim-and-fill (metafor's ``trimfill()``).

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    side : {"left", "right"}, optional
        Side on which studies are missing. Default: chosen as metafor does, from
        the slope of the Egger meta-regression on the SE (``"right"`` when it is
        negative, else ``"left"``).
    estimator : {"L0", "R0"}
        Estimator of the number of missing studies.
    method : str
        tau^2 estimator of every fit (any of :func:`survmeta.exact.rma`'s; the
        side is chosen with the meta-regression, which takes REML, ML, DL, PM
        and FE).
    maxiter : int
        Iterations of the trim step before giving up.

    Returns
    -------
    TrimfillResult
    """
    y, v = _check(y, sigma)
    estimator = _name(estimator, ESTIMATORS, "estimator", True)
    method = "FE" if str(method).upper() == "EE" else str(method).upper()
    k = y.size
    if k < 2:
        raise SurvmetaError("trim-and-fill needs at least two studies")
    side_given = side is not None
    if side is None:
        if k < 3 or np.ptp(v) == 0.0:
            raise SurvmetaError("cannot choose the side from fewer than three studies or "
                                "equal standard errors; give side='left' or 'right'")
        X = _design(v, "sei")
        tau2 = _tau2_mods(y, v, X, _name(method, REG_METHODS, "method"))
        beta, _, _ = _wls(y, X, 1.0 / (v + tau2))
        side = "right" if beta[1] < 0 else "left"
    else:
        side = _name(side, SIDES, "side")
    sign = -1.0 if side == "right" else 1.0
    ys = sign * y
    order = np.argsort(ys, kind="stable")
    ys, vs = ys[order], v[order]
    k0, k0_prev, it = 0, -1, 0
    mu = 0.0
    k0_se = 0.0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise SurvmetaError("the trim-and-fill algorithm did not converge")
        mu = rma(ys[:k - k0], np.sqrt(vs[:k - k0]), method=method).estimate
        dev = ys - mu
        signed = np.sign(dev) * _first_ranks(np.abs(dev))
        if estimator == "R0":
            neg = -signed[signed < 0]
            # no study below the estimate (all equal to it): nothing is missing
            est = (k - float(neg.max())) - 1 if neg.size else -1.0
            k0_se = math.sqrt(2.0 * max(0.0, est) + 2.0)
        else:
            sr = float(np.sum(signed[signed > 0]))
            est = (4.0 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * est ** 3 + 27 * est ** 2 + 17 * est
                      - 18 * k * est ** 2 - 18 * k * est + 6 * k ** 2 * est) / 24.0
            k0_se = 4.0 * math.sqrt(var_sr) / (2 * k - 1) if var_sr > 0 else 0.0
        k0 = int(max(0, _round_half_even(est)))
        k0_se = max(0.0, k0_se)
    if k0 > 0:
        filled_y = sign * (2.0 * mu - ys[k - k0:])
        filled_v = vs[k - k0:]
        fit = rma(np.concatenate([y, filled_y]), np.sqrt(np.concatenate([v, filled_v])),
                  method=method)
    else:
        filled_y, filled_v = np.empty(0), np.empty(0)
        fit = rma(y, np.sqrt(v), method=method)
    return TrimfillResult(estimator=estimator, side=side, side_given=side_given, k0=k0,
                          k0_se=k0_se, k=k, filled_y=tuple(float(x) for x in filled_y),
                          filled_sigma=tuple(float(math.sqrt(x)) for x in filled_v), fit=fit,
                          method=method)


def _round_half_even(x: float) -> int:
    """R's ``round()`` (half to even, IEC 60559), as Python's."""
    return int(round(x))


# --- policy ------------------------------------------------------------------------------

def small_study_tests(y, sigma, force: bool = False, method: str = "REML") -> SmallStudyTests:
    """Egger's test, Begg's test and trim-and-fill, when there are enough studies.

    With fewer than ``MIN_K`` (10) studies the tests have too little power to
    be interpreted (Sterne et al. 2011), so they are not run and the result
    says why; ``force=True`` runs them anyway and attaches a low-power caveat.
    With fewer than three studies they cannot be run, forced or not.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    force : bool
        Run the tests even with fewer than ten studies.
    method : str
        tau^2 estimator of the regression test and of trim-and-fill.

    Returns
    -------
    SmallStudyTests
    """
    y, v = _check(y, sigma)
    k = y.size
    reason = None
    if k < 3:
        reason = f"k = {k}: the small-study tests need at least three studies"
    elif k < MIN_K and not force:
        reason = f"k = {k} < {MIN_K}: too few studies, the small-study tests have low power"
    if reason is not None:
        return SmallStudyTests(k=k, ran=False, reason=reason, caveat=None, regtest=None,
                               ranktest=None, trimfill=None)
    sigma = np.sqrt(v)
    return SmallStudyTests(k=k, ran=True, reason=None, caveat=LOW_POWER if k < MIN_K else None,
                           regtest=regtest(y, sigma, method=method),
                           ranktest=ranktest(y, sigma),
                           trimfill=trimfill(y, sigma, method=method))
