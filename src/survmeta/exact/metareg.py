"""Frequentist meta-regression (mixed-effects models), following metafor's ``rma(mods=)``.

The model is y_i = x_i' beta + u_i + e_i with u_i ~ N(0, tau^2) and
e_i ~ N(0, v_i); an intercept is added to the moderators. Estimators of tau^2
(the residual heterogeneity): ``"REML"``, ``"ML"``, ``"DL"`` (the
method-of-moments estimator based on QE) and ``"FE"`` (``"EE"``; tau^2 = 0).
With P = W - W X (X'WX)^-1 X'W the quantities are those of metafor's
``rma.uni``: QE = y' P y with inverse-variance weights on k - p df; the
omnibus test of the moderators QM = b' V^-1 b over the coefficients other than
the intercept (chi-square on m df, or F(m, k - p) with QM / m under
Knapp-Hartung, where the covariance is scaled by y' P y / (k - p) at the
estimated tau^2, untruncated as metafor's default); I^2 = tau^2 / (tau^2 + s^2)
and H^2 = (tau^2 + s^2) / s^2 with s^2 = (k - p) / tr(P) (inverse-variance P),
for the common-effect model I^2 = (QE - (k - p)) / QE and H^2 = QE / (k - p);
pseudo-R^2 = max(0, 100 (tau0^2 - tau^2) / tau0^2) with tau0^2 from the
intercept-only model with the same estimator (0 when tau0^2 = 0); for the
common-effect model metafor's max(0, 100 (H0^2 - H^2) / H0^2) with H0^2 = Q / (k - 1)
of the model without moderators. The SE of tau^2 is the inverse Fisher information for ML
and REML and metafor's delta-method formula for DL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
from scipy import linalg, optimize, stats

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.frequentist import _check, _fmt_p, _stars
from survmeta.exact.frequentist import _tau2 as _tau2_null

METHODS_MODS = ("REML", "ML", "DL", "FE")


@dataclass(frozen=True)
class Coefficient:
    """One coefficient of a meta-regression (a row of metafor's "Model Results")."""

    name: str
    estimate: float
    se: float
    stat: float
    pval: float
    ci_lower: float
    ci_upper: float


C = TypeVar("C", bound="_Named")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class CoefficientLookup(Generic[C]):
    """Coefficient names and lookup by name, for results holding ``coefficients``
    (:class:`MetaRegression`, :class:`survmeta.exact.bmr.BayesMetaRegression`,
    :class:`survmeta.models.MCMCMetaRegression`)."""

    coefficients: tuple[C, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Coefficient names, intercept first."""
        return tuple(c.name for c in self.coefficients)

    def coef(self, name: str) -> C:
        """The coefficient called ``name``."""
        for c in self.coefficients:
            if c.name == name:
                return c
        raise SurvmetaError(f"no coefficient {name!r}; the model has {', '.join(self.names)}")


@dataclass(frozen=True)
class MetaRegression(CoefficientLookup[Coefficient]):
    """Result of :func:`rma_mods` (names follow metafor's printed output).

    Attributes
    ----------
    method, test : str
    level : float
    k, p : int
        Number of studies and of coefficients (intercept included).
    coefficients : tuple of Coefficient
        Intercept first, then the moderators in the order given.
    stat_name : str
        ``"z"`` or ``"t"`` (Knapp-Hartung, on k - p df).
    df : int or None
        t degrees of freedom for ``test="knha"``.
    tau2, tau : float
        Residual heterogeneity.
    tau2_se : float or None
        None for the common-effect model.
    QE, QE_df, QE_p : float, int, float
        Test for residual heterogeneity.
    QM, QM_df, QM_p : float, int, float
        Omnibus test of the moderators (a chi-square, or an F statistic on
        ``(QM_df, QM_df2)`` df under Knapp-Hartung).
    QM_df2 : int or None
    I2, H2 : float
        Residual I^2 (percent) and H^2.
    R2 : float
        Pseudo-R^2 in percent (for the common-effect model from H^2, as metafor).
    cov : tuple of tuple of float
        Covariance matrix of the coefficients (scaled under Knapp-Hartung).
    """

    method: str
    test: str
    level: float
    k: int
    p: int
    coefficients: tuple[Coefficient, ...]
    stat_name: str
    df: int | None
    tau2: float
    tau: float
    tau2_se: float | None
    QE: float
    QE_df: int
    QE_p: float
    QM: float
    QM_df: int
    QM_df2: int | None
    QM_p: float
    I2: float
    H2: float
    R2: float
    cov: tuple[tuple[float, ...], ...]

    def predict(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Fitted value and its SE at moderator rows ``x`` (without the intercept column)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[1] == 1 and self.p - 1 != 1:
            x = x.T
        X = np.column_stack([np.ones(x.shape[0]), x])
        b = np.array([c.estimate for c in self.coefficients])
        V = np.array(self.cov)
        return X @ b, np.sqrt(np.einsum("ij,jk,ik->i", X, V, X))

    def __str__(self) -> str:
        return format_rma_mods(self)

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in
               ("coefficients", "cov")}
        out["coefficients"] = [c.__dict__.copy() for c in self.coefficients]
        return out


def moderator_matrix(columns: Mapping[str, Sequence]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Design matrix (without intercept) from named moderator columns.

    A column of numbers enters as it is; any other column is a factor, coded
    with treatment contrasts against its first level in sorted order (as R's
    ``factor()``), the dummy for level ``L`` of column ``c`` named ``c[L]``.

    Returns
    -------
    X : ndarray, shape (k, m)
    names : tuple of str
    """
    cols: list[np.ndarray] = []
    names: list[str] = []
    k = None
    for name, values in columns.items():
        vals = list(values)
        if k is None:
            k = len(vals)
        elif len(vals) != k:
            raise SurvmetaError(f"moderator {name!r} has {len(vals)} values, expected {k}")
        if all(isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
               for x in vals):
            cols.append(np.asarray(vals, dtype=float))
            names.append(name)
            continue
        levels = sorted({str(x) for x in vals})
        if len(levels) < 2:
            raise SurvmetaError(f"moderator {name!r} has one level ({levels[0]!r}) only")
        for lev in levels[1:]:
            cols.append(np.array([str(x) == lev for x in vals], dtype=float))
            names.append(f"{name}[{lev}]")
    if not cols:
        raise SurvmetaError("no moderators given")
    return np.column_stack(cols), tuple(names)


def _heterogeneity_null(y, v) -> float:
    """H^2 = Q / (k - 1) of the common-effect model without moderators."""
    w = 1.0 / v
    mu = float(np.sum(w * y) / w.sum())
    return float(np.sum(w * (y - mu) ** 2)) / (y.size - 1)


def _proj(X, w):
    WX = X * w[:, None]
    return np.diag(w) - WX @ linalg.solve(X.T @ WX, WX.T, assume_a="pos")


def _tau2_mods(y, v, X, method: str) -> float:
    if method == "FE":
        return 0.0
    k, p = X.shape
    if method == "DL":
        P = _proj(X, 1.0 / v)
        return max(0.0, float((y @ P @ y - (k - p)) / np.trace(P)))
    reml = method == "REML"

    def score(t: float) -> float:
        P = _proj(X, 1.0 / (v + t))
        Py = P @ y
        if reml:
            return float(-0.5 * np.trace(P) + 0.5 * Py @ Py)
        w = 1.0 / (v + t)
        return float(-0.5 * w.sum() + 0.5 * Py @ Py)

    if score(0.0) <= 0.0:
        return 0.0
    hi = max(float(np.var(y)), 1e-4)
    while score(hi) > 0.0:
        hi *= 4.0
        if hi > 1e12:
            raise SurvmetaError("tau^2 estimate diverges; check the data")
    return float(optimize.brentq(score, 0.0, hi, xtol=1e-14, rtol=1e-13, maxiter=500))


def _tau2_se(v, X, tau2: float, method: str) -> float | None:
    k, p = X.shape
    if method == "FE":
        return None
    if method == "ML":
        w = 1.0 / (v + tau2)
        return math.sqrt(2.0 / np.sum(w ** 2))
    if method == "REML":
        P = _proj(X, 1.0 / (v + tau2))
        return math.sqrt(2.0 / np.sum(P * P))
    P = _proj(X, 1.0 / v)
    tr = float(np.trace(P))
    t = max(tau2, 0.0)
    return math.sqrt((2.0 * (k - p) + 4.0 * t * tr + 2.0 * t ** 2 * np.sum(P * P)) / tr ** 2)


def rma_mods(y, sigma, mods, names: Sequence[str] | None = None, method: str = "REML",
             test: str = "z", level: float = 0.95) -> MetaRegression:
    """Mixed-effects meta-regression as metafor's ``rma(yi, vi, mods = ...)``.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    mods : array_like, shape (k,) or (k, m), or mapping of name to column
        Moderators, without the intercept column (added here). A mapping goes
        through :func:`moderator_matrix` (factors coded as R does).
    names : sequence of str, optional
        Moderator names for an array (default ``x1``, ``x2``, ...).
    method : {"REML", "ML", "DL", "FE"}
        tau^2 estimator (``"EE"`` is accepted for ``"FE"``).
    test : {"z", "knha"}
    level : float
        Confidence level.

    Returns
    -------
    MetaRegression
    """
    y, v = _check(y, sigma)
    method = "FE" if str(method).upper() == "EE" else str(method).upper()
    if method not in METHODS_MODS:
        raise SurvmetaError(f"unknown method {method!r} for meta-regression; use one of "
                            f"{', '.join(METHODS_MODS)}")
    if test not in ("z", "knha"):
        raise SurvmetaError(f"unknown test {test!r}; use 'z' or 'knha'")
    level = check_level(level)
    if isinstance(mods, Mapping):
        M, mnames = moderator_matrix(mods)
    else:
        M = np.asarray(mods, dtype=float)
        if M.ndim == 1:
            M = M[:, None]
        mnames = tuple(names) if names is not None else tuple(
            f"x{j + 1}" for j in range(M.shape[1]))
        if len(mnames) != M.shape[1]:
            raise SurvmetaError(f"{len(mnames)} names for {M.shape[1]} moderators")
    k = y.size
    if M.ndim != 2 or M.shape[0] != k:
        raise SurvmetaError(f"mods must have one row per study ({k}), got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise SurvmetaError("every moderator value must be a finite number")
    X = np.column_stack([np.ones(k), M])
    p = X.shape[1]
    if np.linalg.matrix_rank(X) < p:
        raise SurvmetaError("the moderators are collinear (or constant): the model matrix "
                            "is not of full rank")
    if k - p < 1:
        raise SurvmetaError(f"{p} coefficients need more than {p} studies, got k = {k}")
    tau2 = _tau2_mods(y, v, X, method)
    w = 1.0 / (v + tau2)
    XtWX = X.T @ (X * w[:, None])
    V = linalg.inv(XtWX)
    b = V @ (X.T @ (w * y))
    df: int | None = None
    if test == "knha":
        resid = y - X @ b
        V = V * float(np.sum(w * resid ** 2) / (k - p))
        df = k - p
    se = np.sqrt(np.diag(V))
    stat = b / se
    if df is not None:
        crit = float(stats.t.ppf(0.5 + level / 2.0, df))
        pv = 2.0 * stats.t.sf(np.abs(stat), df)
    else:
        crit = float(stats.norm.ppf(0.5 + level / 2.0))
        pv = 2.0 * stats.norm.sf(np.abs(stat))
    all_names = ("intrcpt",) + mnames
    coefs = tuple(Coefficient(all_names[j], float(b[j]), float(se[j]), float(stat[j]),
                              float(pv[j]), float(b[j] - crit * se[j]),
                              float(b[j] + crit * se[j])) for j in range(p))
    bt = b[1:]
    qm = float(bt @ linalg.solve(V[1:, 1:], bt, assume_a="pos"))
    m = p - 1
    if df is not None:
        qm /= m
        qm_p = float(stats.f.sf(qm, m, df))
    else:
        qm_p = float(stats.chi2.sf(qm, m))
    P0 = _proj(X, 1.0 / v)
    qe = float(y @ P0 @ y)
    s2 = (k - p) / float(np.trace(P0))
    if method == "FE":
        i2 = max(0.0, 100.0 * (qe - (k - p)) / qe) if qe > 0 else 0.0
        h2 = qe / (k - p)
    else:
        i2 = float(100.0 * tau2 / (tau2 + s2))
        h2 = float((tau2 + s2) / s2)
    if method == "FE":
        # metafor: R^2 = (H2_0 - H2) / H2_0 with H2_0 = Q / (k - 1) of the intercept-only model
        h2_0 = float(_heterogeneity_null(y, v))
        r2 = max(0.0, 100.0 * (h2_0 - h2) / h2_0) if h2_0 > 0 else 0.0
    else:
        tau2_0 = _tau2_null(y, v, method)
        r2 = max(0.0, 100.0 * (tau2_0 - tau2) / tau2_0) if tau2_0 > 0 else 0.0
    return MetaRegression(
        method=method, test=test, level=level, k=k, p=p, coefficients=coefs,
        stat_name="t" if df is not None else "z", df=df, tau2=tau2, tau=math.sqrt(tau2),
        tau2_se=_tau2_se(v, X, tau2, method), QE=qe, QE_df=k - p,
        QE_p=float(stats.chi2.sf(qe, k - p)), QM=qm, QM_df=m, QM_df2=df, QM_p=qm_p,
        I2=i2, H2=h2, R2=r2,
        cov=tuple(tuple(float(x) for x in row) for row in V))


def format_rma_mods(res: MetaRegression, digits: int = 4) -> str:
    """The text metafor's ``print.rma.uni`` prints for a model with moderators.

    Heading, residual heterogeneity (tau^2 with its SE, tau, I^2, H^2, R^2; the
    common-effect model prints none of these), the test for residual
    heterogeneity, the test of moderators and the "Model Results" table with
    significance stars, laid out as R prints them.
    """
    d = digits
    fe = res.method == "FE"
    lines = [f"Fixed-Effects with Moderators Model (k = {res.k})" if fe else
             f"Mixed-Effects Model (k = {res.k}; tau^2 estimator: {res.method})", ""]
    if not fe:
        se = f" (SE = {res.tau2_se:.{d}f})" if res.tau2_se is not None else ""
        lines += [
            f"tau^2 (estimated amount of residual heterogeneity):     {res.tau2:.{d}f}{se}",
            f"tau (square root of estimated tau^2 value):             {res.tau:.{d}f}"]
    lines += [f"I^2 (residual heterogeneity / unaccounted variability): {res.I2:.2f}%",
              f"H^2 (unaccounted variability / sampling variability):   {res.H2:.2f}",
              f"R^2 (amount of heterogeneity accounted for):            {res.R2:.2f}%", ""]

    def pv(p: float) -> str:
        s = _fmt_p(p, d)
        return f"< {s[1:]}" if s.startswith("<") else f"= {s}"

    lines += ["Test for Residual Heterogeneity:",
              f"QE(df = {res.QE_df}) = {res.QE:.{d}f}, p-val {pv(res.QE_p)}", ""]
    which = f"coefficient{'s' if res.QM_df > 1 else ''} " + (
        f"2:{res.p}" if res.QM_df > 1 else "2")
    lines.append(f"Test of Moderators ({which}):")
    if res.QM_df2 is None:
        lines.append(f"QM(df = {res.QM_df}) = {res.QM:.{d}f}, p-val {pv(res.QM_p)}")
    else:
        lines.append(f"F(df1 = {res.QM_df}, df2 = {res.QM_df2}) = {res.QM:.{d}f}, "
                     f"p-val {pv(res.QM_p)}")
    lines += ["", "Model Results:", ""]
    heads = ["estimate", "se", f"{res.stat_name}val"] + (["df"] if res.df is not None else []) \
        + ["pval", "ci.lb", "ci.ub"]
    body = []
    for c in res.coefficients:
        row = [f"{c.estimate:.{d}f}", f"{c.se:.{d}f}", f"{c.stat:.{d}f}"]
        if res.df is not None:
            row.append(str(res.df))
        row += [_fmt_p(c.pval, d), f"{c.ci_lower:.{d}f}", f"{c.ci_upper:.{d}f}"]
        body.append((c.name, row, _stars(c.pval)))
    nw = max(len(n) for n, _, _ in body)
    widths = [max(len(h), *(len(r[j]) for _, r, _ in body)) for j, h in enumerate(heads)]
    sw = max(len(s) for _, _, s in body)
    lines.append(" " * nw + "  " + "  ".join(h.rjust(w) for h, w in zip(heads, widths))
                 + "  " + " " * sw + " ")
    for name, row, star in body:
        lines.append(name.ljust(nw) + "  " + "  ".join(v.rjust(w) for v, w in zip(row, widths))
                     + "  " + star.ljust(sw) + " ")
    lines += ["", "---",
              "Signif. codes:  0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 "
              "\u2018.\u2019 0.1 \u2018 \u2019 1"]
    return "\n".join(lines) + "\n"
