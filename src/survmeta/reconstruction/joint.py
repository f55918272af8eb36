"""The joint reconstruction: one likelihood over everything a comparison printed.

When a paper prints no hazard ratio, the single methods of
:mod:`survmeta.reconstruction.methods` each use one or two of the printed
numbers and leave the rest aside: ``median_ratio_p`` takes the size of the
effect from the medians and only its SE from the p-value, ``p_events`` needs
events per arm. The p-value and the group sizes together say far more about
``|log HR|`` than the medians do: with V the log-rank information,
``|log HR| ~ |z| / sqrt(V)``, and V is pinned down by the events, or to
within about a quarter by the group sizes and a calibrated event fraction.
:func:`joint` combines every printed number in one posterior for the log HR
on a grid (pure numpy/scipy).

The model
---------
Write ``h`` for the log HR the paper would have printed (the Cox estimate on
its patients, experimental vs reference) and ``V`` for its information
(``1 / SE^2``). With a flat prior on ``h`` (on ``[-H, H]``, :data:`H_MAX`) the
posterior is the product of what was printed:

* **median ratio** (both medians reached): ``y = log(m_ref / m_exp) ~ N(h,
  s_mr^2)``; ``s_mr`` calibrated (the RMS of ``y - h`` in the validation
  trials, the same number as the median-ratio family's extra SD). A median
  not reached gives no ratio; it still gives the sign (below);
* **p-value** of the two-group test, as printed: ``z = h sqrt(V) + e``,
  ``e ~ N(0, s_z^2)`` (``s_z`` calibrated: the printed test against the
  Wald z of the printed HR). The printed digits are an interval: ``P = 0.003``
  says ``p`` is in ``[0.0025, 0.0035]``, so ``|z|`` is in
  ``[2.92, 3.02]``; ``P < c`` is the censored observation ``|z| > z_c``;
  ``P > c`` and "NS" (read as ``P > 0.05``) bound ``|z|`` from above. A
  two-sided p says nothing of the sign (the likelihood is that of ``|z|``);
  a one-sided p with a stated direction is a signed observation of the
  statistic in the tested direction. A log-rank chi-square printed without a
  p-value is ``z = sqrt(chi2)``, its digits an interval likewise;
* **beyond a bound**: a p printed only as ``P < c`` leaves ``|z|`` unbounded
  above, so without medians the posterior would run to ``H``. A calibrated
  prior on how far beyond the bound the statistic lies, exponential with
  mean ``kappa`` (fitted on the validation trials that print a bound), stands
  in for what the paper did not print;
* **V integrated over its uncertainty**: ``log V ~ N(log V0 + bias, s^2)``,
  truncated at ``V <= n_e n_r / (n_e + n_r)`` (at most one event per
  patient), from the first route the comparison allows, in order: events
  per arm (``V0 = d_e d_r / (d_e + d_r)``), total events with the
  allocation (``D n_e n_r / N^2``), the median follow-up with exponential
  arms (:func:`follow_up_v0`), the median CIs (``1 / (se_e^2 + se_r^2)``),
  the group sizes with an event fraction (``V0 = n_e n_r / N``, the bias is
  the log event fraction). ``bias`` and ``s`` are calibrated per route; a
  reviewer's ``event_fraction = { low, high }`` replaces the last one;
* **direction**: a stated ``direction``, the sign of a printed HR or a median
  not reached in one arm only constrain the sign of ``h``; otherwise the sign
  comes from the median ratio's likelihood. Medians that barely differ then
  leave mass on both signs, which widens the posterior instead of picking a
  sign (flag ``sign_uncertain``);
* **HR without CI or p**: a printed HR that no exact method can use enters
  as ``log HR ~ N(h, s_round^2)``, ``s_round`` the rounding of its digits.

The estimate
------------
``log_hr`` is the posterior **mean** of ``h``; ``se_extra`` its posterior SD
(the uncertainty about the printed HR); ``se_sampling = sqrt(E[1 / V])``, the
sampling SE of ``h`` about the true log HR averaged over the posterior of V.
``se = sqrt(se_sampling^2 + se_extra^2)`` is then the posterior SD of the
true log HR: ``theta | h, V ~ N(h, 1/V)`` under a flat prior. Without a
p-value the sampling SE is the median ratio's own (from the median CIs, the
events or the trial-size floor, as :func:`~survmeta.reconstruction.methods.median_ratio_ci`
computes it), so with only a median ratio the estimate equals today's
median-ratio estimate with its calibrated extra SD. A posterior that is
clearly not normal (its 95% equal-tailed interval and mean +- 1.96 SD differ
by more than 10% of the interval's width) is flagged ``non_normal``; the
pooling engines use the normal approximation all the same.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import ndtr
from scipy.stats import norm

from survmeta.errors import SurvmetaError
from survmeta.registry.records import NR, Comparison, PValue

__all__ = [
    "H_MAX",
    "JointCalibration",
    "JointPosterior",
    "ROUTES",
    "VRoute",
    "follow_up_v0",
    "joint",
    "joint_posterior",
    "load_joint_calibration",
    "p_interval",
]

#: Half-width of the grid of log HRs: the flat prior on ``h`` lives on ``[-H_MAX, H_MAX]``.
H_MAX = 3.5

#: The routes to V, in order of preference (module docstring).
ROUTES: tuple[str, ...] = ("events", "total_events", "follow_up", "patients", "median_ci")

ROUTE_TITLES = {
    "events": "events per arm, V0 = d_e d_r / (d_e + d_r)",
    "total_events": "total events with the allocation, V0 = D n_e n_r / (n_e + n_r)^2",
    "follow_up": "median follow-up with exponential arms (expected events per arm)",
    "median_ci": "the median CIs, V0 = 1 / (se_e^2 + se_r^2) on the log scale",
    "patients": "group sizes and an event fraction, V = f n_e n_r / (n_e + n_r)",
}

#: Days per time unit, to put a follow-up in the medians' unit.
DAYS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}

#: Half-width of the spread of potential follow-up about its median, as a share of the
#: median: potential follow-up uniform on ``[F (1 - w), F (1 + w)]`` (uniform accrual over
#: a period as long as the median follow-up).
FOLLOW_UP_SPREAD = 0.5

#: A follow-up this many times the longer median is implausible (nearly every patient
#: would have had the event): warned about.
FOLLOW_UP_IMPLAUSIBLE = 6.0

#: A ``non_normal`` posterior: its 95% ETI and mean +- 1.96 SD differ by more than this
#: share of the ETI's width at either end.
NON_NORMAL = 0.10

#: Posterior mass on the minority sign above which the sign is flagged ``sign_uncertain``.
SIGN_UNCERTAIN = 0.05

#: A median ratio this many SDs from the posterior mean is said to disagree with the p-value.
CONFLICT_SD = 3.0

_CALIBRATION_PATH = Path(__file__).with_name("calibration.json")


# ---------------------------------------------------------------------------
# calibration


@dataclass(frozen=True)
class VRoute:
    """Calibrated error of one route to V: ``log V = log V0 + bias + N(0, sd^2)``."""

    bias: float
    sd: float
    n: int


@dataclass(frozen=True)
class JointCalibration:
    """Hyperparameters of the joint model (``calibration.json``, key ``"joint"``).

    Attributes
    ----------
    s_mr : float
        SD of ``log(m_ref / m_exp) - h`` (root mean square in the validation trials).
    s_z : float
        SD of the printed test statistic about ``h sqrt(V)``.
    kappa : float
        Mean excess of ``|z|`` beyond a printed bound ``P < c`` (exponential prior).
    routes : dict
        Route id (:data:`ROUTES`) -> :class:`VRoute`; a route without an entry is
        not used.
    n : int
        Validation rows behind the calibration; ``source`` where they come from.
    """

    s_mr: float
    s_z: float
    kappa: float
    routes: dict = field(default_factory=dict)
    n: int = 0
    source: str = ""

    def to_dict(self) -> dict:
        return {
            "s_mr": self.s_mr,
            "s_z": self.s_z,
            "kappa": self.kappa,
            "routes": {k: {"bias": r.bias, "sd": r.sd, "n": r.n} for k, r in self.routes.items()},
            "n": self.n,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data, where: str = "calibration: joint") -> JointCalibration:
        if not isinstance(data, dict):
            raise SurvmetaError(f"{where}: expected an object")
        try:
            s_mr, s_z, kappa = (float(data[k]) for k in ("s_mr", "s_z", "kappa"))
            routes = {}
            for name, entry in dict(data.get("routes", {})).items():
                if name not in ROUTES:
                    raise SurvmetaError(f"{where}: unknown route {name!r}; known: {', '.join(ROUTES)}")
                routes[name] = VRoute(float(entry["bias"]), float(entry["sd"]), int(entry["n"]))
        except (KeyError, TypeError, ValueError):
            raise SurvmetaError(
                f"{where}: needs numeric s_mr, s_z, kappa and routes {{name: {{bias, sd, n}}}}"
            ) from None
        for name, value in (("s_mr", s_mr), ("s_z", s_z), ("kappa", kappa)):
            if not (math.isfinite(value) and value > 0):
                raise SurvmetaError(f"{where}: {name} must be a positive number, got {value!r}")
        for name, r in routes.items():
            if not (math.isfinite(r.bias) and math.isfinite(r.sd) and r.sd >= 0):
                raise SurvmetaError(f"{where}: routes.{name} needs a finite bias and sd >= 0")
        return cls(s_mr, s_z, kappa, routes, int(data.get("n", 0)), str(data.get("source", "")))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> JointCalibration | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SurvmetaError(f"{path}: cannot read calibration file: {exc}") from None
    entry = data.get("joint") if isinstance(data, dict) else None
    return None if entry is None else JointCalibration.from_dict(entry, f"{path}: joint")


def load_joint_calibration(path: str | Path | None = None) -> JointCalibration | None:
    """The joint model's calibration from ``calibration.json`` (None when absent)."""
    p = Path(path) if path is not None else _CALIBRATION_PATH
    if not p.exists():
        return None
    return _load(str(p), p.stat().st_mtime)


