"""The results contract: what every fit returns.

A :class:`PoolResult` holds one pooled analysis of one question: the rows that
were pooled, the priors, the posterior as an :class:`xarray.DataTree`, exact or
Monte Carlo summaries, diagnostics, and the frequentist companion. It renders
itself as a DataFrame (``summary()``), as JSON-ready data (``to_dict()``) and,
through :mod:`survmeta.plotting`, as figures. A :class:`PoolSet` is the
collection returned when several questions are pooled at once; it also carries
a :class:`SingleArmResult` for each single-group question (pooled proportion or
pooled median time).

This module imports neither PyMC nor matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Literal, Mapping

import numpy as np
import pandas as pd

from survmeta._format import fmt_prob
from survmeta.errors import SurvmetaError, check_level
from survmeta.summaries import INTERVAL_KINDS, Interval, ParameterSummary

#: Days per month, for single-group medians printed in days or weeks.
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0}

#: Quantities summarised for every fit, in display order.
QUANTITIES = ("mu", "hr", "tau", "predict", "predict_hr")

#: Version of the saved form (:meth:`PoolSet.to_dict`). 2: ``schema_version`` field, the
#: level only in ``level``, intervals under ``eti`` / ``hdi`` (the level-named ``eti95`` /
#: ``hdi95`` keys are kept beside them, deprecated). 1: no field, level-named keys only.
SCHEMA_VERSION = 2

_SUMMARY_COLUMNS = ("mean", "median", "sd", "eti_lower", "eti_upper", "hdi_lower", "hdi_upper")


def summarize_draws(draws: np.ndarray, level: float = 0.95) -> dict[str, Any]:
    """Summarise Monte Carlo draws of one scalar quantity.

    Parameters
    ----------
    draws : array_like
        Draws, any shape; flattened.
    level : float
        Probability mass of the intervals.

    Returns
    -------
    dict
        ``mean``, ``median``, ``sd``, ``eti`` (equal-tailed interval) and ``hdi``
        (shortest interval containing ``level`` of the draws, arviz-stats'
        ``hdi`` with ``method="nearest"``), each interval a ``[lower, upper]`` list.
    """
    x = np.asarray(draws, dtype=float).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("draws must be a non-empty array of finite numbers")
    eti, hdi = draws_interval(x, level, "eti"), draws_interval(x, level, "hdi")
    return {
        "mean": float(x.mean()),
        "median": float(np.median(x)),
        "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
        "eti": [eti[0], eti[1]],
        "hdi": [hdi[0], hdi[1]],
    }


def draws_interval(draws: np.ndarray, level: float, kind: str = "eti") -> tuple[float, float]:
    """Equal-tailed or shortest interval of Monte Carlo draws (arviz-stats).

    Parameters
    ----------
    draws : array_like
        Draws, any shape; flattened.
    level : float
        Probability mass of the interval.
    kind : {"eti", "hdi"}
        ``"eti"``: the ``(1 - level)/2`` and ``(1 + level)/2`` sample quantiles
        (``arviz_stats.base.array_stats.eti``, linear interpolation, as
        ``numpy.quantile``). ``"hdi"``: the shortest interval between two draws that
        holds ``level`` of them (``arviz_stats.base.array_stats.hdi``,
        ``method="nearest"``).

    Returns
    -------
    tuple of float
        ``(lower, upper)``.
    """
    from arviz_stats.base import array_stats

    x = np.asarray(draws, dtype=float).ravel()
    if kind == "eti":
        lo, hi = array_stats.eti(x, level)
    elif kind == "hdi":
        if x.size == 1:
            return float(x[0]), float(x[0])
        lo, hi = array_stats.hdi(x, level, method="nearest")
    else:
        raise ValueError(f"interval kind must be 'eti' or 'hdi', not {kind!r}")
    return float(lo), float(hi)


#: Keys of the MCMC diagnostics (:func:`survmeta.models.diagnose`), in saved order.
_MCMC_KEYS = ("r_hat_max", "ess_bulk_min", "ess_tail_min", "groups", "divergences",
              "treedepth_hits", "chains", "draws", "rank_alpha")


@dataclass(frozen=True)
class BayesFactors:
    """Bayes factors BF01 of the exact engine (Savage-Dickey), with their notes.

    Attributes
    ----------
    bf01_mu0 : float or None
        BF01 for ``mu = 0``; None when it does not exist (e.g. under a flat mu prior).
    bf01_tau0 : float or None
        BF01 for ``tau = 0``; None when it does not exist.
    mu0_note, tau0_note : str or None
        Why a Bayes factor is None.
    notes : tuple of str
        How to read the Bayes factors.
    """

    bf01_mu0: float | None = None
    bf01_tau0: float | None = None
    mu0_note: str | None = None
    tau0_note: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The saved form: ``{"mu=0": ..., ["mu=0 note": ...,] "tau=0": ..., "note": ...}``."""
        out: dict[str, Any] = {"mu=0": self.bf01_mu0}
        if self.mu0_note is not None:
            out["mu=0 note"] = self.mu0_note
        out["tau=0"] = self.bf01_tau0
        if self.tau0_note is not None:
            out["tau=0 note"] = self.tau0_note
        if self.notes:
            out["note"] = " ".join(self.notes)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BayesFactors:
        """Read the saved form (:meth:`to_dict`)."""
        def value(key: str) -> float | None:
            v = d.get(key)
            return None if v is None else float(v)

        note = d.get("note")
        return cls(bf01_mu0=value("mu=0"), bf01_tau0=value("tau=0"),
                   mu0_note=d.get("mu=0 note"), tau0_note=d.get("tau=0 note"),
                   notes=() if note is None else (str(note),))


