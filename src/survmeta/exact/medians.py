"""Pooling median survival times of single-group studies.

Two families of estimators, each named in the output:

``log-median``
    Random-effects pooling of the log medians. Each study's standard error is
    taken from its confidence interval for the median, assumed symmetric on the
    log scale: ``SE = (log(upper) - log(lower)) / (2 z)`` with ``z`` the normal
    quantile of the interval's level (``ci_level``, 95% unless told otherwise).
    When the upper limit was not reached (NR), the SE comes from the lower half
    alone, ``(log(median) - log(lower)) / z``, and the study is flagged
    (``one_sided``); likewise a missing or zero lower limit uses the upper half.
    The log medians are pooled with the exact Bayesian engine
    (:func:`survmeta.exact.bayesmeta`) and with the frequentist companion
    (:func:`survmeta.exact.rma`); the pooled median is ``exp(mu)`` with its
    credible (confidence) interval and the prediction interval for the median of
    a new study, in the time unit of the data.

``MM`` and ``WM``
    The median of the study medians and its sample-size weighted version
    (McGrath S, Zhao X, Qin ZZ, Steele R, Benedetti A. One-sample aggregate data
    meta-analysis of medians. Stat Med 2019;38:969-984; doi:10.1002/sim.8013),
    with the confidence interval from inverting the sign test by its normal
    approximation, as the R package metamedian's ``pool.med(yi, wi,
    norm.approx = TRUE)`` computes it: the ``1/2 -+ p`` quantiles of the study
    medians with ``p = min(1/2, z / (2 sqrt(k)))``, ``z = qnorm(0.975)`` at the
    95% level (``pool.med``'s; at another ``level`` z is the normal quantile at
    ``(1 + level) / 2``). The sign test's exact-binomial interval
    (``norm.approx = FALSE``) is not implemented. MM uses R's default
    (type 7) sample quantile; WM the weighted quantile of Hmisc's
    ``wtd.quantile`` (the type 7 quantile of the medians each repeated ``n``
    times, for integer ``n``).

The quantile-estimation (QE) method of the same paper (fitting parametric
distributions to each study's reported quantiles) is not implemented: it needs
the first and third quartiles or the range of each study, which survival series
rarely print, and no published number could be found here to check an
implementation against.

A median that was not reached is a bound (the median exceeds the time
followed), not a number: such a study is left out of every pooled estimate and
listed as excluded ("median not reached (> x months)", x being the lower limit
of its interval when one was printed).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.engine import bayesmeta
from survmeta.exact.frequentist import FrequentistResult, rma

#: Default priors of the log-median pooling: half-normal(0.5) on tau (between-study
#: spread of the log medians; a ratio of two studies' medians within about e^1),
#: and a flat prior on mu (the log median has no natural centre).
TAU_PRIOR = "halfnormal(0.5)"
MU_PRIOR = "flat"


def _is_nr(x) -> bool:
    """True for a bound that was not reached (NR, None, NaN, +inf)."""
    if x is None:
        return True
    if isinstance(x, str):
        if x.strip().upper() == "NR":
            return True
        raise SurvmetaError(f"cannot read {x!r} as a time; give a number or 'NR'")
    if str(x) == "NR":  # survmeta.registry.NR
        return True
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise SurvmetaError(f"cannot read {x!r} as a time; give a number or 'NR'") from None
    return math.isnan(v) or v == math.inf


@dataclass(frozen=True)
class MedianStudy:
    """One study's median as it enters the pooling.

    Attributes
    ----------
    label : str
    median, lower, upper : float or None
        As given; None for a value not reached (NR) or not printed.
    n : float or None
        Sample size (weights of WM).
    log_median, se : float or None
        Log median and its SE from the interval (None when not computable).
    one_sided : bool
        True when the SE came from one half of the interval only (an NR or
        missing limit).
    included : bool
        True when the study enters the log-median pooling.
    reason : str or None
        Why it does not (e.g. ``"median not reached (> 8.1 months)"``).
    """

    label: str
    median: float | None
    lower: float | None
    upper: float | None
    n: float | None
    log_median: float | None
    se: float | None
    one_sided: bool
    included: bool
    reason: str | None


@dataclass(frozen=True)
class LogMedianPool:
    """Random-effects pooling of log medians (both engines), on the time scale.

    Attributes
    ----------
    k : int
    median, lower, upper : float
        Posterior median of ``exp(mu)`` and its equal-tailed credible interval.
    pi_lower, pi_upper : float
        Prediction interval for the median of a new study.
    tau, tau_lower, tau_upper : float
        Posterior median of tau (log scale) and its credible interval.
    tau_prior, mu_prior : str
    frequentist : FrequentistResult
        :func:`survmeta.exact.rma` on the log medians.
    freq_median, freq_lower, freq_upper : float
        ``exp`` of its estimate and confidence interval.
    freq_pi_lower, freq_pi_upper : float or None
        ``exp`` of its prediction interval (None for the common-effect model).
    engine : {"exact", "mcmc"}
        How the Bayesian fit was made: the exact engine (this module) or PyMC's NUTS
        (:func:`survmeta.models.fit_log_medians`, via :func:`survmeta.pooling.pool`).
    """

    k: int
    median: float
    lower: float
    upper: float
    pi_lower: float
    pi_upper: float
    tau: float
    tau_lower: float
    tau_upper: float
    tau_prior: str
    mu_prior: str
    frequentist: FrequentistResult
    freq_median: float
    freq_lower: float
    freq_upper: float
    freq_pi_lower: float | None
    freq_pi_upper: float | None
    engine: str = "exact"

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["frequentist"] = self.frequentist.to_dict()
        return out


@dataclass(frozen=True)
class MedianOfMedians:
    """Median of medians (MM) or weighted median of medians (WM).

    Attributes
    ----------
    method : str
        ``"MM"`` or ``"WM"``.
    k : int
    estimate, lower, upper : float
        Pooled median and the sign-test confidence interval (normal approximation).
    level : float
    """

    method: str
    k: int
    estimate: float
    lower: float
    upper: float
    level: float

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class MedianPool:
    """Result of :func:`pool_medians`.

    Attributes
    ----------
    studies : tuple of MedianStudy
    log_median : LogMedianPool or None
        None when no study has a median and a usable interval.
    mm : MedianOfMedians or None
        None when no study has a median.
    wm : MedianOfMedians or None
        None without sample sizes.
    level : float
        Level of the pooled intervals.
    ci_level : float
        Level assumed for the studies' printed intervals.
    time_unit : str
    excluded : tuple of str
        ``"<label>: <reason>"`` for every study left out of the pooled estimates.
    notes : tuple of str
    """

    studies: tuple[MedianStudy, ...]
    log_median: LogMedianPool | None
    mm: MedianOfMedians | None
    wm: MedianOfMedians | None
    level: float
    ci_level: float
    time_unit: str
    excluded: tuple[str, ...]
    notes: tuple[str, ...]

    def summary(self) -> pd.DataFrame:
        """One row per estimator (``log-median (exact)`` or ``(mcmc)``, ``log-median (REML)``, ``MM``, ``WM``).

        Columns: ``k``, ``median``, ``lower``, ``upper``, ``pi_lower``, ``pi_upper``
        (in ``time_unit``; no prediction interval for MM and WM).
        """
        rows = []
        lm = self.log_median
        if lm is not None:
            rows.append({"method": f"log-median ({lm.engine})", "k": lm.k, "median": lm.median,
                         "lower": lm.lower, "upper": lm.upper, "pi_lower": lm.pi_lower,
                         "pi_upper": lm.pi_upper})
            rows.append({"method": f"log-median ({lm.frequentist.method})", "k": lm.k,
                         "median": lm.freq_median, "lower": lm.freq_lower,
                         "upper": lm.freq_upper, "pi_lower": lm.freq_pi_lower,
                         "pi_upper": lm.freq_pi_upper})
        for res in (self.mm, self.wm):
            if res is not None:
                rows.append({"method": res.method, "k": res.k, "median": res.estimate,
                             "lower": res.lower, "upper": res.upper, "pi_lower": None,
                             "pi_upper": None})
        cols = ["k", "median", "lower", "upper", "pi_lower", "pi_upper"]
        if not rows:
            return pd.DataFrame(columns=cols, index=pd.Index([], name="method"))
        return pd.DataFrame(rows).set_index("method")[cols]

    def plot(self, **kwargs):
        """Forest plot on a time axis; see :func:`survmeta.plotting.plot_median_forest`.

        matplotlib is imported only here, so this module does not need it.
        """
        from survmeta.plotting.single_arm import plot_median_forest

        return plot_median_forest(self, **kwargs)

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {"studies": [asdict(s) for s in self.studies],
                "log_median": None if self.log_median is None else self.log_median.to_dict(),
                "mm": None if self.mm is None else self.mm.to_dict(),
                "wm": None if self.wm is None else self.wm.to_dict(),
                "level": self.level, "ci_level": self.ci_level, "time_unit": self.time_unit,
                "excluded": list(self.excluded), "notes": list(self.notes)}



def _value(x, what: str, label: str) -> float | None:
    if _is_nr(x):
        return None
    v = float(x)
    if v < 0.0 or not math.isfinite(v):
        raise SurvmetaError(f"study {label}: {what} must be a non-negative time, got {x!r}")
    return v


def _fmt(x: float) -> str:
    return f"{x:g}"


def _study(label: str, m, lo, hi, n, z: float, unit: str) -> MedianStudy:
    median = _value(m, "the median", label)
    lower = _value(lo, "the lower limit", label)
    upper = _value(hi, "the upper limit", label)
    if median is not None and median <= 0.0:
        raise SurvmetaError(f"study {label}: the median must be positive, got {m!r}")
    if lower is not None and upper is not None and lower > upper:
        raise SurvmetaError(f"study {label}: lower limit {lower:g} above upper limit {upper:g}")
    if median is not None and ((lower is not None and median < lower)
                               or (upper is not None and median > upper)):
        raise SurvmetaError(f"study {label}: median {median:g} outside its interval "
                            f"({'NR' if lower is None else _fmt(lower)}, "
                            f"{'NR' if upper is None else _fmt(upper)})")
    if median is None and upper is not None:
        raise SurvmetaError(f"study {label}: a median not reached cannot have a finite "
                            f"upper limit ({upper:g})")
    n_val = None
    if n is not None:
        n_val = float(n)
        if not (math.isfinite(n_val) and n_val > 0.0):
            raise SurvmetaError(f"study {label}: n must be positive, got {n!r}")
    if median is None:
        bound = f" (> {_fmt(lower)} {unit})" if lower is not None and lower > 0 else ""
        return MedianStudy(label, None, lower, None, n_val, None, None, False, False,
                           f"median not reached{bound}")
    y = math.log(median)
    lo_ok = lower is not None and lower > 0.0
    hi_ok = upper is not None
    if lo_ok and hi_ok:
        assert lower is not None and upper is not None
        se, one_sided = (math.log(upper) - math.log(lower)) / (2.0 * z), False
    elif lo_ok:
        assert lower is not None
        se, one_sided = (y - math.log(lower)) / z, True
    elif hi_ok:
        assert upper is not None
        se, one_sided = (math.log(upper) - y) / z, True
    else:
        return MedianStudy(label, median, lower, upper, n_val, y, None, False, False,
                           "no usable confidence interval for the median")
    if not se > 0.0:
        return MedianStudy(label, median, lower, upper, n_val, y, None, one_sided, False,
                           "confidence interval of zero width on the log scale")
    return MedianStudy(label, median, lower, upper, n_val, y, se, one_sided, True, None)


def _weighted_quantile(x: np.ndarray, w: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Hmisc's ``wtd.quantile(x, weights = w, probs)`` (type ``"quantile"``, ``normwt = FALSE``).

    The type 7 quantile of ``x`` with each value counted ``w`` times: order
    ``1 + (sum(w) - 1) p``, interpolating between the order statistics at its
    floor and floor + 1, the j-th being the smallest ``x`` whose cumulative
    weight reaches ``j``.
    """
    ux, inv = np.unique(x, return_inverse=True)
    wts = np.bincount(inv, weights=w)
    cum = np.cumsum(wts)
    total = float(cum[-1])
    order = 1.0 + (total - 1.0) * probs
    low = np.maximum(np.floor(order), 1.0)
    high = np.minimum(low + 1.0, total)
    frac = order % 1.0

    def stat(j):
        idx = np.searchsorted(cum, j, side="left")
        return ux[np.minimum(idx, ux.size - 1)]

    return (1.0 - frac) * stat(low) + frac * stat(high)