# ---------------------------------------------------------------------------
# what was printed


_NUMBER = re.compile(r"(\d*)\.?(\d*)(?:e([-+]?\d+))?$", re.I)


def _half_ulp(text: str, value: float) -> float:
    """Half a unit in the last printed digit of ``text`` (a number as printed)."""
    t = text.strip().lstrip("pP").lstrip("=<>≤≥ ").replace(" ", "")
    m = _NUMBER.match(t)
    if not m:
        return 0.0
    decimals = len(m.group(2) or "")
    exponent = int(m.group(3) or 0)
    return 0.5 * 10.0 ** (exponent - decimals)


def p_interval(pv: PValue) -> tuple[float, float]:
    """The p-values a printed ``P = x`` stands for: ``x`` +- half its last digit.

    ``"0.003"`` -> ``(0.0025, 0.0035)``; ``"0.04"`` -> ``(0.035, 0.045)``;
    ``"1e-5"`` -> ``(5e-6, 1.5e-5)``. Only for an exact p (relation ``"="``).
    """
    if pv.value is None:
        raise ValueError(f"p {pv.text!r} has no value (an exact p is needed)")
    p = float(pv.value)
    half = _half_ulp(pv.text, p)
    lo, hi = p - half, min(p + half, 1.0)
    if lo <= 0.0:
        lo = p / 2.0 if half > 0 else p
    return lo, hi