@dataclass(frozen=True)
class CommonEffect:
    """The common-effect (tau = 0) companion of a random-effects fit.

    Attributes
    ----------
    mu : ParameterSummary
        Summary of the pooled log HR (intervals at the result's level).
    hr : ParameterSummary
        The same for the pooled HR.
    p_hr_below_1 : float
        Posterior probability that the HR is below 1.
    """

    mu: ParameterSummary
    hr: ParameterSummary
    p_hr_below_1: float

    def to_dict(self, level: float = 0.95) -> dict[str, Any]:
        """The saved form; intervals also under the deprecated level-named keys (``eti95``)."""
        key = _interval_key(level)
        out: dict[str, Any] = {}
        for name in ("mu", "hr"):
            b = getattr(self, name).block()
            out[name] = {**b, f"eti{key}": list(b["eti"]), f"hdi{key}": list(b["hdi"])}
        out["p_hr_below_1"] = self.p_hr_below_1
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], level: float = 0.95) -> CommonEffect:
        """Read the saved form (schema 2: ``eti`` / ``hdi``; schema 1: ``eti95`` / ``hdi95``).

        A moment written as None (it does not exist) is NaN.
        """
        key = _interval_key(level)

        def summary(name: str) -> ParameterSummary:
            b = d[name]
            block = {k: b.get(k) if b.get(k) is not None else b.get(f"{k}{key}")
                     for k in ("eti", "hdi")}
            return ParameterSummary.from_block(
                name, {"mean": b.get("mean"), "median": b["median"], "sd": b.get("sd"), **block},
                level)

        return cls(mu=summary("mu"), hr=summary("hr"), p_hr_below_1=d["p_hr_below_1"])


@dataclass(frozen=True)
class Diagnostics:
    """How far to trust a fit: sampler diagnostics (MCMC) or quadrature notes (exact).

    Attributes
    ----------
    warnings : tuple of str
        Sentences; empty when all is well.
    method : str or None
        Exact engine: how the posterior was computed.
    r_hat_max, ess_bulk_min, ess_tail_min : float or None
        MCMC: the largest R-hat and the smallest bulk and tail ESS over the checked
        variables.
    groups : dict or None
        MCMC: per variable ``{"r_hat", "ess_bulk", "ess_tail", "rank_p"}``.
    divergences, treedepth_hits, chains, draws : int or None
        MCMC: divergent transitions, draws at the maximum tree depth, chains and draws per
        chain.
    rank_alpha : float or None
        MCMC: level of the rank-uniformity check.
    extra : dict
        Any further entries of a saved block, kept as written.
    """

    warnings: tuple[str, ...] = ()
    method: str | None = None
    r_hat_max: float | None = None
    ess_bulk_min: float | None = None
    ess_tail_min: float | None = None
    groups: Mapping[str, Any] | None = None
    divergences: int | None = None
    treedepth_hits: int | None = None
    chains: int | None = None
    draws: int | None = None
    rank_alpha: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_mcmc(self) -> bool:
        """Whether these are sampler diagnostics."""
        return any(getattr(self, k) is not None for k in _MCMC_KEYS)

    def with_warnings(self, *sentences: str) -> Diagnostics:
        """A copy with ``sentences`` added to :attr:`warnings`."""
        return replace(self, warnings=self.warnings + tuple(sentences))

    def to_dict(self) -> dict[str, Any]:
        """The saved form: MCMC ``r_hat_max, ..., rank_alpha, warnings``; exact
        ``warnings, method``; then any :attr:`extra` entries."""
        out: dict[str, Any] = {}
        if self.is_mcmc:
            out.update({k: getattr(self, k) for k in _MCMC_KEYS if getattr(self, k) is not None})
            if "groups" in out:
                out["groups"] = {v: dict(g) for v, g in out["groups"].items()}
        out["warnings"] = list(self.warnings)
        if self.method is not None:
            out["method"] = self.method
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Diagnostics:
        """Read :meth:`to_dict` or :func:`survmeta.models.diagnose` output."""
        known = {k: d[k] for k in _MCMC_KEYS if d.get(k) is not None}
        # anything else (including a null MCMC entry) is kept as written
        extra = {k: v for k, v in d.items() if k not in known and k not in ("warnings", "method")}
        return cls(warnings=tuple(d.get("warnings") or ()), method=d.get("method"),
                   extra=extra, **known)


def _interval_key(level: float) -> str:
    pct = level * 100
    return f"{pct:.0f}" if abs(pct - round(pct)) < 1e-9 else f"{pct:g}".replace(".", "_")


