"""Heterogeneity intervals and influence diagnostics, following metafor.

:func:`confint_tau2` is the Q-profile interval of ``confint.rma.uni()``
(Viechtbauer 2007): the bounds of tau^2 are where the generalised Q statistic
``Q(tau^2) = sum w_i (y_i - mu(tau^2))^2``, ``w_i = 1 / (v_i + tau^2)``, equals
the upper and lower ``(1 - level) / 2`` quantiles of chi^2 on k - 1 df. As in
metafor, the search runs over ``[0, max(100, 10 tau^2)]``; a bound whose root
is below 0 is set to 0, and when ``Q(0)`` is already below the lower quantile
both bounds are 0 (metafor's "null/empty set"). The intervals for tau, I^2 and
H^2 are transformations of that of tau^2 with the "typical" within-study
variance of :func:`survmeta.exact.rma`.

:func:`influence` gives the case diagnostics of ``influence.rma.uni()`` for an
intercept-only model with the z-test (Viechtbauer & Cheung 2010), and
:func:`baujat` the coordinates of ``baujat()`` (Baujat et al. 2002).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, stats

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.frequentist import METHODS, _check, _q_gen, _tau2, _wmean

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: metafor's column names of ``influence()`` in its printed order.
INFLUENCE_COLUMNS = ("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat",
                     "weight", "dfbs", "inf")


def _method(method: str) -> str:
    method = "FE" if str(method).upper() == "EE" else str(method).upper()
    if method not in METHODS:
        raise SurvmetaError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    return method


def _typical_v(v) -> float:
    """metafor's "typical" within-study variance ``x$vt``."""
    w = 1.0 / v
    return float((v.size - 1) * w.sum() / (w.sum() ** 2 - np.sum(w ** 2)))


@dataclass(frozen=True)
class Tau2Interval:
    """Result of :func:`confint_tau2` (rows of metafor's ``confint()`` table).

    Attributes
    ----------
    method : str
        Estimator of the point estimate of tau^2.
    level : float
    k : int
    tau2, tau2_lower, tau2_upper : float
    tau, tau_lower, tau_upper : float
    I2, I2_lower, I2_upper : float
        In percent.
    H2, H2_lower, H2_upper : float
    ci_null : bool
        True when ``Q(0)`` is below the lower chi^2 quantile, so both bounds
        are 0 (metafor: "the CIs are therefore equal to the null/empty set").
    upper_at_max : bool
        True when ``Q`` at the end of the search interval is still above the
        lower quantile, so the upper bound is that end (metafor prints ``>``).
    """

    method: str
    level: float
    k: int
    tau2: float
    tau2_lower: float
    tau2_upper: float
    tau: float
    tau_lower: float
    tau_upper: float
    I2: float
    I2_lower: float
    I2_upper: float
    H2: float
    H2_lower: float
    H2_upper: float
    ci_null: bool
    upper_at_max: bool