@dataclass(frozen=True)
class _ZObs:
    """The printed test statistic: ``kind`` "interval" (a, b), "above" (a), "below" (b).

    ``signed`` for a one-sided p with a stated direction: the statistic in the
    tested direction, ``tested`` the sign of ``h`` that direction means.
    """

    kind: str
    a: float
    b: float
    signed: bool
    tested: int
    text: str
    assumptions: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


def _z_observation(c: Comparison) -> _ZObs | None:
    pv = c.p
    tested = 0
    if c.direction is not None:
        tested = -1 if c.direction == "favours experimental" else 1
    if pv is None:
        if c.chisq is None:
            return None
        x2 = float(c.chisq)
        half = _half_ulp(repr(x2), x2)
        a, b = math.sqrt(max(x2 - half, 0.0)), math.sqrt(x2 + half)
        return _ZObs("interval", a, b, False, 0, f"chi-square {x2:g}", (
            f"log-rank chi-square {x2:g} read as |z| in [{a:.3f}, {b:.3f}] (its printed digits)",))
    if pv.relation == "NS" or pv.value is None:
        z = float(norm.isf(0.025))
        return _ZObs("below", 0.0, z, False, 0, pv.text, (
            f"p printed as {pv.text!r}: read as P > 0.05 (|z| < {z:.2f}), the usual meaning",),
            ("p_upper_censored",))
    one_sided = pv.sided == 1
    signed = one_sided and tested != 0
    assumptions = []
    flags = []
    if one_sided and not signed:
        assumptions.append("one-sided p without a stated direction: read as the two-sided 2p")

    def zval(p: float) -> float:
        if signed:
            return float(norm.isf(p))
        p2 = min(2.0 * p, 1.0) if one_sided else p
        return float(norm.isf(p2 / 2.0))

    if one_sided:
        flags.append("one_sided_p")
    if signed:
        assumptions.append(f"one-sided p read as the test in the stated direction ({c.direction})")
    if pv.relation == "<":
        if float(pv.value) >= 1.0:
            from survmeta.reconstruction import methods as M

            raise M.NotApplicable(f"p-value printed as {pv.text!r}: every p-value is below 1, so "
                                  "the bound says nothing about the test statistic")
        a = zval(float(pv.value))
        flags.append("p_bound_censored")
        assumptions.append(
            f"p printed as {pv.text!r}: the censored observation {'z' if signed else '|z|'} > "
            f"{a:.3f}, not the bound taken as the value")
        return _ZObs("above", a, math.inf, signed, tested, pv.text, tuple(assumptions), tuple(flags))
    if pv.relation == ">":
        b = zval(float(pv.value))
        flags.append("p_upper_censored")
        assumptions.append(f"p printed as {pv.text!r}: {'z' if signed else '|z|'} < {b:.3f}")
        return _ZObs("below", -math.inf if signed else 0.0, b, signed, tested, pv.text,
                     tuple(assumptions), tuple(flags))
    lo, hi = p_interval(pv)
    a, b = zval(hi), zval(lo)
    assumptions.append(
        f"p = {pv.text} read as its printed digits, p in [{lo:.4g}, {hi:.4g}]: "
        f"{'z' if signed else '|z|'} in [{a:.3f}, {b:.3f}]")
    return _ZObs("interval", a, b, signed, tested, pv.text, tuple(assumptions), tuple(flags))