@dataclass
class PoolResult:
    """One pooled analysis of one question.

    Attributes
    ----------
    question : dict
        ``id``, ``title``, ``experimental``, ``reference``, ``outcome``.
    engine : str
        ``"exact"`` (quadrature), ``"mcmc"`` (PyMC per question) or
        ``"hierarchical"`` (PyMC across questions).
    effects : pandas.DataFrame
        The pooled rows (effect-table columns) plus ``theta_mean``,
        ``theta_lower``, ``theta_upper`` (shrunken study effects, log scale) and
        ``weight`` (inverse-variance weight under the posterior median tau,
        in percent).
    stats : dict of str to ParameterSummary
        Per quantity in :data:`QUANTITIES` (``"mu"``, ``"hr"``, ...): a
        :class:`~survmeta.summaries.ParameterSummary` (``mean``, ``median``, ``sd``,
        ``eti``, ``hdi`` at ``level``). Summary blocks given as mappings (``{"mean",
        "median", "sd", "eti": [lo, hi], "hdi": [lo, hi]}``) are converted on
        construction.
    probabilities : dict
        ``{"p_hr_below_1": ..., ...}``: posterior probabilities of HR
        thresholds.
    priors : dict
        ``{"mu": Prior, "tau": Prior}`` (:class:`survmeta.priors.Prior`; ``str(prior)`` is
        its canonical spec). A prior that is not one :class:`~survmeta.priors.Prior` (the
        hierarchical fit's tau population prior) is absent here and described in
        ``prior_notes``.
    posterior : xarray.DataTree or None
        Posterior draws (exact engine: independent draws from the exact
        posterior, drawn when first accessed with the result's seed, so the
        same seed gives the same draws whenever they are asked for).
    diagnostics : Diagnostics
        Sampler diagnostics (MCMC) or quadrature notes (exact), with
        ``warnings`` (sentences).
    excluded : pandas.DataFrame
        Rows of the question that were not pooled, with ``reason``.
    frequentist : dict or None
        Companion estimates (REML/DL tau^2, I^2, Q, Knapp-Hartung interval).
    level : float
        Interval level of ``stats``.
    seed : int or None
        Seed used for draws.
    notes : list of str
        Choices made while pooling (e.g. one comparison kept per study).
    bayes_factors : BayesFactors or None
        BF01 for ``mu = 0`` and ``tau = 0`` (exact engine).
    common_effect : CommonEffect or None
        The common-effect (tau = 0) companion: ``mu`` and ``hr`` summaries and
        ``p_hr_below_1``.
    exact : survmeta.exact.ExactPosterior or None
        The exact posterior (exact engine only), for exact densities in the
        figures; not serialised.
    point_estimates : dict or None
        Exact engine only: ``mode`` (marginal posterior modes of ``tau``,
        ``mu``, ``predict``), ``MAP`` and ``ML`` (each ``joint`` and
        ``marginal`` ``{"tau", "mu"}``), as bayesmeta's ``$summary["mode", ]``,
        ``$MAP`` and ``$ML`` (:mod:`survmeta.exact.modes`); log-HR scale.
        Computed when first asked for (or when the result is serialised).
    prior_notes : dict
        Priors described in words, by parameter, where they are not a single
        :class:`~survmeta.priors.Prior` (the hierarchical fit: ``{"tau": "shared across
        questions: ..."}``); saved under ``priors`` with the others.
    """

    question: dict
    engine: str
    effects: pd.DataFrame
    stats: dict[str, ParameterSummary]
    probabilities: dict
    priors: dict[str, Any]
    posterior: Any = None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    frequentist: dict | None = None
    level: float = 0.95
    seed: int | None = None
    notes: list = field(default_factory=list)
    bayes_factors: BayesFactors | None = None
    common_effect: CommonEffect | None = None
    exact: Any = field(default=None, repr=False, compare=False)
    point_estimates: dict | None = None
    prior_notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stats = {name: s if isinstance(s, ParameterSummary)
                      else ParameterSummary.from_block(name, s, self.level)
                      for name, s in self.stats.items()}

    def _defer(self, name: str, compute) -> None:
        """Compute ``name`` (``"posterior"`` or ``"point_estimates"``) by ``compute()``
        when it is first accessed, instead of now (see :func:`_lazy_field`)."""
        self.__dict__.setdefault("_values", {}).pop(name, None)
        self.__dict__.setdefault("_compute", {})[name] = compute

    # -- basic accessors -------------------------------------------------
    @property
    def id(self) -> str:
        return self.question["id"]

    @property
    def k(self) -> int:
        """Number of pooled comparisons."""
        return int(len(self.effects))

    @property
    def p_hr_below_1(self) -> float:
        return float(self.probabilities["p_hr_below_1"])

    def prior_text(self, name: str) -> str | None:
        """The prior on ``name`` (``"mu"`` or ``"tau"``) as printed and saved: the canonical
        spec of the :class:`~survmeta.priors.Prior`, else its words in ``prior_notes``."""
        if name in self.priors and self.priors[name] is not None:
            return str(self.priors[name])
        return self.prior_notes.get(name)

    def priors_dict(self) -> dict[str, str | None]:
        """``{"mu": text, "tau": text}`` as saved (:meth:`prior_text`)."""
        names = list(dict.fromkeys([*self.priors, *self.prior_notes]))
        return {name: self.prior_text(name) for name in names}

    # -- tables ------------------------------------------------------------
    def _at_stored_level(self, level: float | None) -> bool:
        return level is None or abs(float(level) - float(self.level)) < 1e-12

    def _check_param(self, param: str) -> None:
        if param not in QUANTITIES:
            raise SurvmetaError(f"unknown parameter {param!r}; use one of {', '.join(QUANTITIES)}")

    def _recomputed_interval(self, param: str, level: float, kind: str) -> tuple[float, float]:
        """``param``'s interval at a level other than the stored one.

        Exact engine: from the exact posterior (HR scale: the log-scale interval,
        exponentiated; the shortest one too, as the stored numbers). MCMC (and an exact
        result without its exact posterior): from the posterior draws, with arviz-stats.
        """
        log_name = {"hr": "mu", "predict_hr": "predict"}.get(param, param)
        if self.exact is not None:
            name = "predict_log_hr" if log_name == "predict" else log_name
            lo, hi = self.exact.interval(name, level=level, kind=kind)
        else:
            lo, hi = draws_interval(self._draws(log_name), level, kind)
        if log_name != param:
            with np.errstate(over="ignore"):
                return float(np.exp(lo)), float(np.exp(hi))
        return float(lo), float(hi)

    def _draws(self, name: str, study: str | None = None) -> np.ndarray:
        """Posterior draws of ``mu``, ``tau``, ``predict`` or ``theta`` (of ``study``)."""
        if self.posterior is None:
            raise SurvmetaError(f"{self.id}: this result carries neither the exact posterior nor "
                                f"posterior draws, so it has intervals at {100 * self.level:g}% "
                                "only; pool again with the level wanted")
        post = self.posterior["posterior"]
        da = post[name]
        if "question" in da.dims:
            da = da.sel(question=self.id)
        if study is not None:
            dim = [d for d in da.dims if d not in ("chain", "draw")][0]
            da = da.sel({dim: study})
        return np.asarray(da.values, dtype=float).ravel()

    def interval(self, param: str, level: float | None = None, kind: str = "eti") -> Interval:
        """Credible (or prediction) interval of one parameter at any level.

        Parameters
        ----------
        param : {"mu", "hr", "tau", "predict", "predict_hr"}
        level : float, optional
            Probability of the interval; the result's :attr:`level` by default, where the
            stored numbers (``stats``) are returned as they are.
        kind : {"eti", "hdi"}
            Equal-tailed or shortest interval. HR-scale intervals are the log-scale ones
            exponentiated (for the shortest: the shortest interval of the log HR).

        Returns
        -------
        survmeta.summaries.Interval

        Raises
        ------
        SurvmetaError
            An unknown parameter or kind, a level outside (0, 1), or another level asked
            of a result that holds neither the exact posterior nor draws.
        """
        self._check_param(param)
        if kind not in INTERVAL_KINDS:
            raise SurvmetaError(f"unknown interval kind {kind!r}; use 'eti' or 'hdi'")
        if self._at_stored_level(level):
            return getattr(self.stats[param], kind)
        value = check_level(level)
        lo, hi = self._recomputed_interval(param, value, kind)
        return Interval(lo, hi, value, kind)  # type: ignore[arg-type]

    def parameter(self, param: str, level: float | None = None) -> ParameterSummary:
        """One row of :meth:`summary` as a :class:`~survmeta.summaries.ParameterSummary`."""
        self._check_param(param)
        s = self.stats[param]
        if self._at_stored_level(level):
            return s
        return replace(s, eti=self.interval(param, level, "eti"),
                       hdi=self.interval(param, level, "hdi"))

    def summary(self, level: float | None = None) -> pd.DataFrame:
        """Posterior summary table, log and HR scale.

        Parameters
        ----------
        level : float, optional
            Level of the intervals; the result's :attr:`level` (the stored numbers) by
            default. Another level is computed from the exact posterior (exact engine) or
            the posterior draws (MCMC); means, medians and SDs do not depend on it.

        Returns
        -------
        pandas.DataFrame
            Index ``mu`` (pooled log HR), ``hr`` (pooled HR), ``tau``,
            ``predict`` (log HR of a new study), ``predict_hr``; columns
            ``mean``, ``median``, ``sd``, ``eti_lower``, ``eti_upper``,
            ``hdi_lower``, ``hdi_upper``; ``attrs["level"]`` the level.
        """
        rows = [self.parameter(name, level) for name in QUANTITIES]
        df = pd.DataFrame([r.row() for r in rows], index=list(QUANTITIES),
                          columns=list(_SUMMARY_COLUMNS))
        df.index.name = "parameter"
        df.attrs["level"] = rows[0].level
        return df

    def study_summary(self, level: float | None = None) -> pd.DataFrame:
        """Per pooled study: observed and shrunken HRs with their intervals, weight.

        ``study`` is the study id, ``label`` the study as printed (an effects
        CSV's label; the id otherwise).

        Parameters
        ----------
        level : float, optional
            Level of the intervals; the result's :attr:`level` (the stored numbers) by
            default. At another level the observed interval is ``exp(log_hr -/+ z se)``
            with ``z`` the normal quantile of that level, and the shrunken one the
            equal-tailed interval of the study's effect from the exact posterior (exact
            engine) or the posterior draws (MCMC).
        """
        e = self.effects
        if self._at_stored_level(level):
            obs_lo, obs_hi = e["hr_lower"].to_numpy(), e["hr_upper"].to_numpy()
            th_lo = e["theta_lower"].to_numpy(dtype=float)
            th_hi = e["theta_upper"].to_numpy(dtype=float)
        else:
            from scipy.stats import norm

            value = check_level(level)
            y, se = e["log_hr"].to_numpy(dtype=float), e["se"].to_numpy(dtype=float)
            z = float(norm.ppf(0.5 + value / 2.0))
            obs_lo, obs_hi = np.exp(y - z * se), np.exp(y + z * se)
            bounds = [self._theta_interval(str(key), value) for key in self._study_keys()]
            th_lo = np.array([b[0] for b in bounds], dtype=float)
            th_hi = np.array([b[1] for b in bounds], dtype=float)
        out = pd.DataFrame(
            {
                "study": e["study"].to_numpy(),
                "label": (e["label"] if "label" in e else e["study"]).to_numpy(),
                "comparison": e["comparison"].to_numpy(),
                "year": e["year"].to_numpy() if "year" in e else np.nan,
                "method": e["method"].to_numpy(),
                "log_hr": e["log_hr"].to_numpy(),
                "se": e["se"].to_numpy(),
                "hr": e["hr"].to_numpy(),
                "hr_lower": obs_lo,
                "hr_upper": obs_hi,
                "shrunken_hr": np.exp(e["theta_mean"].to_numpy(dtype=float)),
                "shrunken_lower": np.exp(th_lo),
                "shrunken_upper": np.exp(th_hi),
                "weight": e["weight"].to_numpy(),
            }
        )
        out.attrs["level"] = float(self.level if level is None else level)
        return out

    def _study_keys(self) -> list[str]:
        e = self.effects
        if "key" in e:
            return [str(k) for k in e["key"]]
        return [f"{s}/{c}" for s, c in zip(e["study"], e["comparison"])]

    def _theta_interval(self, key: str, level: float) -> tuple[float, float]:
        """Equal-tailed interval of one study's shrunken log HR at ``level``."""
        if self.exact is not None:
            lo, hi = self.exact.interval(f"theta[{key}]", level=level, kind="eti")
            return float(lo), float(hi)
        return draws_interval(self._draws("theta", study=key), level, "eti")

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dictionary (the per-question block of ``survmeta pool --format json``)."""
        key = _interval_key(self.level)

        def block(name):
            b = self.stats[name].block()  # moments None where they do not exist (HR scale)
            # deprecated: the level in the key
            return {**b, f"eti{key}": list(b["eti"]), f"hdi{key}": list(b["hdi"])}

        studies = []
        for _, r in self.effects.iterrows():
            studies.append(
                {
                    "id": r["study"],
                    "label": r.get("label", r["study"]),
                    "comparison": r["comparison"],
                    "year": _plain(r.get("year")),
                    "n": _plain(r.get("n")),
                    "endpoint": r.get("endpoint"),
                    "log_hr": float(r["log_hr"]),
                    "se": float(r["se"]),
                    "se_extra": _plain(r.get("se_extra")),
                    "method": r["method"],
                    "approximate": bool(r.get("approximate", False)),
                    "flags": list(r.get("flags") or ()),
                    "weight": _plain(r.get("weight")),
                    "shrunken": {
                        "mean": float(r["theta_mean"]),
                        "eti": [float(r["theta_lower"]), float(r["theta_upper"])],
                        f"eti{key}": [float(r["theta_lower"]), float(r["theta_upper"])],
                    },
                }
            )
        excluded = []
        if len(self.excluded):
            for _, r in self.excluded.iterrows():
                excluded.append({"study": r["study"], "label": r.get("label", r["study"]),
                                 "comparison": r["comparison"], "reason": r["reason"]})
        out = {
            "id": self.id,
            "title": self.question.get("title"),
            "experimental": self.question.get("experimental"),
            "reference": self.question.get("reference"),
            "outcome": self.question.get("outcome"),
            "group": self.question.get("group"),
            "certainty": self.question.get("certainty"),
            "k": self.k,
            "engine": self.engine,
            "level": self.level,
            "priors": self.priors_dict(),
            "mu": block("mu"),
            "tau": block("tau"),
            "hr": block("hr"),
            "predict": block("predict"),
            "predict_hr": block("predict_hr"),
            "p_hr_below_1": self.p_hr_below_1,
            "probabilities": dict(self.probabilities),
            "bayes_factors": None if self.bayes_factors is None else self.bayes_factors.to_dict(),
            "point_estimates": self.point_estimates,
            "common_effect": (None if self.common_effect is None
                              else self.common_effect.to_dict(self.level)),
            "studies": studies,
            "excluded": excluded,
            "frequentist": self.frequentist,
            "diagnostics": self.diagnostics.to_dict(),
            "seed": self.seed,
            "notes": list(self.notes),
        }
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> PoolResult:
        """Read one question's saved block (:meth:`to_dict`; schema versions 1 and 2).

        The loaded result carries no posterior draws and no exact posterior; methods that
        need them raise :class:`survmeta.errors.SurvmetaError` saying so. See
        :func:`survmeta.results_io.pool_result_from_dict`.
        """
        from survmeta.results_io import pool_result_from_dict

        return pool_result_from_dict(d)

    def leave1out(self):
        """Re-pool without each comparison in turn (same engine, priors, level, seed).

        As metafor's ``leave1out``; see :func:`survmeta.living.reanalysis.leave1out`.

        Returns
        -------
        survmeta.living.reanalysis.Reanalysis
        """
        from survmeta.living.reanalysis import leave1out

        return leave1out(self)

    def cumul(self, order="year"):
        """Re-pool adding comparisons one at a time, by year unless ``order`` is given.

        As metafor's ``cumul``; see :func:`survmeta.living.reanalysis.cumul`.

        Parameters
        ----------
        order : "year", a column name, or a sequence of keys / studies / labels

        Returns
        -------
        survmeta.living.reanalysis.Reanalysis
        """
        from survmeta.living.reanalysis import cumul

        return cumul(self, order=order)

    def to_netcdf(self, path) -> None:
        """Write the posterior DataTree to a netCDF file."""
        if self.posterior is None:
            raise ValueError("this result carries no posterior draws")
        self.posterior.to_netcdf(path, engine="h5netcdf")

    # -- plots (delegated) -------------------------------------------------
    def subgroups(self, by: str = "endpoint", **kwargs):
        """Subgroup analysis of this question's pooled rows (:func:`survmeta.subgroups.subgroup_analysis`).

        Uses this result's priors and level unless given; computed when asked.
        """
        from survmeta.subgroups import subgroup_analysis

        kwargs.setdefault("level", self.level)
        if self.engine == "exact":
            kwargs.setdefault("tau_prior", self.priors.get("tau"))
            kwargs.setdefault("mu_prior", self.priors.get("mu"))
        return subgroup_analysis(self.effects, by=by, **kwargs)

    def plot_forest(self, **kwargs):
        """Forest plot; see :func:`survmeta.plotting.plot_forest`."""
        from survmeta.plotting import plot_forest

        return plot_forest(self, **kwargs)

    def plot_subgroups(self, by: str = "endpoint", **kwargs):
        """Subgroup forest plot by ``by``; see :func:`survmeta.plotting.plot_subgroup_forest`."""
        from survmeta.plotting import plot_subgroup_forest

        return plot_subgroup_forest(self, by=by, **kwargs)

    def plot_posterior(self, **kwargs):
        """Posterior of the pooled HR; see :func:`survmeta.plotting.plot_posterior`."""
        from survmeta.plotting import plot_posterior

        return plot_posterior(self, **kwargs)

    def plot_tau(self, **kwargs):
        """Prior vs posterior of tau; see :func:`survmeta.plotting.plot_tau`."""
        from survmeta.plotting import plot_tau

        return plot_tau(self, **kwargs)

    def plot_funnel(self, **kwargs):
        """Funnel plot; see :func:`survmeta.plotting.plot_funnel`."""
        from survmeta.plotting import plot_funnel

        return plot_funnel(self, **kwargs)

    def __repr__(self) -> str:
        hr = self.stats["hr"]
        key = _interval_key(self.level)
        return (
            f"<PoolResult {self.id}: k={self.k}, engine={self.engine}, "
            f"HR {hr.median:.2f} [{key}% ETI {hr.eti.lower:.2f}, {hr.eti.upper:.2f}], "
            f"P(HR<1)={fmt_prob(self.p_hr_below_1)}>"
        )

    def __str__(self) -> str:
        """``print(result)``: the readable block of :meth:`summary_text` (``repr`` stays one line)."""
        return self.summary_text()

    def summary_text(self) -> str:
        """A readable block: the pooled HR, tau, the prediction, the studies, the companion.

        Both interval kinds are named (equal-tailed and shortest; the HR's shortest is that of
        the log HR, exponentiated). The REML companion is printed as metafor's ``print.rma``.
        """
        pct = f"{self.level * 100:g}%"
        hr, tau, pr = self.stats["hr"], self.stats["tau"], self.stats["predict_hr"]
        q = self.question
        lines = [
            f"{self.id}: {q.get('title') or ''}".rstrip(": "),
            f"HR = hazard({q.get('experimental')}) / hazard({q.get('reference')}); k = {self.k}; "
            f"engine: {self.engine}; priors mu ~ {self.prior_text('mu')}, "
            f"tau ~ {self.prior_text('tau')}",
            f"pooled HR {hr.median:.2f}  {pct} equal-tailed [{hr.eti.lower:.2f}, "
            f"{hr.eti.upper:.2f}]  shortest [{hr.hdi.lower:.2f}, {hr.hdi.upper:.2f}]  "
            f"P(HR < 1) = {fmt_prob(self.p_hr_below_1)}",
            f"tau {tau.median:.2f}  equal-tailed [{tau.eti.lower:.2f}, {tau.eti.upper:.2f}]  "
            f"shortest [{tau.hdi.lower:.2f}, {tau.hdi.upper:.2f}]",
            f"prediction (new study) HR equal-tailed [{pr.eti.lower:.2f}, {pr.eti.upper:.2f}]",
            "",
            self._study_text(),
        ]
        if self.k >= 2:
            from survmeta.exact.frequentist import rma

            f = rma(self.effects["log_hr"].to_numpy(float), self.effects["se"].to_numpy(float),
                    method="REML", level=self.level)
            lines += ["", "Frequentist companion (log HR scale), as metafor prints rma():", "",
                      str(f)]
        return "\n".join(lines).rstrip("\n") + "\n"

    def _study_text(self) -> str:
        t = self.study_summary()
        if (t["label"].astype(str) == t["study"].astype(str)).all():
            t = t.drop(columns="label")
        t = t.drop(columns=[c for c in ("log_hr", "se") if c in t])
        return t.to_string(index=False, float_format=lambda x: f"{x:.2f}")

    def print_summary(self) -> None:
        """Print :meth:`summary_text`."""
        print(self.summary_text(), end="")


def _lazy_field(name: str) -> property:
    """A :class:`PoolResult` field whose value may be computed when first read.

    The dataclass ``__init__`` assigns the field through the setter, so a value passed in
    (MCMC, hierarchical, loaded results) is kept as given; :meth:`PoolResult._defer`
    registers a function that computes it on first access instead (exact engine). The
    values live in the instance's ``_values`` and the pending functions in ``_compute``.
    """

    def get(self):
        values = self.__dict__.setdefault("_values", {})
        if name not in values:
            compute = self.__dict__.setdefault("_compute", {}).pop(name, None)
            values[name] = None if compute is None else compute()
        return values[name]

    def set_(self, value) -> None:
        self.__dict__.setdefault("_compute", {}).pop(name, None)
        self.__dict__.setdefault("_values", {})[name] = value

    return property(get, set_, doc=f"``{name}`` (see the class docstring).")


PoolResult.posterior = _lazy_field("posterior")
PoolResult.point_estimates = _lazy_field("point_estimates")  # type: ignore[assignment]


@dataclass(frozen=True)
class SingleArmResult:
    """The pooled answer to a single-group question (``measure = "proportion" | "median"``).

    Attributes
    ----------
    question : dict
        The question (``id``, ``title``, ``outcome``, ...).
    measure : {"proportion", "median"}
    pool : ProportionPool or MedianPool
        :func:`survmeta.exact.pool_proportions` or :func:`survmeta.exact.pool_medians`
        on the question's ``[[study.outcome]]`` entries (medians in months); with the
        MCMC engine the same objects with the Bayesian fields from PyMC's NUTS
        (``pool.engine`` or ``pool.log_median.engine`` is ``"mcmc"``).
    keys : tuple of str
        ``study/outcome`` of each pooled entry, in the pool's order.
    notes : tuple of str
        Unit conversions, MCMC warnings and other remarks.
    engine : {"exact", "mcmc"}
        The engine of the Bayesian fit.
    diagnostics : Diagnostics
        MCMC diagnostics (:func:`survmeta.models.diagnose`: R-hat, ESS, divergences,
        ``warnings``); empty (``Diagnostics()``) with the exact engine. A mapping given
        here is read with :meth:`Diagnostics.from_dict`.
    posterior : xarray.DataTree or None
        The MCMC fit's draws (``mu``, ``tau``, ``predict``, ...); None with the exact
        engine. Not part of :meth:`to_dict`.
    """

    question: dict
    measure: Literal["proportion", "median"]
    pool: Any  # ProportionPool | MedianPool (survmeta.exact), kept untyped to avoid the import
    keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    engine: str = "exact"
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    posterior: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.diagnostics, Mapping):
            object.__setattr__(self, "diagnostics", Diagnostics.from_dict(self.diagnostics))

    @property
    def id(self) -> str:
        return str(self.question["id"])

    @property
    def level(self) -> float:
        return float(self.pool.level)

    @property
    def k(self) -> int:
        if self.measure == "proportion":
            return int(self.pool.k)
        lm = self.pool.log_median
        return int(lm.k) if lm is not None else len(self.pool.studies)

    @property
    def n(self) -> float:
        """Patients in the pooled entries (NaN when a median entry has no ``n``)."""
        if self.measure == "proportion":
            return float(sum(self.pool.n))
        studies = [st for st in self.pool.studies if st.included or self.pool.log_median is None]
        ns = [st.n for st in studies]
        return float(sum(ns)) if ns and all(v is not None for v in ns) else math.nan

    def sof_row(self) -> dict:
        """The summary-of-findings values on the natural scale.

        Proportion: the pooled proportion (posterior median) in percent with its credible
        and prediction intervals. Median: the pooled median time (log-median pooling, exact
        Bayesian) in months with its credible and prediction intervals; without any study
        with a usable interval, the median of medians and its CI (no prediction interval).
        """
        p = self.pool
        if self.measure == "proportion":
            return {"estimate": 100 * p.proportion, "lower": 100 * p.proportion_ci[0],
                    "upper": 100 * p.proportion_ci[1], "predict_lower": 100 * p.proportion_pi[0],
                    "predict_upper": 100 * p.proportion_pi[1], "tau": p.tau_median,
                    "unit": "%", "basis": "pooled"}
        lm = p.log_median
        if lm is not None:
            return {"estimate": lm.median, "lower": lm.lower, "upper": lm.upper,
                    "predict_lower": lm.pi_lower, "predict_upper": lm.pi_upper, "tau": lm.tau,
                    "unit": p.time_unit, "basis": "pooled"}
        mm = p.mm
        return {"estimate": mm.estimate, "lower": mm.lower, "upper": mm.upper,
                "predict_lower": math.nan, "predict_upper": math.nan, "tau": math.nan,
                "unit": p.time_unit, "basis": "median of medians"}

    def summary(self) -> str:
        """A few lines: the pooled value with its intervals, then the companions and notes."""
        title = f"{self.id} ({self.measure}; k = {self.k})"
        if self.measure == "proportion":
            body = self.pool.summary()
        else:
            with pd.option_context("display.width", 200):
                body = (f"Pooled median ({self.pool.time_unit}):\n"
                        + self.pool.summary().to_string(float_format=lambda x: f"{x:.2f}",
                                                        na_rep="-"))
                body += "".join(f"\n{x}" for x in self.pool.excluded + self.pool.notes)
        return "\n".join([title, body, *self.notes])

    def to_dict(self) -> dict:
        """JSON-ready dictionary: question, measure, engine, k, n, the summary row, the pool
        and the MCMC diagnostics (:meth:`Diagnostics.to_dict`; ``{}`` with the exact
        engine)."""
        row = {key: _plain(v) for key, v in self.sof_row().items()}
        return {"question": dict(self.question), "measure": self.measure, "engine": self.engine,
                "k": self.k, "n": _plain(self.n), "summary": row, "text": self.summary(),
                "keys": list(self.keys), "notes": list(self.notes), "pool": self.pool.to_dict(),
                "diagnostics": ({} if self.diagnostics == Diagnostics()
                                else self.diagnostics.to_dict())}


class PoolSet(Mapping):
    """Pooled results of several questions, keyed by question id, in registry order.

    The mapping holds the hazard-ratio questions (:class:`PoolResult`); the single-group
    questions are in :attr:`single_arm` (question id -> :class:`SingleArmResult`).
    """

    def __init__(self, results: list[PoolResult], skipped: list[dict] | None = None,
                 hierarchical: Any = None, meta: dict | None = None,
                 single_arm: list[SingleArmResult] | None = None):
        self._results = {r.id: r for r in results}
        self.single_arm = {r.id: r for r in (single_arm or [])}
        self.skipped = list(skipped or [])
        self.hierarchical = hierarchical
        self.meta = dict(meta or {})

    def __getitem__(self, key: str) -> PoolResult:
        return self._results[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        engines = sorted({r.engine for r in self._results.values()})
        level = next(iter(self._results.values())).level if self._results else None
        hier = "; hierarchical fit attached" if self.hierarchical is not None else ""
        return (f"<PoolSet: {len(self)} pooled question(s), engine {', '.join(engines) or '-'}, "
                f"level {level}; {len(self.skipped)} with nothing to pool{hier}>")

    def print_summary(self, interval: str = "eti") -> None:
        """Print the summary of findings (:meth:`summary_of_findings`), one row per question,
        then each single-group question's :meth:`SingleArmResult.summary`."""
        sof = self.summary_of_findings(interval=interval, single_arm=False)
        cols = ["question", "k", "n", "basis", "hr", "hr_lower", "hr_upper", "predict_lower",
                "predict_upper", "tau", "p_hr_below_1"]
        print(f"Summary of findings ({interval.upper()} intervals; one-study rows: the study's "
              "own CI)")
        from survmeta._format import fmt_prob as prob

        def num(x: float) -> str:
            return "-" if not np.isfinite(x) else f"{x:.2f}"

        fmt: dict[str, Any] = {c: num for c in cols[4:-1]}
        fmt.update(p_hr_below_1=prob, n=lambda x: "-" if not np.isfinite(x) else f"{x:.0f}")
        print(sof[cols].to_string(index=False, formatters=fmt, na_rep="-"))
        for sa in self.single_arm.values():
            print()
            print(sa.summary())

    def summary(self) -> pd.DataFrame:
        """One row per question: k, engine, pooled HR with intervals, tau, prediction, P(HR<1)."""
        rows = []
        for r in self._results.values():
            hr, tau, pr = r.stats["hr"], r.stats["tau"], r.stats["predict_hr"]
            rows.append(
                {
                    "question": r.id,
                    "k": r.k,
                    "engine": r.engine,
                    "hr": hr.median,
                    "hr_lower": hr.eti.lower,
                    "hr_upper": hr.eti.upper,
                    "hr_hdi_lower": hr.hdi.lower,
                    "hr_hdi_upper": hr.hdi.upper,
                    "tau": tau.median,
                    "tau_lower": tau.eti.lower,
                    "tau_upper": tau.eti.upper,
                    "predict_lower": pr.eti.lower,
                    "predict_upper": pr.eti.upper,
                    "p_hr_below_1": r.p_hr_below_1,
                    "warnings": len(r.diagnostics.warnings),
                }
            )
        return pd.DataFrame(rows)

    def by_fit(self) -> dict[str, "PoolSet"]:
        """Hierarchical results split by the fit they come from (one per linked question group).

        Results without ``question["hierarchical_fit"]`` form one fit named ``""``.
        """
        groups: dict[str, list[PoolResult]] = {}
        for r in self._results.values():
            groups.setdefault(r.question.get("hierarchical_fit") or "", []).append(r)
        return {name: PoolSet(rs, meta=self.meta) for name, rs in groups.items()}

    def summary_of_findings(self, interval: str = "eti",
                            single_arm: bool = True) -> pd.DataFrame:
        """The primary answer per question, one row each (what ``survmeta pool`` prints first).

        A question with several studies: the pooled HR (posterior median) with its credible
        interval, the prediction interval, tau and P(HR < 1), from this set's engine. A question
        with one study: that study's own HR and interval at the same level, P(HR < 1) from its
        normal likelihood, no prediction interval or tau (``basis = "one study"``); the
        random-effects fit, whose interval adds the heterogeneity the tau prior allows, stays in
        the result.

        Parameters
        ----------
        interval : {"eti", "hdi"}
            Kind of the pooled HR's and the prediction's interval: equal-tailed (central,
            the default) or shortest (bayesmeta's default print). HR-scale shortest
            intervals are the shortest intervals of the log HR, exponentiated, so none
            starts at 0. A one-study row's interval is the study's own symmetric CI.

        Returns
        -------
        pandas.DataFrame
            ``question, group, k, n, basis, engine, hr, hr_lower, hr_upper, predict_lower,
            predict_upper, tau, p_hr_below_1, endpoints, warnings, interval`` (the kind),
            ``certainty``: the rater's GRADE rating recorded in the registry
            (``[[question]] certainty``), or ``"not rated"``; never computed; then
            ``measure`` and, on the natural scale, ``estimate, lower, upper, unit``.
            With ``single_arm`` (default) one row per single-group question follows the
            hazard-ratio rows: the pooled proportion in percent or the pooled median in
            months (:meth:`SingleArmResult.sof_row`), its credible interval (always
            equal-tailed), prediction interval, tau, k and n; its HR columns are NaN. They
            have equal-tailed intervals only, so an ``interval="hdi"`` table leaves them out.
        """
        from scipy.stats import norm

        if interval not in ("eti", "hdi"):
            raise ValueError(f"interval must be 'eti' or 'hdi', not {interval!r}")
        rows = []
        for r in self._results.values():
            e = r.effects
            n = e["n"].to_numpy(dtype=float) if "n" in e else np.array([np.nan])
            endpoints = sorted({str(x).strip() for x in e.get("endpoint", []) if isinstance(x, str)})
            row = {"question": r.id, "group": r.question.get("group"), "k": r.k,
                   "n": float(n.sum()) if np.isfinite(n).all() else np.nan,
                   "engine": r.engine, "endpoints": "; ".join(endpoints),
                   "warnings": len(r.diagnostics.warnings)}
            if r.k == 1:
                y, se = float(e["log_hr"].iloc[0]), float(e["se"].iloc[0])
                z = float(norm.ppf(0.5 + r.level / 2))
                row.update(basis="one study", hr=math.exp(y), hr_lower=math.exp(y - z * se),
                           hr_upper=math.exp(y + z * se), predict_lower=np.nan,
                           predict_upper=np.nan, tau=np.nan,
                           p_hr_below_1=float(norm.cdf(-y / se)))
            else:
                hr, tau, pr = r.stats["hr"], r.stats["tau"], r.stats["predict_hr"]
                row.update(basis="pooled", hr=hr.median, hr_lower=getattr(hr, interval).lower,
                           hr_upper=getattr(hr, interval).upper, predict_lower=getattr(pr, interval).lower,
                           predict_upper=getattr(pr, interval).upper, tau=tau.median,
                           p_hr_below_1=r.p_hr_below_1)
            row["interval"] = interval
            row["certainty"] = certainty_rating(r.question)
            row.update(measure="hr", estimate=row["hr"], lower=row["hr_lower"],
                       upper=row["hr_upper"], unit="HR")
            rows.append(row)
        for sa in (self.single_arm.values() if single_arm and interval == "eti" else ()):
            row = {"question": sa.id, "group": sa.question.get("group"), "k": sa.k, "n": sa.n,
                   "engine": "exact", "endpoints": sa.question.get("outcome") or "",
                   "warnings": 0, "hr": np.nan, "hr_lower": np.nan, "hr_upper": np.nan,
                   "p_hr_below_1": np.nan, "interval": "eti",
                   "certainty": certainty_rating(sa.question), "measure": sa.measure}
            row.update(sa.sof_row())
            rows.append(row)
        cols = ["question", "group", "k", "n", "basis", "engine", "hr", "hr_lower", "hr_upper",
                "predict_lower", "predict_upper", "tau", "p_hr_below_1", "endpoints", "warnings",
                "interval", "certainty", "measure", "estimate", "lower", "upper", "unit"]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (``survmeta pool --format json``), schema :data:`SCHEMA_VERSION`."""
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION,
                               "questions": [r.to_dict() for r in self._results.values()],
                               "skipped": self.skipped}
        if self.single_arm:
            out["single_arm"] = [r.to_dict() for r in self.single_arm.values()]
        if self.hierarchical is not None:
            out["hierarchical"] = self.hierarchical.to_dict()
        out.update({"meta": self.meta})
        return out


    @classmethod
    def from_dict(cls, d: Mapping) -> PoolSet:
        """Read saved results (:meth:`to_dict`, ``survmeta pool --save``; schema 1 or 2).

        See :func:`survmeta.results_io.pool_set_from_dict`.
        """
        from survmeta.results_io import pool_set_from_dict

        return pool_set_from_dict(d)


def certainty_rating(question: dict) -> str:
    """The rater's GRADE rating of a question (``question["certainty"]``), or "not rated"."""
    cert = question.get("certainty") or {}
    return cert.get("rating") or "not rated"


def _plain(x):
    if x is None:
        return None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    return x