def confint_tau2(y, sigma, method: str = "REML", level: float = 0.95) -> Tau2Interval:
    """Q-profile confidence interval for tau^2, tau, I^2 and H^2 (metafor's ``confint()``).

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    method : str
        tau^2 estimator of the point estimate (any random-effects method of
        :func:`survmeta.exact.rma`); the interval itself does not depend on it.
    level : float
        Confidence level.

    Returns
    -------
    Tau2Interval

    Raises
    ------
    SurvmetaError
        For fewer than two studies, the common-effect model or a bad level.
    """
    y, v = _check(y, sigma)
    method = _method(method)
    if method == "FE":
        raise SurvmetaError("the common-effect model has no tau^2 to give an interval for")
    k = y.size
    if k < 2:
        raise SurvmetaError("an interval for tau^2 needs at least two studies")
    level = check_level(level)
    tau2 = _tau2(y, v, method)
    alpha = 1.0 - level
    crit_u = float(stats.chi2.isf(alpha / 2.0, k - 1))
    crit_l = float(stats.chi2.ppf(alpha / 2.0, k - 1))
    t_max = max(100.0, 10.0 * tau2)
    q_min, q_max = _q_gen(y, v, 0.0), _q_gen(y, v, t_max)

    def root(target: float) -> float:
        return float(optimize.brentq(lambda t: _q_gen(y, v, t) - target, 0.0, t_max,
                                     xtol=1e-14, rtol=1e-13, maxiter=1000))

    ci_null = upper_at_max = False
    if q_min < crit_l:
        lower = upper = 0.0
        ci_null = True
    elif q_max > crit_l:
        upper, upper_at_max = t_max, True
    else:
        upper = root(crit_l)
    if q_max > crit_u:
        lower = upper = t_max
        upper_at_max = True
    elif q_min < crit_u:
        lower = 0.0
    else:
        lower = root(crit_u)
    vt = _typical_v(v)

    def i2(t: float) -> float:
        return 100.0 * t / (vt + t)

    return Tau2Interval(
        method=method, level=level, k=k, tau2=tau2, tau2_lower=lower, tau2_upper=upper,
        tau=math.sqrt(tau2), tau_lower=math.sqrt(lower), tau_upper=math.sqrt(upper),
        I2=i2(tau2), I2_lower=i2(lower), I2_upper=i2(upper), H2=tau2 / vt + 1.0,
        H2_lower=lower / vt + 1.0, H2_upper=upper / vt + 1.0, ci_null=ci_null,
        upper_at_max=upper_at_max)


@dataclass(frozen=True)
class Influence:
    """Result of :func:`influence`: one entry per study (metafor's ``influence()``).

    Attributes
    ----------
    method : str
    labels : tuple of str
    rstudent : numpy.ndarray
        Externally standardised residuals: ``(y_i - mu_(-i)) / sqrt(v_i +
        tau2_(-i) + var(mu_(-i)))``.
    dffits : numpy.ndarray
        ``(mu - mu_(-i)) / sqrt(h_i (tau2_(-i) + v_i))``.
    cook_d : numpy.ndarray
        Cook's distance ``(mu - mu_(-i))^2 / var(mu)``.
    cov_r : numpy.ndarray
        Covariance ratio ``var(mu_(-i)) / var(mu)``.
    tau2_del, QE_del : numpy.ndarray
        tau^2 and Cochran's Q with study i left out.
    hat : numpy.ndarray
        Hat values ``w_i / sum(w)``.
    weight : numpy.ndarray
        Weights in percent.
    dfbs : numpy.ndarray
        DFBETAS of the intercept: ``(mu - mu_(-i))`` over the SE of the pooled
        estimate of all k studies with weights ``1 / (v_j + tau2_(-i))``.
    influential : numpy.ndarray of bool
        metafor's rule: ``|dffits| > 3 sqrt(1 / (k - 1))``, or
        ``pchisq(cook.d, 1) > 0.5``, or ``hat > 3 / k``, or ``|dfbs| > 1``.
    """

    method: str
    labels: tuple[str, ...]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    QE_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbs: np.ndarray
    influential: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """pandas DataFrame with metafor's column names (``inf`` is ``"*"`` or ``""``)."""
        import pandas as pd

        data = {"rstudent": self.rstudent, "dffits": self.dffits, "cook.d": self.cook_d,
                "cov.r": self.cov_r, "tau2.del": self.tau2_del, "QE.del": self.QE_del,
                "hat": self.hat, "weight": self.weight, "dfbs": self.dfbs,
                "inf": np.where(self.influential, "*", "")}
        return pd.DataFrame(data, index=pd.Index(list(self.labels), name="study"),
                            columns=list(INFLUENCE_COLUMNS))


def _labels(labels, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i + 1) for i in range(k))
    out = tuple(str(lab) for lab in labels)
    if len(out) != k:
        raise SurvmetaError(f"got {len(out)} labels for {k} estimates")
    return out