@dataclass(frozen=True)
class _VPrior:
    route: str
    log_mean: float
    log_sd: float
    log_max: float
    inputs: dict
    assumption: str


def _n(c: Comparison) -> tuple[float, float] | None:
    ne, nr = c.experimental.n, c.reference.n
    if ne is None or nr is None:
        return None
    return float(ne), float(nr)


def _medians(c: Comparison):
    return c.experimental.median, c.reference.median


def follow_up_v0(c: Comparison) -> tuple[float, dict] | None:
    """V0 from the median follow-up, exponential arms and the group sizes.

    With hazard ``lambda_a = ln 2 / m_a`` in arm ``a`` and potential follow-up
    uniform on ``[F (1 - w), F (1 + w)]`` (``w`` = :data:`FOLLOW_UP_SPREAD`), the
    expected share with an event is ``f_a = 1 - (e^{-lambda a1} - e^{-lambda a2}) /
    (lambda (a2 - a1))``, the expected events ``d_a = n_a f_a`` and
    ``V0 = d_e d_r / (d_e + d_r)``. None when the follow-up, a median (or one not
    reached) or a group size is missing.
    """
    fu = c.follow_up
    n = _n(c)
    me, mr = _medians(c)
    if fu is None or n is None or me in (None, NR) or mr in (None, NR):
        return None
    f_months = fu.median * DAYS[fu.unit] / DAYS[c.time_unit]
    a1, a2 = f_months * (1 - FOLLOW_UP_SPREAD), f_months * (1 + FOLLOW_UP_SPREAD)
    d = []
    for n_a, m in zip(n, (me, mr)):
        lam = math.log(2.0) / float(m)
        frac = 1.0 - (math.exp(-lam * a1) - math.exp(-lam * a2)) / (lam * (a2 - a1))
        d.append(n_a * frac)
    v0 = d[0] * d[1] / (d[0] + d[1])
    return v0, {"follow_up": fu.median, "follow_up_unit": fu.unit, "expected_events": d}


def _median_ci_se(c: Comparison) -> float | None:
    from survmeta.reconstruction import methods as M

    try:
        est = M.median_ratio_ci(c)
    except (M.NotApplicable, SurvmetaError):
        return None
    return float(est.inputs.get("se_unfloored", est.se))


def _route_v0(c: Comparison, route: str) -> tuple[float, dict] | None:
    n = _n(c)
    e, r = c.experimental, c.reference
    if route == "events":
        if e.events is None or r.events is None:
            return None
        de, dr = float(e.events), float(r.events)
        return de * dr / (de + dr), {"events": [de, dr]}
    if route == "total_events":
        if c.total_events is None:
            return None
        d = float(c.total_events)
        if n is None:
            return d / 4.0, {"total_events": d, "n": None}
        return d * n[0] * n[1] / (n[0] + n[1]) ** 2, {"total_events": d, "n": list(n)}
    if route == "follow_up":
        return follow_up_v0(c)
    if route == "median_ci":
        se = _median_ci_se(c)
        if se is None:
            return None
        return 1.0 / se**2, {"se_log_median_ratio": se}
    if route == "patients":
        if n is None:
            return None
        return n[0] * n[1] / (n[0] + n[1]), {"n": list(n)}
    raise ValueError(route)