def median_of_medians(medians, n=None, level: float = 0.95) -> MedianOfMedians:
    """Median of medians (MM), or weighted by ``n`` (WM), with the sign-test interval.

    McGrath et al. (2019, Stat Med 38:969-984); metamedian's
    ``pool.med(yi, wi, norm.approx = TRUE)``: the quantiles of the medians at
    ``1/2 - p``, ``1/2`` and ``1/2 + p`` with ``p = min(1/2, z / (2 sqrt(k)))``,
    ``z`` the normal quantile at ``(1 + level) / 2``.

    Parameters
    ----------
    medians : array_like
        Finite, positive study medians.
    n : array_like, optional
        Positive weights (sample sizes); WM when given.
    level : float

    Returns
    -------
    MedianOfMedians
    """
    level = check_level(level, "level")
    y = np.atleast_1d(np.asarray(medians, dtype=float))
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        raise SurvmetaError("medians must be a non-empty 1-D array of finite numbers")
    k = y.size
    p = min(0.5, float(stats.norm.ppf(0.5 + level / 2.0)) / (2.0 * math.sqrt(k)))
    probs = np.array([0.5 - p, 0.5, 0.5 + p])
    if n is None:
        q = np.quantile(y, probs)  # numpy's default "linear" is R's type 7
        method = "MM"
    else:
        w = np.atleast_1d(np.asarray(n, dtype=float))
        if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise SurvmetaError("n must hold one positive number per median")
        q = _weighted_quantile(y, w, probs)
        method = "WM"
    return MedianOfMedians(method, k, float(q[1]), float(q[0]), float(q[2]), level)