def influence(y, sigma, method: str = "REML", labels=None) -> Influence:
    """Case influence diagnostics as metafor's ``influence.rma.uni()``.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    method : str
        tau^2 estimator (as in :func:`survmeta.exact.rma`; z-test).
    labels : sequence of str, optional
        Study labels (default ``"1"``, ``"2"``, ...).

    Returns
    -------
    Influence
    """
    y, v = _check(y, sigma)
    method = _method(method)
    k = y.size
    if k < 2:
        raise SurvmetaError("influence diagnostics need at least two studies")
    names = _labels(labels, k)
    tau2 = _tau2(y, v, method)
    mu, w = _wmean(y, v, tau2)
    vb = 1.0 / w.sum()
    hat = w / w.sum()
    out = {name: np.empty(k) for name in ("mu", "vmu", "tau2", "qe", "vball")}
    for i in range(k):
        keep = np.arange(k) != i
        t_i = _tau2(y[keep], v[keep], method)
        m_i, w_i = _wmean(y[keep], v[keep], t_i)
        out["mu"][i], out["vmu"][i], out["tau2"][i] = m_i, 1.0 / w_i.sum(), t_i
        out["qe"][i] = _q_gen(y[keep], v[keep], 0.0)
        out["vball"][i] = 1.0 / np.sum(1.0 / (v + t_i))
    resid = y - out["mu"]
    resid[np.abs(resid) < 100 * np.finfo(float).eps] = 0.0
    rstudent = resid / np.sqrt(v + out["vmu"] + out["tau2"])
    diff = mu - out["mu"]
    dffits = diff / np.sqrt(hat * (out["tau2"] + v))
    cook = diff ** 2 / vb
    dfbs = diff / np.sqrt(out["vball"])
    infl = ((np.abs(dffits) > 3.0 * math.sqrt(1.0 / (k - 1))) | (stats.chi2.cdf(cook, 1) > 0.5)
            | (hat > 3.0 / k) | (np.abs(dfbs) > 1.0))
    return Influence(method=method, labels=names, rstudent=rstudent, dffits=dffits,
                     cook_d=cook, cov_r=out["vmu"] / vb, tau2_del=out["tau2"],
                     QE_del=out["qe"], hat=hat, weight=100.0 * hat, dfbs=dfbs,
                     influential=infl)


@dataclass(frozen=True)
class Baujat:
    """Result of :func:`baujat` (metafor's ``baujat()`` return value).

    Attributes
    ----------
    method : str
    labels : tuple of str
    x : numpy.ndarray
        Squared Pearson residual ``(y_i - mu)^2 / (v_i + tau^2)``; under the
        common-effect model, study i's contribution to Cochran's Q.
    y : numpy.ndarray
        Influence on the pooled estimate: ``(mu_(-i) - mu)^2 / var(mu_(-i))``.
    """

    method: str
    labels: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray


def baujat(y, sigma, method: str = "FE", labels=None) -> Baujat:
    """Baujat coordinates as metafor's ``baujat()``.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    method : str
        tau^2 estimator; the default common-effect model gives Baujat et
        al.'s original plot (contribution to Q against influence).
    labels : sequence of str, optional

    Returns
    -------
    Baujat
    """
    yy, v = _check(y, sigma)
    method = _method(method)
    k = yy.size
    if k < 2:
        raise SurvmetaError("a Baujat plot needs at least two studies")
    names = _labels(labels, k)
    tau2 = _tau2(yy, v, method)
    mu, _ = _wmean(yy, v, tau2)
    ycoord = np.empty(k)
    for i in range(k):
        keep = np.arange(k) != i
        m_i, w_i = _wmean(yy[keep], v[keep], _tau2(yy[keep], v[keep], method))
        ycoord[i] = (m_i - mu) ** 2 * w_i.sum()
    return Baujat(method=method, labels=names, x=(yy - mu) ** 2 / (v + tau2), y=ycoord)