def _v_prior(c: Comparison, cal: JointCalibration) -> _VPrior | None:
    n = _n(c)
    log_max = math.log(n[0] * n[1] / (n[0] + n[1])) if n is not None else math.inf
    for route in ROUTES:
        got = _route_v0(c, route)
        if got is None:
            continue
        v0, inputs = got
        if route == "patients" and c.event_fraction is not None:
            ef = c.event_fraction
            bias = 0.5 * (math.log(ef.low) + math.log(ef.high))
            sd = (math.log(ef.high) - math.log(ef.low)) / (2.0 * float(norm.isf(0.025)))
            text = (f"V from the group sizes and the registry's event fraction {ef.low:g}-{ef.high:g} "
                    f"(a 95% range; {ef.reason})")
            return _VPrior(route, math.log(v0) + bias, sd, log_max, {**inputs,
                           "event_fraction": [ef.low, ef.high]}, text)
        cal_route = cal.routes.get(route)
        if cal_route is None:
            continue
        text = (f"V from {ROUTE_TITLES[route]}, log V = log V0 {cal_route.bias:+.3f} with SD "
                f"{cal_route.sd:.3f} (calibrated on {cal_route.n} trials)")
        if route == "patients":
            f = math.exp(cal_route.bias)
            text = (f"V from the group sizes and the calibrated event fraction {f:.2f} (SD "
                    f"{cal_route.sd:.2f} on the log scale, {cal_route.n} randomised trials, "
                    "overall survival)")
        return _VPrior(route, math.log(v0) + cal_route.bias, cal_route.sd, log_max, inputs, text)
    return None


# ---------------------------------------------------------------------------
# the posterior


@dataclass(frozen=True)
class JointPosterior:
    """The grid posterior of the printed log HR ``h`` and what entered it."""

    grid: np.ndarray
    density: np.ndarray
    mean: float
    sd: float
    median: float
    lower: float
    upper: float
    se_sampling: float
    v_route: str | None
    used: tuple[str, ...]
    inputs: dict
    assumptions: tuple[str, ...]
    flags: tuple[str, ...]
    warnings: tuple[str, ...]
    p_minority: float

    def quantile(self, q: float) -> float:
        cdf = np.cumsum(self.density)
        cdf /= cdf[-1]
        return float(np.interp(q, cdf, self.grid))


def _phi_diff(x_hi: np.ndarray, x_lo) -> np.ndarray:
    """``Phi(x_hi) - Phi(x_lo)`` without cancellation in the upper tail."""
    x_lo = np.broadcast_to(x_lo, np.shape(x_hi))
    upper = x_lo > 0
    return np.where(upper, ndtr(-x_lo) - ndtr(-x_hi), ndtr(x_hi) - ndtr(x_lo))


def _z_lik(mu: np.ndarray, obs: _ZObs, s: float) -> np.ndarray:
    """P(printed statistic | mu) for an array of ``mu = h sqrt(V)``.

    A two-sided statistic is folded (it depends on ``|mu|`` only, which also makes swapped arms
    give the mirrored posterior exactly); a signed one is read in the tested direction.
    """
    m = obs.tested * mu if obs.signed else np.abs(mu)
    if obs.kind == "interval":
        p = _phi_diff((obs.b - m) / s, (obs.a - m) / s)
        if not obs.signed:
            p = p + _phi_diff((-obs.a - m) / s, (-obs.b - m) / s)
        return p
    if obs.kind == "above":
        p = ndtr((m - obs.a) / s)
        return p if obs.signed else p + ndtr((-m - obs.a) / s)
    p = ndtr((obs.b - m) / s)
    return p if obs.signed else _phi_diff((obs.b - m) / s, (-obs.b - m) / s)


def _sign_constraint(c: Comparison) -> tuple[int, str | None, str | None]:
    """(sign, how, flag): -1/+1 when the sign of h is known, 0 otherwise."""
    if c.direction is not None:
        return (-1 if c.direction == "favours experimental" else 1), \
            f"sign of the log HR as stated ({c.direction})", None
    if c.hr is not None and c.hr.estimate != 1.0:
        return (-1 if c.hr.estimate < 1.0 else 1), "sign of the log HR from the printed HR", None
    me, mr = _medians(c)
    if me is NR and mr not in (None, NR):
        return -1, "sign from the medians: experimental median not reached", "direction_from_medians"
    if mr is NR and me not in (None, NR):
        return 1, "sign from the medians: reference median not reached", "direction_from_medians"
    return 0, None, None


def _hr_point(c: Comparison) -> tuple[float, float] | None:
    """(log HR, rounding SD) of a printed HR no exact method can use (no CI, no p)."""
    hr = c.hr
    if hr is None or hr.ci is not None or hr.p is not None:
        return None
    est = float(hr.estimate)
    half = max(_half_ulp(repr(est), est), 1e-6)
    lo, hi = max(est - half, est / 2), est + half
    return math.log(est), (math.log(hi) - math.log(lo)) / math.sqrt(12.0)


def _grid(lo: float, hi: float, n: int) -> np.ndarray:
    return np.linspace(lo, hi, n)