def _log_pool(studies: list[MedianStudy], level: float, tau_prior, mu_prior, method: str,
              test: str) -> LogMedianPool:
    y = np.array([s.log_median for s in studies], dtype=float)
    se = np.array([s.se for s in studies], dtype=float)
    labels = [s.label for s in studies]
    post = bayesmeta(y, se, tau_prior=tau_prior, mu_prior=mu_prior, labels=labels, level=level)
    lo, hi = post.eti("hr", level)
    pi_lo, pi_hi = post.eti("predict_hr", level)
    t_lo, t_hi = post.eti("tau", level)
    freq = rma(y, se, method=method, test=test, level=level)
    return LogMedianPool(
        k=int(y.size), median=float(post.median("hr")), lower=float(lo), upper=float(hi),
        pi_lower=float(pi_lo), pi_upper=float(pi_hi), tau=float(post.median("tau")),
        tau_lower=float(t_lo), tau_upper=float(t_hi), tau_prior=post.tau_prior.spec,
        mu_prior=post.mu_prior.spec, frequentist=freq, freq_median=math.exp(freq.estimate),
        freq_lower=math.exp(freq.ci_lower), freq_upper=math.exp(freq.ci_upper),
        freq_pi_lower=None if freq.pi_lower is None else math.exp(freq.pi_lower),
        freq_pi_upper=None if freq.pi_upper is None else math.exp(freq.pi_upper))


