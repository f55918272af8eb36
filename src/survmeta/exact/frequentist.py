"""Frequentist random-effects meta-analysis, following metafor's ``rma()``.

Estimators of tau^2: ``"DL"`` (DerSimonian-Laird), ``"REML"``, ``"ML"``, ``"PM"``
(Paule-Mandel), ``"HE"`` (Hedges), ``"SJ"`` (Sidik-Jonkman, started at the
variance of the estimates with divisor k, as metafor), ``"HS"`` (Hunter-Schmidt),
``"EB"`` (empirical Bayes; without moderators its estimating equation is that of
PM, so the two agree) and ``"FE"`` (common effect, tau^2 = 0). The SE of tau^2
is metafor's for each estimator (inverse Fisher information for ML and REML,
the delta-method formulas of ``rma.uni`` for the others). Tests: ``"z"`` (normal)
or ``"knha"`` (Knapp-Hartung: t with k - 1 df and the scaled SE, untruncated,
as metafor does by default). Heterogeneity statistics follow metafor: Q from
inverse-variance (FE) weights; for random-effects models
I^2 = tau^2 / (tau^2 + s^2) and H^2 = (tau^2 + s^2) / s^2 with the "typical"
within-study variance s^2 = (k - 1) sum(w) / (sum(w)^2 - sum(w^2)); for the FE
model I^2 = (Q - df) / Q and H^2 = Q / df. With one study, as in metafor,
Q = 0 on 0 df with p = 1, I^2 = 0 and H^2 = 1, and Knapp-Hartung falls back to
the z-test (with a note). With identical estimates the Knapp-Hartung SE is 0
and the interval has zero width (metafor's answer). The common-effect model
has no prediction interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from survmeta.errors import SurvmetaError, check_level

METHODS = ("REML", "DL", "PM", "ML", "HE", "SJ", "HS", "EB", "FE")
TESTS = ("z", "knha")
#: Note of a fit with one study when Knapp-Hartung was asked for (metafor warns
#: 'Setting argument test="z" since k=1.' and does the same).
_KNHA_K1 = ("Knapp-Hartung needs at least two studies; the z-test was used for k = 1 "
            "(as metafor does)")


@dataclass(frozen=True)
class FrequentistResult:
    """Result of :func:`rma` (names follow metafor's printed output).

    Attributes
    ----------
    method, test : str
    level : float
    k : int
    estimate, se : float
        Pooled estimate and its SE (the Knapp-Hartung SE when ``test="knha"``).
    stat : float
        z or t statistic (see ``stat_name``).
    stat_name : str
        ``"z"`` or ``"t"``.
    df : int or None
        t degrees of freedom (k - 1) for ``test="knha"``.
    pval, ci_lower, ci_upper : float
    tau2, tau : float
    tau2_se : float or None
        SE of tau^2 as metafor computes it for the estimator (None for the
        common-effect model and for k = 1).
    Q, Q_df, Q_p : float
        Cochran's Q, its degrees of freedom and p-value.
    I2 : float
        In percent.
    H2 : float
    pi_lower, pi_upper : float or None
        Prediction interval for the effect in a new study; None for the
        common-effect model, which has no between-study distribution to predict
        from (metafor's ``predict()`` gives none there either).
    notes : tuple of str
        What was done differently from what was asked, e.g. the z-test used
        for k = 1 when Knapp-Hartung was asked for (as metafor does).
    """

    method: str
    test: str
    level: float
    k: int
    estimate: float
    se: float
    stat: float
    stat_name: str
    df: int | None
    pval: float
    ci_lower: float
    ci_upper: float
    tau2: float
    tau: float
    tau2_se: float | None
    Q: float
    Q_df: int
    Q_p: float
    I2: float
    H2: float
    pi_lower: float | None
    pi_upper: float | None
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return format_rma(self)

    def print_summary(self, digits: int = 4) -> None:
        """Print the result as metafor's ``print.rma.uni`` does (see :func:`format_rma`)."""
        print(format_rma(self, digits))

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["notes"] = list(self.notes)
        return out


def _check(y, sigma):
    y = np.atleast_1d(np.asarray(y, dtype=float))
    sigma = np.atleast_1d(np.asarray(sigma, dtype=float))
    if y.ndim != 1 or y.shape != sigma.shape or y.size == 0:
        raise SurvmetaError("y and sigma must be non-empty 1-D arrays of equal length")
    if not np.all(np.isfinite(y)):
        raise SurvmetaError("every estimate y must be a finite number")
    if not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
        raise SurvmetaError("every standard error sigma must be positive and finite")
    return y, sigma ** 2


def _ratio(est: float, se: float) -> float:
    """``est / se`` with IEEE limits for ``se = 0``, as R computes it.

    The Knapp-Hartung SE is 0 when every estimate is identical (the weighted
    residual sum of squares is 0); metafor then reports a zero-width interval,
    a statistic of -Inf or Inf and p = 0 (NaN and NaN for an estimate of exactly 0).
    """
    if se > 0.0:
        return est / se
    if est == 0.0:
        return math.nan
    return math.copysign(math.inf, est)


def _wmean(y, v, tau2):
    w = 1.0 / (v + tau2)
    return float(np.sum(w * y) / np.sum(w)), w


def _q_gen(y, v, tau2) -> float:
    mu, w = _wmean(y, v, tau2)
    return float(np.sum(w * (y - mu) ** 2))


def _tau2_dl(y, v) -> float:
    w = 1.0 / v
    q = _q_gen(y, v, 0.0)
    denom = w.sum() - np.sum(w ** 2) / w.sum()
    return max(0.0, (q - (y.size - 1)) / denom)


def _score(y, v, tau2, reml: bool) -> float:
    mu, w = _wmean(y, v, tau2)
    out = -0.5 * np.sum(w) + 0.5 * np.sum(w ** 2 * (y - mu) ** 2)
    if reml:
        out += 0.5 * np.sum(w ** 2) / np.sum(w)
    return float(out)


def _root_nonneg(func, start: float) -> float:
    """Root of a function decreasing through zero on [0, inf); 0 if func(0) <= 0."""
    if func(0.0) <= 0.0:
        return 0.0
    hi = max(start, 1e-4)
    while func(hi) > 0.0:
        hi *= 4.0
        if hi > 1e12:
            raise SurvmetaError("tau^2 estimate diverges; check the data")
    return optimize.brentq(func, 0.0, hi, xtol=1e-14, rtol=1e-13, maxiter=500)


def _sj_start(y) -> float:
    """Sidik-Jonkman starting value: the variance of the estimates with divisor k."""
    return float(np.mean((y - y.mean()) ** 2))


def _tau2(y, v, method: str) -> float:
    if method == "FE" or y.size == 1:
        return 0.0
    k = y.size
    start = _tau2_dl(y, v) + float(np.var(y))
    if method == "DL":
        return _tau2_dl(y, v)
    if method in ("PM", "EB"):
        # EB (Morris 1983) iterates tau^2 += (Q_gen(tau^2) k / (k - 1) - k) / sum(w): its
        # fixed point is Q_gen = k - 1, the Paule-Mandel equation (metafor truncates both at 0)
        return _root_nonneg(lambda t: _q_gen(y, v, t) - (k - 1), start)
    if method == "HE":
        rss = float(np.sum((y - y.mean()) ** 2))
        return max(0.0, (rss - (k - 1) / k * float(np.sum(v))) / (k - 1))
    if method == "HS":
        w = 1.0 / v
        return max(0.0, (_q_gen(y, v, 0.0) - k) / float(w.sum()))
    if method == "SJ":
        t0 = _sj_start(y)
        return t0 * _q_gen(y, v, t0) / (k - 1) if t0 > 0 else 0.0
    return _root_nonneg(lambda t: _score(y, v, t, reml=(method == "REML")), start)


def _proj(w):
    """metafor's P = W - W X (X'WX)^-1 X'W for an intercept-only model."""
    return np.diag(w) - np.outer(w, w) / w.sum()


def _tau2_se(y, v, tau2: float, method: str) -> float | None:
    """SE of tau^2 as metafor's ``rma.uni`` computes it (intercept-only model)."""
    k = y.size
    if method == "FE" or k < 2:
        return None
    if method == "ML":
        w = 1.0 / (v + tau2)
        return math.sqrt(2.0 / np.sum(w ** 2))
    if method == "REML":
        P = _proj(1.0 / (v + tau2))
        return math.sqrt(2.0 / np.sum(P * P))
    if method in ("PM", "EB"):
        w = 1.0 / (v + tau2)
        return math.sqrt(2.0 * k ** 2 / (k - 1) / w.sum() ** 2)
    t = max(tau2, 0.0)
    if method in ("DL", "HS"):
        w = 1.0 / v
        P = _proj(w)
        scale = np.trace(P) if method == "DL" else w.sum()
        return math.sqrt((2.0 * (k - 1) + 4.0 * t * np.trace(P) + 2.0 * t ** 2 * np.sum(P * P))
                         / scale ** 2)
    if method == "HE":
        PV = (np.eye(k) - 1.0 / k) * v[None, :]
        return math.sqrt((2.0 * np.sum(PV * PV.T) + 4.0 * t * np.trace(PV)
                          + 2.0 * t ** 2 * (k - 1)) / (k - 1) ** 2)
    if method == "SJ":
        t0 = _sj_start(y)
        P = _proj(1.0 / (v + t0))
        PV = P * v[None, :]
        return math.sqrt(t0 ** 2 / (k - 1) ** 2 * (2.0 * np.sum(PV * PV.T) + 4.0 * t * np.sum(PV * P)
                                                   + 2.0 * t ** 2 * np.sum(P * P)))
    raise AssertionError(method)  # pragma: no cover - METHODS is checked first


def _heterogeneity(y, v, tau2: float, method: str) -> tuple[float, float, float, float]:
    k = y.size
    q = _q_gen(y, v, 0.0)
    df = k - 1
    if df == 0:
        # metafor: one study has no heterogeneity to show (Q 0 on 0 df, p 1, I^2 0, H^2 1)
        return 0.0, 1.0, 0.0, 1.0
    q_p = float(stats.chi2.sf(q, df))
    if method == "FE":
        i2 = max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0
        return q, q_p, i2, q / df
    w = 1.0 / v
    s2 = df * w.sum() / (w.sum() ** 2 - np.sum(w ** 2))
    return q, q_p, float(100.0 * tau2 / (tau2 + s2)), float((tau2 + s2) / s2)


def rma(y, sigma, method: str = "REML", test: str = "z", level: float = 0.95) -> FrequentistResult:
    """Frequentist (random-effects or common-effect) meta-analysis as metafor's ``rma()``.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    method : {"REML", "DL", "PM", "ML", "HE", "SJ", "HS", "EB", "FE"}
        tau^2 estimator (``"EE"`` is accepted for ``"FE"``).
    test : {"z", "knha"}
        Normal-based inference or the Knapp-Hartung method.
    level : float
        Confidence level.

    Returns
    -------
    FrequentistResult
    """
    y, v = _check(y, sigma)
    method = "FE" if str(method).upper() == "EE" else str(method).upper()
    if method not in METHODS:
        raise SurvmetaError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if test not in TESTS:
        raise SurvmetaError(f"unknown test {test!r}; use 'z' or 'knha'")
    level = check_level(level)
    k = y.size
    notes: tuple[str, ...] = ()
    if test == "knha" and k < 2:
        test = "z"
        notes = (_KNHA_K1,)
    tau2 = _tau2(y, v, method)
    est, w = _wmean(y, v, tau2)
    se = math.sqrt(1.0 / w.sum())
    if test == "knha":
        se *= math.sqrt(_q_gen(y, v, tau2) / (k - 1))
        df = k - 1
        crit = float(stats.t.ppf(0.5 + level / 2.0, df))
        stat = _ratio(est, se)
        pval = float(2.0 * stats.t.sf(abs(stat), df))
    else:
        df = None
        crit = float(stats.norm.ppf(0.5 + level / 2.0))
        stat = _ratio(est, se)
        pval = float(2.0 * stats.norm.sf(abs(stat)))
    q, q_p, i2, h2 = _heterogeneity(y, v, tau2, method)
    half_pi = None if method == "FE" else crit * math.sqrt(se ** 2 + tau2)
    return FrequentistResult(
        method=method, test=test, level=level, k=k, estimate=est, se=se, stat=stat,
        stat_name="t" if test == "knha" else "z", df=df, pval=pval,
        ci_lower=est - crit * se, ci_upper=est + crit * se, tau2=tau2, tau=math.sqrt(tau2),
        tau2_se=_tau2_se(y, v, tau2, method), Q=q, Q_df=k - 1, Q_p=q_p,
        I2=i2, H2=h2, pi_lower=None if half_pi is None else est - half_pi,
        pi_upper=None if half_pi is None else est + half_pi, notes=notes)


_COLUMNS = ("estimate", "se", "stat", "pval", "ci_lower", "ci_upper", "Q", "Q_p", "tau2",
            "I2", "H2")


def _labels(labels, k):
    if labels is None:
        return [str(i + 1) for i in range(k)]
    labels = [str(lab) for lab in labels]
    if len(labels) != k:
        raise SurvmetaError(f"got {len(labels)} labels for {k} estimates")
    return labels


def _row(res: FrequentistResult) -> dict:
    return {name: getattr(res, name) for name in _COLUMNS}


def _table(rows: list[FrequentistResult], index: pd.Index) -> pd.DataFrame:
    """Rows of a leave-one-out or cumulative table; the fits' notes in ``attrs["notes"]``."""
    out = pd.DataFrame([_row(r) for r in rows], index=index)
    notes: list[str] = []
    for r in rows:
        for note in r.notes:
            if note == _KNHA_K1:
                note = ("Knapp-Hartung needs at least two studies; the z-test was used for "
                        "the fits of one study (as metafor does)")
            if note not in notes:
                notes.append(note)
    out.attrs["notes"] = notes
    return out


def leave1out(y, sigma, method: str = "REML", test: str = "z", level: float = 0.95,
              labels=None) -> pd.DataFrame:
    """Refit leaving out one study at a time (metafor's ``leave1out()``).

    Returns
    -------
    pandas.DataFrame
        One row per omitted study (index: its label) with columns ``estimate``,
        ``se``, ``stat``, ``pval``, ``ci_lower``, ``ci_upper``, ``Q``, ``Q_p``,
        ``tau2``, ``I2``, ``H2``. ``attrs["notes"]`` says where a fit
        differs from what was asked (with ``test="knha"`` and k = 2, each fit
        has one study and uses the z-test, as metafor's ``leave1out`` does).
    """
    y, v = _check(y, sigma)
    if y.size < 2:
        raise SurvmetaError("leave-one-out needs at least two studies")
    names = _labels(labels, y.size)
    rows = []
    for i in range(y.size):
        keep = np.arange(y.size) != i
        rows.append(rma(y[keep], np.sqrt(v[keep]), method, test, level))
    return _table(rows, pd.Index(names, name="omitted"))


def cumul(y, sigma, order=None, method: str = "REML", test: str = "z", level: float = 0.95,
          labels=None) -> pd.DataFrame:
    """Cumulative meta-analysis, adding one study at a time (metafor's ``cumul()``).

    Parameters
    ----------
    order : array_like, optional
        Sort keys (e.g. publication years); studies are added in the stable
        ascending order of these keys, ties in their given order. Default: as given.

    Returns
    -------
    pandas.DataFrame
        One row per step (index: label of the study added), columns and
        ``attrs["notes"]`` as in :func:`leave1out` (the first step has one
        study, so it uses the z-test under ``test="knha"``, as in metafor).
    """
    y, v = _check(y, sigma)
    names = _labels(labels, y.size)
    if order is None:
        idx = np.arange(y.size)
    else:
        keys = np.asarray(order)
        if keys.shape != y.shape:
            raise SurvmetaError("order must have one key per study")
        idx = np.argsort(keys, kind="stable")
    rows = [rma(y[idx[:n]], np.sqrt(v[idx[:n]]), method, test, level)
            for n in range(1, y.size + 1)]
    return _table(rows, pd.Index([names[i] for i in idx], name="added"))


def _fmt_p(p: float, digits: int) -> str:
    """metafor's p-value format: ``<.0001`` below 10^-digits, else ``digits`` decimals."""
    return f"<.{'0' * (digits - 1)}1" if p < 10.0**-digits else f"{p:.{digits}f}"


def _stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def format_rma(res: FrequentistResult, digits: int = 4) -> str:
    """The text metafor's ``print.rma.uni`` prints for a model without moderators.

    The heading, the heterogeneity block (tau^2 with its SE, tau, I^2, H^2; the
    common-effect model prints only I^2 and H^2), the Q test and the "Model Results"
    table with significance stars, laid out column for column as R prints them, so a
    printout can be compared with metafor's line by line
    (``tests/exact/test_print_rma.py`` does so on dat.bcg).
    """
    d = digits
    lines = []
    if res.method == "FE":
        lines.append(f"Equal-Effects Model (k = {res.k})")
    else:
        lines.append(f"Random-Effects Model (k = {res.k}; tau^2 estimator: {res.method})")
    lines.append("")
    if res.method != "FE":
        se = f" (SE = {res.tau2_se:.{d}f})" if res.tau2_se is not None else ""
        lines.append(f"tau^2 (estimated amount of total heterogeneity): {res.tau2:.{d}f}{se}")
        lines.append(f"tau (square root of estimated tau^2 value):      {res.tau:.{d}f}")
    lines.append(f"I^2 (total heterogeneity / total variability):   {res.I2:.2f}%")
    lines.append(f"H^2 (total variability / sampling variability):  {res.H2:.2f}")
    lines.append("")
    qp = _fmt_p(res.Q_p, d)
    lines.append("Test for Heterogeneity:")
    lines.append(f"Q(df = {res.Q_df}) = {res.Q:.{d}f}, p-val {'<' if qp.startswith('<') else '='} "
                 f"{qp.lstrip('<')}")
    lines.append("")
    lines.append("Model Results:")
    lines.append("")
    cols = [("estimate", f"{res.estimate:.{d}f}"), ("se", f"{res.se:.{d}f}"),
            (f"{res.stat_name}val", f"{res.stat:.{d}f}")]
    if res.df is not None:
        cols.append(("df", str(res.df)))
    cols += [("pval", _fmt_p(res.pval, d)), ("ci.lb", f"{res.ci_lower:.{d}f}"),
             ("ci.ub", f"{res.ci_upper:.{d}f}"), ("", _stars(res.pval))]
    widths = [max(len(h), len(v)) for h, v in cols]
    lines.append("  ".join(h.rjust(w) for (h, _), w in zip(cols, widths)) + " ")
    lines.append(" " * (widths[0] - len(cols[0][1])) + cols[0][1] + "  "
                 + "  ".join(v.rjust(w) if h else v.ljust(w)
                             for (h, v), w in zip(cols[1:], widths[1:])) + " ")
    lines += ["", "---",
              "Signif. codes:  0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 "
              "\u2018.\u2019 0.1 \u2018 \u2019 1"]
    for n in res.notes:
        lines.append(f"Note: {n}")
    return "\n".join(lines) + "\n"