def joint_posterior(c: Comparison, cal: JointCalibration) -> JointPosterior:
    """The posterior of the printed log HR given everything ``c`` printed.

    Raises
    ------
    survmeta.reconstruction.methods.NotApplicable
        When the printed numbers do not allow the model (no p-value and no
        median ratio; a p-value without any route to V and no medians; no
        direction).
    """
    from survmeta.reconstruction import methods as M

    assumptions: list[str] = []
    flags: list[str] = []
    warnings: list[str] = []
    used: list[str] = []
    inputs: dict = {}

    me, mr = _medians(c)
    y = None
    if me not in (None, NR) and mr not in (None, NR):
        y = math.log(float(mr)) - math.log(float(me))
        used += ["experimental.median", "reference.median"]
        inputs["medians"] = [float(me), float(mr)]
        assumptions.append(
            f"median ratio log(m_ref / m_exp) = {y:+.4f} ~ N(log HR, {cal.s_mr:.4f}^2) "
            "(exponential arms; SD calibrated)")
    hr_pt = _hr_point(c)
    if hr_pt is not None and c.hr is not None:  # (a point needs a printed HR)
        used.append("hr.estimate")
        inputs["hr"] = float(c.hr.estimate)
        assumptions.append(
            f"printed HR {c.hr.estimate:g} without CI or p: log HR known to its rounding "
            f"(SD {hr_pt[1]:.4f})")
    zobs = _z_observation(c)
    vprior = _v_prior(c, cal)
    if zobs is None and y is None and hr_pt is None:
        raise M.NotApplicable(
            "the joint model needs a p-value (or chi-square), both medians or a printed HR",
            missing=True)
    if zobs is not None and vprior is None:
        if y is None and hr_pt is None:
            raise M.NotApplicable(
                "a p-value without events, total events, group sizes or median CIs: the "
                "log-rank information V cannot be formed", missing=True)
        if _median_ci_se(c) is None and (c.experimental.events is None
                                         or c.reference.events is None):
            raise M.NotApplicable(
                "a p-value and medians without events, total events, group sizes or median CIs: "
                "neither the log-rank information V nor a sampling SE can be formed", missing=True)
        warnings.append(
            f"the p-value ({zobs.text}) is not used: without events, total events, group sizes "
            "or median CIs the log-rank information V cannot be formed")
        zobs = None
    sign, how, sign_flag = _sign_constraint(c)
    if zobs is not None and sign == 0 and y is None and hr_pt is None and not zobs.signed:
        raise M.NotApplicable(
            "no direction: the paper gives no direction, HR or medians for the p-value")
    if how is not None:
        assumptions.append(how)
        used.append("direction" if c.direction is not None else
                    ("hr.estimate" if c.hr is not None else "experimental.median"))
    if sign_flag:
        flags.append(sign_flag)

    # past this point a z observation always has its V prior (zobs was dropped above otherwise)
    if zobs is not None and vprior is not None:
        used.append("p" if c.p is not None else "chisq")
        inputs["p"] = zobs.text
        inputs["z_interval"] = [zobs.a, zobs.b]
        assumptions.extend(zobs.assumptions)
        flags.extend(zobs.flags)
        assumptions.append(f"the printed test z = log HR * sqrt(V) + N(0, {cal.s_z:.3f}^2) "
                           "(a log-rank or equivalent test of the two groups; SD calibrated)")
        assumptions.append(vprior.assumption)
        flags.append(f"v_{vprior.route}")
        inputs["v_route"] = vprior.route
        inputs.update({f"v_{k}": v for k, v in vprior.inputs.items()})
        if vprior.route == "patients":
            used += ["experimental.n", "reference.n"]
            flags.append("event_fraction_prior")
            if c.event_fraction is not None:
                used.append("event_fraction")
        elif vprior.route == "events":
            used += ["experimental.events", "reference.events"]
        elif vprior.route == "total_events":
            used.append("total_events")
        elif vprior.route == "follow_up":
            used += ["follow_up", "experimental.n", "reference.n"]
        elif vprior.route == "median_ci":
            used += ["experimental.ci", "reference.ci"]
        if zobs.kind == "above":
            assumptions.append(
                f"how far beyond the bound the statistic lies: exponential with mean "
                f"{cal.kappa:.2f} (calibrated on the trials that print a bound)")

    # log V nodes (a truncated normal), weights
    if zobs is not None and vprior is not None:
        if vprior.log_sd > 0:
            u = np.linspace(-5.0, 5.0, 61)
            logv = vprior.log_mean + vprior.log_sd * u
            w = np.exp(-0.5 * u**2)
            keep = logv <= vprior.log_max
            if not keep.any():
                logv, w = np.array([vprior.log_max]), np.array([1.0])
            else:
                logv, w = logv[keep], w[keep]
        else:
            logv, w = np.array([min(vprior.log_mean, vprior.log_max)]), np.array([1.0])
        w = w / w.sum()
        sqrt_v = np.exp(0.5 * logv)
    else:
        sqrt_v, w = np.array([1.0]), np.array([1.0])

    def unnormalised(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint density on (h, V nodes), shape (len(h), len(V))."""
        dens = np.ones((h.size, sqrt_v.size))
        if zobs is not None:
            mu = h[:, None] * sqrt_v[None, :]
            dens *= _z_lik(mu, zobs, cal.s_z)
            if zobs.kind == "above":
                stat = (zobs.tested * mu) if zobs.signed else np.abs(mu)
                dens *= np.exp(-np.maximum(stat - zobs.a, 0.0) / cal.kappa)
        dens *= w[None, :]
        marg = np.ones(h.size)
        if y is not None:
            marg *= np.exp(-0.5 * ((y - h) / cal.s_mr) ** 2)
        if hr_pt is not None:
            marg *= np.exp(-0.5 * ((hr_pt[0] - h) / hr_pt[1]) ** 2)
        if sign != 0:
            marg *= (np.sign(h) == sign)
        return dens * marg[:, None], marg

    # symmetric about 0 by construction, so that swapped arms give the mirrored grid
    half = (np.arange(700) + 0.5) * (H_MAX / 700)
    coarse = np.concatenate([-half[::-1], half])
    d2, _ = unnormalised(coarse)
    dc = d2.sum(axis=1)
    if not np.isfinite(dc).all() or dc.max() <= 0:
        raise M.NotApplicable("the printed numbers contradict each other: the joint likelihood "
                              "is zero everywhere")
    support = np.nonzero(dc > dc.max() * 1e-10)[0]
    step = coarse[1] - coarse[0]
    lo = max(float(coarse[support[0]]) - 2 * step, -H_MAX)
    hi = min(float(coarse[support[-1]]) + 2 * step, H_MAX)
    grid = _grid(lo, hi, 2001)
    d2, _ = unnormalised(grid)
    dens = d2.sum(axis=1)
    total = dens.sum()
    if not total > 0:
        raise M.NotApplicable("the joint likelihood vanishes on the grid")
    p = dens / total
    mean = float(np.sum(p * grid))
    sd = float(math.sqrt(max(np.sum(p * (grid - mean) ** 2), 0.0)))
    cdf = np.cumsum(p)
    lower, median, upper = (float(np.interp(q, cdf, grid)) for q in (0.025, 0.5, 0.975))
    if lo <= -H_MAX + 1e-9 or hi >= H_MAX - 1e-9:
        if dens[0] > dens.max() * 1e-6 or dens[-1] > dens.max() * 1e-6:
            warnings.append(
                f"the posterior reaches the edge of the grid (log HR +-{H_MAX:g}): the printed "
                "numbers barely bound the effect")
            flags.append("grid_edge")

    p_neg = float(p[grid < 0].sum())
    p_minority = max(0.0, min(p_neg, 1.0 - p_neg))
    if sign == 0 and y is not None:
        flags.append("direction_from_medians")
        if p_minority > SIGN_UNCERTAIN:
            flags.append("sign_uncertain")
            warnings.append(
                f"the sign is uncertain: the medians ({float(me):g} vs {float(mr):g}) barely "
                f"differ and no direction is stated, so {p_minority:.0%} of the posterior lies on "
                "the other side of HR = 1 (the interval is widened, no sign is picked); record "
                "the paper's stated direction if it gives one")

    # sampling SE
    if zobs is not None:
        inv_v = np.exp(-2.0 * np.log(sqrt_v))
        e_inv_v = float(np.sum(d2 * inv_v[None, :]) / d2.sum())
        se_sampling = math.sqrt(e_inv_v)
    else:
        se_sampling = _sampling_without_test(c, cal, assumptions, flags, used, inputs)

    width = upper - lower
    if width > 0 and (abs(lower - (mean - 1.959964 * sd)) > NON_NORMAL * width
                      or abs(upper - (mean + 1.959964 * sd)) > NON_NORMAL * width):
        flags.append("non_normal")
        warnings.append(
            f"the posterior of the log HR is not normal (95% interval {math.exp(lower):.2f}-"
            f"{math.exp(upper):.2f} against mean +- 1.96 SD {math.exp(mean - 1.959964 * sd):.2f}-"
            f"{math.exp(mean + 1.959964 * sd):.2f} on the HR scale): pooling uses the normal "
            "approximation")
    if y is not None and zobs is not None:
        resid = abs(y - mean) / math.sqrt(cal.s_mr**2 + sd**2)
        if resid > CONFLICT_SD:
            warnings.append(
                f"the medians and the p-value disagree: the median ratio gives HR "
                f"{math.exp(y):.2f}, the joint posterior {math.exp(mean):.2f} ({resid:.1f} SD "
                "apart); check both, and the event fraction the p-value is read with")
    if c.direction is not None and y is not None:
        if (y < 0) != (sign < 0) and abs(y) > math.log(1.10):
            warnings.append(f"the medians disagree with the stated direction ({c.direction})")
    if c.follow_up is not None and me not in (None, NR) and mr not in (None, NR):
        f_unit = c.follow_up.median * DAYS[c.follow_up.unit] / DAYS[c.time_unit]
        longer = max(float(me), float(mr))
        if f_unit > FOLLOW_UP_IMPLAUSIBLE * longer:
            warnings.append(
                f"the median follow-up ({c.follow_up.median:g} {c.follow_up.unit}) is more than "
                f"{FOLLOW_UP_IMPLAUSIBLE:g} times the longer median ({longer:g} {c.time_unit}): "
                "nearly every patient would have had the event; check the unit")
    if (vprior is not None and zobs is not None and vprior.route == "patients"
            and c.event_fraction is None and c.endpoint.upper() != "OS"):
        warnings.append(
            "V rests on the event fraction of randomised trials of overall survival in advanced "
            "cancer; for another population give event_fraction = { low, high, reason } "
            "(docs/registry.md)")

    assumptions.append("the log HR is the posterior mean on a grid under a flat prior on "
                       f"[-{H_MAX:g}, {H_MAX:g}]; its posterior SD is the extra SD")
    return JointPosterior(
        grid=grid, density=p, mean=mean, sd=sd, median=median, lower=lower, upper=upper,
        se_sampling=se_sampling, v_route=None if zobs is None or vprior is None else vprior.route,
        used=tuple(dict.fromkeys(used)), inputs=inputs, assumptions=tuple(assumptions),
        flags=tuple(dict.fromkeys(flags)), warnings=tuple(warnings),
        p_minority=p_minority)


def _sampling_without_test(c: Comparison, cal: JointCalibration, assumptions, flags, used,
                           inputs) -> float:
    """Sampling SE when no test statistic was printed: the median ratio's own SE."""
    from survmeta.reconstruction import methods as M

    for fn in (M.median_ratio_ci, M.median_ratio_events):
        try:
            est = fn(c)
        except (M.NotApplicable, SurvmetaError):
            continue
        assumptions.append(f"sampling SE {est.se:.4f} as {est.method} computes it")
        flags.extend(f for f in est.flags if f in ("se_floor", "one_sided_ci"))
        inputs["se_sampling_from"] = est.method
        used.extend(["experimental.ci", "reference.ci"] if est.method == "median_ratio_ci"
                    else ["experimental.events", "reference.events"])
        return est.se
    # no CI, no events: V from the routes that need no test
    vprior = _v_prior(c, cal)
    if vprior is None:
        raise M.NotApplicable(
            "no p-value, and neither median CIs, events nor group sizes give the sampling SE",
            missing=True)
    sd = vprior.log_sd
    # E[1/V] under the truncated log-normal prior
    u = np.linspace(-5.0, 5.0, 61)
    logv = vprior.log_mean + sd * u
    wts = np.exp(-0.5 * u**2) * (logv <= vprior.log_max)
    if wts.sum() == 0:
        logv, wts = np.array([vprior.log_max]), np.array([1.0])
    e_inv_v = float(np.sum(wts * np.exp(-logv)) / wts.sum())
    assumptions.append(vprior.assumption)
    flags.append(f"v_{vprior.route}")
    inputs["v_route"] = vprior.route
    used.extend(["experimental.n", "reference.n"])
    return math.sqrt(e_inv_v)


def joint(comparison: Comparison, calibration: JointCalibration | None = None):
    """The joint reconstruction as an :class:`~survmeta.reconstruction.methods.Estimate`.

    ``log_hr`` is the posterior mean, ``se`` the sampling SE and ``se_extra``
    the posterior SD (module docstring). Without a calibration (none bundled)
    the method does not apply.
    """
    from survmeta.reconstruction import methods as M

    cal = load_joint_calibration() if calibration is None else calibration
    if cal is None:
        raise M.NotApplicable("the joint model is not calibrated (no 'joint' in calibration.json)")
    post = joint_posterior(comparison, cal)
    notes = M._Notes(comparison, assumptions=list(post.assumptions), flags=list(post.flags),
                     warnings=list(post.warnings), used=list(post.used))
    if comparison.p is not None and comparison.p.relation == "<" and comparison.p.value is not None:
        notes.p_relation, notes.p_bound = "<", float(comparison.p.value)
    est = notes.finish("joint", post.mean, post.se_sampling, {
        **post.inputs,
        "posterior": {"mean": post.mean, "sd": post.sd, "median": post.median,
                      "eti95": [post.lower, post.upper]},
    })
    return replace(est, se_extra=post.sd)