def pool_medians(medians, lower, upper, n=None, labels=None, *, level: float = 0.95,
                 ci_level: float = 0.95, tau_prior=TAU_PRIOR, mu_prior=MU_PRIOR,
                 method: str = "REML", test: str = "z", time_unit: str = "months"
                 ) -> MedianPool:
    """Pool single-group median survival times (log-median pooling, MM and WM).

    Parameters
    ----------
    medians, lower, upper : sequence
        Each study's median and the limits of its confidence interval, in
        ``time_unit``. A value not reached is ``"NR"``, ``None``, NaN, ``inf`` or
        :data:`survmeta.registry.NR`; a lower limit not printed is ``None``.
    n : sequence, optional
        Sample sizes: the weights of WM (no WM without them).
    labels : sequence of str, optional
        Study labels (default ``"1"``, ``"2"``, ...).
    level : float
        Level of the pooled credible, confidence and prediction intervals.
    ci_level : float
        Level assumed for the studies' intervals (default 95%), giving
        ``z = Phi^-1((1 + ci_level) / 2)`` in the SE of each log median.
    tau_prior, mu_prior : str or Prior
        Priors of the exact engine (default :data:`TAU_PRIOR`, :data:`MU_PRIOR`).
    method, test : str
        tau^2 estimator and test of the frequentist companion (see :func:`rma`).
    time_unit : str
        Unit of the times, used in the output only.

    Returns
    -------
    MedianPool

    Raises
    ------
    SurvmetaError
        Arrays of different lengths, a median outside its interval, a negative
        time, a finite upper limit for a median not reached, no study with a
        median, or invalid priors or levels.
    """
    level = check_level(level, "level")
    ci_level = check_level(ci_level, "ci_level")
    med, lo, hi = list(medians), list(lower), list(upper)
    k = len(med)
    if k == 0:
        raise SurvmetaError("no studies given")
    if len(lo) != k or len(hi) != k:
        raise SurvmetaError(f"got {k} medians, {len(lo)} lower and {len(hi)} upper limits")
    ns = [None] * k if n is None else list(n)
    if len(ns) != k:
        raise SurvmetaError(f"got {len(ns)} sample sizes for {k} medians")
    if labels is None:
        labels = [str(i + 1) for i in range(k)]
    labels = [str(lab) for lab in labels]
    if len(labels) != k:
        raise SurvmetaError(f"got {len(labels)} labels for {k} medians")
    if len(set(labels)) != k:
        raise SurvmetaError("study labels must be unique")
    z = float(stats.norm.ppf(0.5 + ci_level / 2.0))
    studies = [_study(labels[i], med[i], lo[i], hi[i], ns[i], z, time_unit) for i in range(k)]
    reached = [s for s in studies if s.median is not None]
    if not reached:
        raise SurvmetaError("no study has a median that was reached; nothing to pool")
    included = [s for s in studies if s.included]
    excluded = tuple(f"{s.label}: excluded: {s.reason}" for s in studies if not s.included)
    notes: list[str] = []
    one_sided = [s.label for s in included if s.one_sided]
    if one_sided:
        notes.append("SE of the log median from one half of the interval only (a limit not "
                     "reached or not printed): " + ", ".join(one_sided))
    notes.append(f"study intervals taken as {100 * ci_level:g}% intervals, symmetric on the "
                 "log scale")
    no_ci = [s.label for s in reached if not s.included]
    if no_ci:
        notes.append("in MM/WM but not in the log-median pooling (no usable interval): "
                     + ", ".join(no_ci))
    log_pool = (_log_pool(included, level, tau_prior, mu_prior, method, test)
                if included else None)
    mm = median_of_medians([s.median for s in reached], level=level)
    wm = None
    if n is not None:
        if any(s.n is None for s in reached):
            notes.append("WM not computed: a sample size is missing")
        else:
            wm = median_of_medians([s.median for s in reached], [s.n for s in reached], level)
    return MedianPool(tuple(studies), log_pool, mm, wm, level, ci_level, time_unit, excluded,
                      tuple(notes))
