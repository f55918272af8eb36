"""Prior distributions for the pooled effect ``mu`` and the heterogeneity ``tau``.

Priors are written as in papers and parsed by :func:`parse_prior`:

=================================  ====================  ========================================
spec                               family / params       density
=================================  ====================  ========================================
``halfnormal(0.5)``                halfnormal: scale     half-normal on tau
``halfcauchy(25)``                 halfcauchy: scale     half-Cauchy on tau
``halft(3, 0.5)``                  halft: df, scale      half-Student-t on tau
``uniform(0, 2)``                  uniform: lower, upper uniform on tau
``exponential(2)``                 exponential: rate     exponential on tau
``lognormal_tau2(-2.56, 1.74)``    lognormal_tau2:       log(tau^2) ~ Normal(mu, sigma)
                                   mu, sigma
``turner(all-cause-mortality,      lognormal_tau2:       Turner et al. (2015) Table IV
pharma-vs-placebo)``               mu, sigma
``logt_tau2(-3.44, 2.59, 5)``      logt_tau2: location,  log(tau^2) ~ Student-t(df, location,
                                   scale, df             scale)
``rhodes(mental-health,            logt_tau2:            Rhodes et al. (2015) Table 3 (and
pharma-vs-placebo[, area])``,      location, scale, df   A.3.1/A.3.2 for area respiratory /
``rhodes(any)``                                          cancer), df = 5
``normal(0, 4)``                   normal: mean, sd      normal on mu
``flat``                           flat                  improper uniform (mu, or tau >= 0)
``fixed``                          fixed                 tau = 0 (common-effect model)
=================================  ====================  ========================================

The ``family`` and ``params`` names above are the contract used by other
engines to translate a prior; densities here are numpy/scipy only. :data:`PRIOR_FAMILIES`
is the one table both engines read (the PyMC translation in :mod:`survmeta.models.priors`
raises for any family outside it).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np
from scipy import special, stats

from survmeta.errors import SurvmetaError

Kind = Literal["tau", "mu"]

@dataclass(frozen=True)
class PriorFamily:
    """One row of the prior-family table shared by the exact and the PyMC engines.

    Attributes
    ----------
    name : str
        Name as written in a spec, e.g. ``"turner"``.
    family : str
        ``Prior.family`` of the parsed prior (``turner`` gives ``lognormal_tau2``).
    params : tuple of str
        Spec arguments in order.
    kinds : tuple of str
        Parameters the family can be a prior for (``"tau"``, ``"mu"``).
    support : str
        Support in words.
    density : str
        The density (numpy/scipy, used by the exact engine).
    pymc : str
        The PyMC constructor used by :mod:`survmeta.models.priors`.
    """

    name: str
    family: str
    params: tuple[str, ...]
    kinds: tuple[str, ...]
    support: str
    density: str
    pymc: str


#: The prior families: both engines accept exactly these (and the ``custom`` densities of
#: :meth:`Prior.from_density`, exact engine only). A uniform prior on ``mu`` is not in the
#: table: the exact engine integrates ``mu`` in closed form, which needs a normal or flat prior.
PRIOR_FAMILIES: tuple[PriorFamily, ...] = (
    PriorFamily("halfnormal", "halfnormal", ("scale",), ("tau",), "tau >= 0",
                "scipy.stats.halfnorm(scale)", "pm.HalfNormal(sigma=scale)"),
    PriorFamily("halfcauchy", "halfcauchy", ("scale",), ("tau",), "tau >= 0",
                "scipy.stats.halfcauchy(scale)", "pm.HalfCauchy(beta=scale)"),
    PriorFamily("halft", "halft", ("df", "scale"), ("tau",), "tau >= 0",
                "2 scipy.stats.t(df, scale)", "pm.HalfStudentT(nu=df, sigma=scale)"),
    PriorFamily("uniform", "uniform", ("lower", "upper"), ("tau",), "lower <= tau <= upper",
                "1 / (upper - lower)", "pm.Uniform(lower, upper)"),
    PriorFamily("exponential", "exponential", ("rate",), ("tau",), "tau >= 0",
                "rate exp(-rate tau)", "pm.Exponential(lam=rate)"),
    PriorFamily("lognormal_tau2", "lognormal_tau2", ("mu", "sigma"), ("tau",), "tau > 0",
                "log(tau^2) ~ Normal(mu, sigma)", "pm.LogNormal(mu / 2, sigma / 2)"),
    PriorFamily("turner", "lognormal_tau2", ("outcome", "comparison"), ("tau",), "tau > 0",
                "lognormal_tau2 from Turner et al. (2015) Table IV",
                "pm.LogNormal(mu / 2, sigma / 2)"),
    PriorFamily("logt_tau2", "logt_tau2", ("location", "scale", "df"), ("tau",), "tau > 0",
                "log(tau^2) ~ Student-t(df, location, scale)",
                "pm.CustomDist(exp(pm.StudentT(df, location / 2, scale / 2)))"),
    PriorFamily("rhodes", "logt_tau2", ("outcome", "comparison", "area"), ("tau",), "tau > 0",
                "logt_tau2 from Rhodes et al. (2015) Table 3",
                "pm.CustomDist(exp(pm.StudentT(df, location / 2, scale / 2)))"),
    PriorFamily("normal", "normal", ("mean", "sd"), ("mu",), "real line",
                "scipy.stats.norm(mean, sd)", "pm.Normal(mu=mean, sigma=sd)"),
    PriorFamily("flat", "flat", (), ("tau", "mu"), "tau >= 0 or real line",
                "improper constant", "pm.HalfFlat() / pm.Flat()"),
    PriorFamily("fixed", "fixed", (), ("tau",), "tau = 0", "point mass at 0",
                "pm.Deterministic(0)"),
)

TAU_FAMILIES = tuple(f.name for f in PRIOR_FAMILIES if "tau" in f.kinds)
MU_FAMILIES = tuple(f.name for f in PRIOR_FAMILIES if "mu" in f.kinds)
_ARITY: dict[str, int | tuple[int, ...]] = {f.name: len(f.params) for f in PRIOR_FAMILIES}
_ARITY["rhodes"] = (1, 2, 3)


def families(kind: Kind) -> tuple[str, ...]:
    """Family names (as parsed ``Prior.family``) accepted for ``kind`` by both engines."""
    return tuple(dict.fromkeys(f.family for f in PRIOR_FAMILIES if kind in f.kinds))


def check_family(prior, kind: Kind) -> None:
    """Reject a prior whose family is not in :data:`PRIOR_FAMILIES` for ``kind``.

    Parameters
    ----------
    prior : Prior-like
        Object with a ``family`` attribute; ``"custom"`` passes (the PyMC engine rejects it
        with its own message).
    kind : {"tau", "mu"}

    Raises
    ------
    SurvmetaError
        The one message both engines give for a family outside the table.
    """
    fam = getattr(prior, "family", None)
    if fam == "custom" or fam in families(kind):
        return
    raise _unknown(str(fam), TAU_FAMILIES if kind == "tau" else MU_FAMILIES, kind)


@dataclass(frozen=True)
class Prior:
    """A prior density on ``tau`` (``kind="tau"``) or ``mu`` (``kind="mu"``).

    Attributes
    ----------
    family : str
        Family name (see the module table), ``"custom"`` for a user density.
    params : dict
        Family parameters by name (see the module table).
    spec : str
        Canonical spec string, e.g. ``"halfnormal(0.5)"``.
    kind : {"tau", "mu"}
        Parameter the prior is for.
    support : tuple of float
        Lower and upper limit of the support.
    proper : bool
        Whether the density integrates to one.
    description : str
        Words for a methods paragraph.
    """

    family: str
    params: dict
    spec: str
    kind: str
    support: tuple[float, float]
    proper: bool
    description: str
    _logpdf: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    _cdf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False,
                                                           compare=False)

    def __str__(self) -> str:
        """The canonical spec, e.g. ``"halfnormal(0.5)"`` (as printed and saved)."""
        return self.spec

    def logpdf(self, x) -> np.ndarray:
        """Log density at ``x`` (``-inf`` outside the support)."""
        x = np.asarray(x, dtype=float)
        lo, hi = self.support
        inside = (x >= lo) & (x <= hi)
        out = np.full(x.shape, -np.inf)
        if np.any(inside):
            out[inside] = self._logpdf(x[inside])
        return out

    def pdf(self, x) -> np.ndarray:
        """Density at ``x``."""
        return np.exp(self.logpdf(x))

    def cdf(self, x) -> np.ndarray:
        """Cumulative distribution function (closed form only).

        Raises
        ------
        SurvmetaError
            When the prior is improper or has no closed-form CDF.
        """
        if self._cdf is None:
            raise SurvmetaError(f"prior {self.spec} has no closed-form CDF")
        x = np.asarray(x, dtype=float)
        lo, hi = self.support
        return np.where(x < lo, 0.0, np.where(x > hi, 1.0, self._cdf(np.clip(x, lo, hi))))

    @property
    def is_point_mass(self) -> bool:
        """True for the ``fixed`` prior (tau = 0)."""
        return self.family == "fixed"

    def describe(self) -> str:
        """Words for a methods paragraph, e.g. "half-normal prior with scale 0.5 on tau"."""
        return self.description

    def to_dict(self) -> dict:
        """JSON-ready description."""
        return {"family": self.family, "params": dict(self.params), "spec": self.spec,
                "kind": self.kind, "proper": self.proper, "description": self.description}

    @classmethod
    def from_density(cls, func: Callable, support: tuple[float, float] = (0.0, math.inf),
                     description: str = "user-supplied prior density", kind: Kind = "tau",
                     proper: bool = True) -> "Prior":
        """Wrap a user density function.

        Parameters
        ----------
        func : callable
            Vectorised density ``func(x) -> array`` (not log density).
        support : tuple of float
            Support limits.
        description : str
            Words for a methods paragraph.
        kind : {"tau", "mu"}
        proper : bool
            Whether ``func`` integrates to one (needed for Bayes factors).
        """
        if not callable(func):
            raise SurvmetaError("from_density needs a callable density function")
        lo, hi = float(support[0]), float(support[1])
        if not lo < hi:
            raise SurvmetaError(f"custom prior support must have lower < upper, got {support}")

        def logpdf(x):
            with np.errstate(divide="ignore"):
                return np.log(np.asarray(func(x), dtype=float))

        return cls("custom", {}, "custom", kind, (lo, hi), proper, description, logpdf)


def _num(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SurvmetaError(f"prior {spec!r}: {what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise SurvmetaError(f"prior {spec!r}: {what} must be finite, got {text!r}")
    return value


def _positive(text: str, what: str, spec: str) -> float:
    value = _num(text, what, spec)
    if value <= 0:
        raise SurvmetaError(f"prior {spec!r}: {what} must be positive, got {text}")
    return value


def _fmt(x: float) -> str:
    return f"{x:g}"


def _split(spec: str) -> tuple[str, list[str]]:
    match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", spec)
    if match is None:
        raise SurvmetaError(f"cannot read prior {spec!r}; write e.g. 'halfnormal(0.5)'")
    name = match.group(1).lower().replace("_", "")
    aliases = {"lognormaltau2": "lognormal_tau2", "halfstudent": "halft", "halfstudentt": "halft",
               "exp": "exponential", "gaussian": "normal", "commoneffect": "fixed",
               "logttau2": "logt_tau2"}
    name = aliases.get(name, name)
    body = match.group(2)
    args = [] if body is None or not body.strip() else [
        a.strip().strip("'\"") for a in body.split(",")]
    return name, args


def _unknown(name: str, valid: tuple[str, ...], kind: str) -> SurvmetaError:
    """The one message of both engines for a family outside the table for ``kind``."""
    if any(f.name == name or f.family == name for f in PRIOR_FAMILIES):
        what = "a heterogeneity prior (tau)" if kind == "tau" else "a prior for mu"
        why = (" (the exact engine integrates mu in closed form, which needs a normal or flat "
               "prior)" if kind == "mu" else "")
        return SurvmetaError(f"{name!r} is not {what}{why}; valid families: {', '.join(valid)}")
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return SurvmetaError(f"unknown {kind} prior family {name!r}{hint}; "
                         f"valid families: {', '.join(valid)}")


def parse_prior(spec, kind: Kind = "tau") -> Prior:
    """Parse a prior spec as written in papers.

    Parameters
    ----------
    spec : str or Prior
        E.g. ``"halfnormal(0.5)"``, ``"turner(all-cause-mortality, pharma-vs-placebo)"``,
        ``"normal(0, 4)"``, ``"flat"``. A :class:`Prior` is returned unchanged.
    kind : {"tau", "mu"}
        The parameter the prior is for.

    Returns
    -------
    Prior

    Raises
    ------
    SurvmetaError
        Unknown family (the message lists the valid ones and the closest), wrong
        number of arguments, non-positive scale, or an empty support.
    """
    if kind not in ("tau", "mu"):
        raise SurvmetaError(f"prior kind must be 'tau' or 'mu', got {kind!r}")
    if isinstance(spec, Prior):
        if spec.kind != kind:
            raise SurvmetaError(f"prior {spec.spec} is for {spec.kind}, not {kind}")
        return spec
    if callable(spec):
        return Prior.from_density(spec, kind=kind,
                                  support=(0.0, math.inf) if kind == "tau" else (-math.inf, math.inf))
    if not isinstance(spec, str):
        raise SurvmetaError(f"a prior must be a spec string or a Prior, got {type(spec).__name__}")
    name, args = _split(spec)
    valid = TAU_FAMILIES if kind == "tau" else MU_FAMILIES
    if name not in valid:
        raise _unknown(name, valid, kind)
    n_args = _ARITY[name]
    arity = n_args if isinstance(n_args, tuple) else (n_args,)
    if len(args) not in arity:
        raise SurvmetaError(f"prior {spec!r}: {name} takes "
                            f"{' or '.join(map(str, arity))} argument(s), got {len(args)}")
    return _BUILDERS[name](args, spec, kind)


# Closed-form log densities of the common priors: the same numbers as scipy.stats' (to
# rounding) at a fraction of the cost of its frozen-distribution machinery, which the exact
# engine would otherwise pay on every tau it evaluates.
_LOG_SQRT_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _halfnormal_logpdf(scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """``scipy.stats.halfnorm.logpdf(x, scale=scale)`` for x >= 0."""
    const = _LOG_SQRT_2_OVER_PI - math.log(scale)
    inv2 = 0.5 / (scale * scale)
    return lambda x: const - inv2 * np.square(x)


def _halfcauchy_logpdf(scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """``scipy.stats.halfcauchy.logpdf(x, scale=scale)`` for x >= 0."""
    const = math.log(2.0 / (math.pi * scale))
    return lambda x: const - np.log1p(np.square(np.asarray(x) / scale))


def _normal_logpdf(mean: float, sd: float) -> Callable[[np.ndarray], np.ndarray]:
    """``scipy.stats.norm.logpdf(x, mean, sd)``."""
    const = -_LOG_SQRT_2PI - math.log(sd)
    return lambda x: const - 0.5 * np.square((np.asarray(x) - mean) / sd)


def _halfnormal(args, spec, kind):
    scale = _positive(args[0], "scale", spec)
    return Prior("halfnormal", {"scale": scale}, f"halfnormal({_fmt(scale)})", kind,
                 (0.0, math.inf), True, f"half-normal prior with scale {_fmt(scale)} on tau",
                 _halfnormal_logpdf(scale),
                 lambda x: stats.halfnorm.cdf(x, scale=scale))


def _halfcauchy(args, spec, kind):
    scale = _positive(args[0], "scale", spec)
    return Prior("halfcauchy", {"scale": scale}, f"halfcauchy({_fmt(scale)})", kind,
                 (0.0, math.inf), True, f"half-Cauchy prior with scale {_fmt(scale)} on tau",
                 _halfcauchy_logpdf(scale),
                 lambda x: stats.halfcauchy.cdf(x, scale=scale))


def _halft(args, spec, kind):
    df = _positive(args[0], "degrees of freedom", spec)
    scale = _positive(args[1], "scale", spec)
    return Prior("halft", {"df": df, "scale": scale}, f"halft({_fmt(df)}, {_fmt(scale)})", kind,
                 (0.0, math.inf), True,
                 f"half-Student-t prior with {_fmt(df)} degrees of freedom and scale "
                 f"{_fmt(scale)} on tau",
                 lambda x: math.log(2.0) + stats.t.logpdf(x, df, scale=scale),
                 lambda x: 2.0 * stats.t.cdf(x, df, scale=scale) - 1.0)


def _uniform(args, spec, kind):
    lower = _num(args[0], "lower limit", spec)
    upper = _num(args[1], "upper limit", spec)
    if not lower < upper:
        raise SurvmetaError(f"prior {spec!r}: lower limit must be below the upper limit")
    if kind == "tau" and lower < 0:
        raise SurvmetaError(f"prior {spec!r}: tau cannot be negative (lower limit {lower:g})")
    width = upper - lower
    return Prior("uniform", {"lower": lower, "upper": upper},
                 f"uniform({_fmt(lower)}, {_fmt(upper)})", kind, (lower, upper), True,
                 f"uniform prior from {_fmt(lower)} to {_fmt(upper)} on {kind}",
                 lambda x: np.full(np.shape(x), -math.log(width)),
                 lambda x: (np.asarray(x) - lower) / width)


def _exponential(args, spec, kind):
    rate = _positive(args[0], "rate", spec)
    return Prior("exponential", {"rate": rate}, f"exponential({_fmt(rate)})", kind,
                 (0.0, math.inf), True, f"exponential prior with rate {_fmt(rate)} on tau",
                 lambda x: math.log(rate) - rate * np.asarray(x),
                 lambda x: -np.expm1(-rate * np.asarray(x)))


def _lognormal_core(mu: float, sigma: float, spec: str, kind: str, description: str) -> Prior:
    # log(tau^2) ~ N(mu, sigma^2)  <=>  log(tau) ~ N(mu/2, (sigma/2)^2)
    m, s = mu / 2.0, sigma / 2.0

    def logpdf(x):
        x = np.asarray(x, dtype=float)
        lx = np.log(np.where(x > 0, x, 1.0))
        return np.where(x > 0, stats.norm.logpdf(lx, m, s) - lx, -np.inf)

    def cdf(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, special.ndtr((np.log(x) - m) / s), 0.0)

    return Prior("lognormal_tau2", {"mu": mu, "sigma": sigma}, spec, kind, (0.0, math.inf),
                 True, description, logpdf, cdf)


def _lognormal_tau2(args, spec, kind):
    mu = _num(args[0], "mean of log(tau^2)", spec)
    sigma = _positive(args[1], "SD of log(tau^2)", spec)
    return _lognormal_core(mu, sigma, f"lognormal_tau2({_fmt(mu)}, {_fmt(sigma)})", kind,
                           f"log-normal prior on tau^2 with mean {_fmt(mu)} and SD "
                           f"{_fmt(sigma)} of log(tau^2)")


def _turner(args, spec, kind):
    from survmeta.exact.turner import turner_parameters  # lazy: avoids an import cycle

    row = turner_parameters(args[0], args[1])
    words = ("the marginal setting" if row.outcome == "any"
             else f"outcome type '{row.outcome}', comparison '{row.comparison}'")
    description = (f"log-normal prior on tau^2 with mean {_fmt(row.mu)} and SD {_fmt(row.sigma)} "
                   f"of log(tau^2) (Turner et al. 2015, Table IV, {words}; derived for log "
                   f"odds ratios, used for log hazard ratios as an approximation)")
    return _lognormal_core(row.mu, row.sigma, f"turner({args[0]}, {args[1]})", kind, description)


def _logt_core(location: float, scale: float, df: float, spec: str, kind: str,
               description: str) -> Prior:
    # log(tau^2) ~ t_df(location, scale)  <=>  log(tau) ~ t_df(location/2, scale/2)
    m, s = location / 2.0, scale / 2.0

    def logpdf(x):
        x = np.asarray(x, dtype=float)
        lx = np.log(np.where(x > 0, x, 1.0))
        return np.where(x > 0, stats.t.logpdf(lx, df, loc=m, scale=s) - lx, -np.inf)

    def cdf(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, stats.t.cdf(np.log(np.where(x > 0, x, 1.0)), df, loc=m,
                                               scale=s), 0.0)

    return Prior("logt_tau2", {"location": location, "scale": scale, "df": df}, spec, kind,
                 (0.0, math.inf), True, description, logpdf, cdf)


def _logt_tau2(args, spec, kind):
    location = _num(args[0], "location of log(tau^2)", spec)
    scale = _positive(args[1], "scale of log(tau^2)", spec)
    df = _positive(args[2], "degrees of freedom", spec)
    return _logt_core(location, scale, df,
                      f"logt_tau2({_fmt(location)}, {_fmt(scale)}, {_fmt(df)})", kind,
                      f"log-Student-t prior on tau^2: log(tau^2) ~ t with {_fmt(df)} degrees of "
                      f"freedom, location {_fmt(location)} and scale {_fmt(scale)}")


def _rhodes(args, spec, kind):
    from survmeta.exact.rhodes import rhodes_parameters  # lazy: avoids an import cycle

    row = rhodes_parameters(*args)
    words = ("the general setting" if row.outcome == "any"
             else f"outcome type '{row.outcome}', comparison '{row.comparison}', area "
                  f"'{row.area}'")
    description = (f"log-Student-t prior on tau^2 with location {_fmt(row.location)}, scale "
                   f"{_fmt(row.scale)} and {_fmt(row.df)} degrees of freedom (Rhodes et al. 2015, "
                   f"{words}; derived for standardized mean differences, not calibrated for log "
                   f"hazard ratios)")
    return _logt_core(row.location, row.scale, row.df, f"rhodes({', '.join(args)})", kind,
                      description)


def _normal(args, spec, kind):
    mean = _num(args[0], "mean", spec)
    sd = _positive(args[1], "sd", spec)
    return Prior("normal", {"mean": mean, "sd": sd}, f"normal({_fmt(mean)}, {_fmt(sd)})", kind,
                 (-math.inf, math.inf), True,
                 f"normal prior with mean {_fmt(mean)} and SD {_fmt(sd)} on {kind}",
                 _normal_logpdf(mean, sd),
                 lambda x: stats.norm.cdf(x, mean, sd))


def _flat(args, spec, kind):
    support = (0.0, math.inf) if kind == "tau" else (-math.inf, math.inf)
    where = "tau >= 0" if kind == "tau" else "mu"
    return Prior("flat", {}, "flat", kind, support, False,
                 f"improper flat (uniform) prior on {where}",
                 lambda x: np.zeros(np.shape(x)))


def _fixed(args, spec, kind):
    return Prior("fixed", {}, "fixed", kind, (0.0, 0.0), True,
                 "tau fixed at 0 (common-effect model)",
                 lambda x: np.zeros(np.shape(x)), lambda x: np.ones(np.shape(x)))


_BUILDERS = {"halfnormal": _halfnormal, "halfcauchy": _halfcauchy, "halft": _halft,
             "uniform": _uniform, "exponential": _exponential,
             "lognormal_tau2": _lognormal_tau2, "turner": _turner, "logt_tau2": _logt_tau2,
             "rhodes": _rhodes, "normal": _normal,
             "flat": _flat, "fixed": _fixed}
