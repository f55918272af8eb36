"""Reading saved results back: :meth:`PoolSet.from_dict` and :meth:`PoolResult.from_dict`.

The saved form is what :meth:`survmeta.results.PoolSet.to_dict` writes (``survmeta pool
--save``, ``--format json``). Schema version 2 carries ``"schema_version": 2`` and intervals
under ``eti`` / ``hdi`` with the level in ``level``; version 1 (files without the field)
has only level-named keys (``eti95``, ``hdi95``), which are read through ``level``. A newer
version is refused with a clear message.

A loaded result answers what a reader of saved results needs (``summary()``,
``summary_of_findings()``, ``print_summary()``, ``to_dict()``); posterior draws and the
exact posterior are not saved, so methods that need them raise
:class:`~survmeta.errors.SurvmetaError` naming what is missing.

This module imports neither PyMC nor matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

from survmeta.errors import SurvmetaError, check_level
from survmeta.results import (
    QUANTITIES,
    SCHEMA_VERSION,
    BayesFactors,
    CommonEffect,
    Diagnostics,
    PoolResult,
    PoolSet,
    _interval_key,
)
from survmeta.summaries import ParameterSummary

__all__ = ["SavedPoolResult", "pool_result_from_dict", "pool_set_from_dict", "schema_version"]

_NOT_SAVED = ("the saved results (JSON) hold summaries only: {what} {verb} not saved; pool the "
              "registry again (survmeta pool, survmeta.pool) for {need}")


def schema_version(d: Mapping) -> int:
    """Schema version of saved results: the ``schema_version`` field, 1 when absent.

    Raises
    ------
    SurvmetaError
        When the field is not a positive integer or is newer than this version reads.
    """
    v = d.get("schema_version", 1)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise SurvmetaError(f"not a saved pooled analysis: schema_version {v!r} is not a "
                            "positive integer")
    if v > SCHEMA_VERSION:
        raise SurvmetaError(f"saved results of schema version {v}; this version of survmeta "
                            f"reads versions 1 to {SCHEMA_VERSION}: upgrade survmeta")
    return v


def _interval(block: Mapping, kind: str, level: float) -> list[float] | None:
    """``block[kind]`` (version 2), else the level-named key (version 1)."""
    value = block.get(kind)
    if value is None:
        value = block.get(f"{kind}{_interval_key(level)}")
    if value is None:
        return None
    lo, hi = value
    return [float(lo), float(hi)]


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _stats_block(block: Mapping, level: float) -> dict[str, Any]:
    return {"mean": _num(block.get("mean")), "median": float(block["median"]),
            "sd": _num(block.get("sd")), "eti": _interval(block, "eti", level),
            "hdi": _interval(block, "hdi", level)}


@dataclass(repr=False)
class SavedPoolResult(PoolResult):
    """A :class:`~survmeta.results.PoolResult` read from saved results.

    Attributes
    ----------
    schema_version : int
        Version of the saved form it was read from.
    missing : tuple of str
        Blocks the saved question lacked (e.g. ``"mu"`` in a hand-written file); tables that
        need them raise :class:`~survmeta.errors.SurvmetaError`.
    """

    schema_version: int = SCHEMA_VERSION
    missing: tuple = field(default=())
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    def _not_saved(self, what: str, need: str, verb: str = "are") -> SurvmetaError:
        return SurvmetaError(f"{self.id}: " + _NOT_SAVED.format(what=what, verb=verb, need=need))

    def _require(self, names, need: str) -> None:
        gone = [n for n in names if n in self.missing]
        if gone:
            raise SurvmetaError(f"{self.id}: the saved results lack {', '.join(gone)}, needed "
                                f"for {need}")

    def _check_saved_level(self, level: float | None) -> None:
        if self._at_stored_level(level):
            return
        value = check_level(level)
        raise SurvmetaError(
            f"{self.id}: the saved results hold intervals at {100 * self.level:g}% only, not "
            f"{100 * value:g}%; pool the registry again with --level {value:g} (survmeta pool "
            f"--level {value:g}, or survmeta.pool(..., level={value:g}))")

    def interval(self, param: str, level: float | None = None, kind: str = "eti"):
        self._check_saved_level(level)
        self._require((param,), "interval()")
        return super().interval(param, None, kind)

    def summary(self, level: float | None = None) -> pd.DataFrame:
        self._check_saved_level(level)
        self._require(QUANTITIES, "summary()")
        return super().summary()

    def study_summary(self, level: float | None = None) -> pd.DataFrame:
        self._check_saved_level(level)
        return super().study_summary()

    def summary_text(self) -> str:
        self._require(("hr", "tau", "predict_hr"), "print_summary()")
        return super().summary_text()

    def to_dict(self) -> dict:
        if self.missing:
            raise SurvmetaError(f"{self.id}: the saved results lack {', '.join(self.missing)}, "
                                "so they cannot be written in full again")
        out = super().to_dict()
        for name in ("common_effect", "bayes_factors"):
            if name in self.extra:  # an empty block, written back as it was
                out[name] = self.extra[name]
        return out

    def to_netcdf(self, path) -> None:
        raise self._not_saved("posterior draws", "to_netcdf()")

    def plot_posterior(self, **kwargs):
        raise self._not_saved("posterior draws and the exact posterior", "plot_posterior()")

    def plot_tau(self, **kwargs):
        raise self._not_saved("posterior draws and the exact posterior", "plot_tau()")

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f"; read from saved results, schema {self.schema_version}>"


def _effects(q: Mapping, level: float) -> pd.DataFrame:
    rows = []
    z = float(norm.ppf(0.5 + level / 2.0))
    for s in q.get("studies") or ():
        shrunken = s.get("shrunken") or {}
        theta = _interval(shrunken, "eti", level) or [float("nan")] * 2
        y, se = float(s["log_hr"]), float(s["se"])
        rows.append({
            "study": s["id"], "label": s.get("label", s["id"]), "comparison": s["comparison"],
            "year": s.get("year"), "n": s.get("n"), "endpoint": s.get("endpoint"),
            "log_hr": y, "se": se, "se_extra": s.get("se_extra"), "method": s.get("method"),
            "approximate": bool(s.get("approximate", False)), "flags": list(s.get("flags") or ()),
            "hr": float(np.exp(y)), "hr_lower": float(np.exp(y - z * se)),
            "hr_upper": float(np.exp(y + z * se)),
            "theta_mean": _num(shrunken.get("mean")), "theta_lower": theta[0],
            "theta_upper": theta[1], "weight": s.get("weight"),
        })
    cols = ["study", "label", "comparison", "year", "n", "endpoint", "log_hr", "se", "se_extra",
            "method", "approximate", "flags", "hr", "hr_lower", "hr_upper", "theta_mean",
            "theta_lower", "theta_upper", "weight"]
    floats = ("log_hr", "se", "hr", "hr_lower", "hr_upper", "theta_mean", "theta_lower",
              "theta_upper", "n", "se_extra", "weight")  # None: NaN, written back as null
    years = [r["year"] for r in rows]
    # the effect table's dtypes (the tables print alike); year Int64 unless one is missing
    # (then kept as written, so None is written back as null)
    year_type = "Int64" if all(isinstance(y, int) for y in years) else object
    return pd.DataFrame({c: pd.Series([r[c] for r in rows],
                                      dtype=float if c in floats else
                                      year_type if c == "year" else object)
                         for c in cols})


def _priors(saved: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Saved prior strings as :class:`~survmeta.priors.Prior` objects; words that are not a
    prior spec (the hierarchical fit's tau) go to ``prior_notes``."""
    from survmeta.priors import parse_prior

    priors: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for name, text in dict(saved or {}).items():
        if text is None:
            priors[name] = None
            continue
        try:
            priors[name] = parse_prior(text, "mu" if name == "mu" else "tau")
        except SurvmetaError:
            notes[name] = str(text)
            continue
        if str(priors[name]) != text:  # not canonical as written: keep the words
            del priors[name]
            notes[name] = str(text)
    return priors, notes


def pool_result_from_dict(q: Mapping, version: int | None = None) -> SavedPoolResult:
    """One question's saved block as a :class:`SavedPoolResult`.

    Parameters
    ----------
    q : mapping
        A block of ``PoolSet.to_dict()["questions"]`` (``PoolResult.to_dict()``).
    version : int, optional
        Schema version of the file it comes from; default: ``q["schema_version"]`` or 2
        when intervals are stored under ``eti``, else 1.

    Returns
    -------
    SavedPoolResult

    Raises
    ------
    SurvmetaError
        When a required field (``id``, ``hr``, ``tau``, ``p_hr_below_1``) is missing or an
        interval cannot be read.
    """
    if not isinstance(q, Mapping):
        raise SurvmetaError(f"not a saved question block: expected a JSON object, not "
                            f"{type(q).__name__}")
    if version is None:
        version = schema_version(q) if "schema_version" in q else (
            2 if isinstance(q.get("hr"), Mapping) and "eti" in q["hr"] else 1)
    level = float(q.get("level") or 0.95)
    stats: dict[str, ParameterSummary] = {}
    missing = []
    for name in QUANTITIES:
        block = q.get(name)
        if block is None:
            if name in ("hr", "tau"):
                raise SurvmetaError(f"question {q.get('id')!r}: no {name!r} block")
            missing.append(name)
            continue
        read = _stats_block(block, level)
        if read["eti"] is None:
            raise SurvmetaError(f"question {q.get('id')!r}: the {name!r} block has no "
                                f"equal-tailed interval (eti, or eti{_interval_key(level)})")
        if read["hdi"] is None:
            missing.append(f"{name}.hdi")  # kept as NaN bounds
        # HR-scale moments may not exist (null, read as NaN)
        stats[name] = ParameterSummary.from_block(name, read, level)
    p = q["p_hr_below_1"]
    probabilities = dict(q.get("probabilities") or {"p_hr_below_1": p})
    probabilities.setdefault("p_hr_below_1", p)
    question = {k: q.get(k) for k in ("id", "title", "experimental", "reference", "outcome",
                                      "group", "certainty")}
    effects = _effects(q, level)
    if "k" in q and int(q["k"]) != len(effects):
        if q.get("studies"):
            raise SurvmetaError(f"question {q['id']!r}: k = {q['k']} but {len(effects)} studies")
        missing.append("studies")
        effects = pd.DataFrame({"study": [f"?{i}" for i in range(int(q["k"]))]})
    excluded = pd.DataFrame(list(q.get("excluded") or ()),
                            columns=["study", "label", "comparison", "reason"])
    diag = q.get("diagnostics")
    extra = {}
    for name in ("common_effect", "bayes_factors"):
        if name in q and not q[name]:
            extra[name] = q[name]
    priors, prior_notes = _priors(q.get("priors"))
    ce, bf = q.get("common_effect"), q.get("bayes_factors")
    res = SavedPoolResult(
        question=question, engine=q.get("engine") or "exact", effects=effects, stats=stats,
        probabilities=probabilities, priors=priors, prior_notes=prior_notes, posterior=None,
        diagnostics=Diagnostics.from_dict(diag) if isinstance(diag, Mapping) else Diagnostics(),
        excluded=excluded,
        frequentist=q.get("frequentist"), level=level, seed=q.get("seed"),
        notes=list(q.get("notes") or ()),
        bayes_factors=BayesFactors.from_dict(bf) if bf else None,
        common_effect=CommonEffect.from_dict(ce, level) if ce else None, exact=None,
        point_estimates=q.get("point_estimates"), schema_version=version,
        missing=tuple(missing), extra=extra)
    return res


class SavedHierarchical:
    """The saved hierarchical-fit block, kept as written (its draws are not saved)."""

    def __init__(self, d: Mapping):
        self._d = dict(d)

    def to_dict(self) -> dict:
        return dict(self._d)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        raise SurvmetaError(f"the saved hierarchical fit holds its summary only ({name} is not "
                            "saved); fit it again with survmeta pool")


@dataclass(frozen=True)
class SavedSingleArmResult:
    """A single-group question read back from saved results (its ``single_arm`` block).

    It answers what the summary of findings and the printed summary need (``sof_row()``,
    ``k``, ``n``, ``level``, ``summary()``, ``to_dict()``); the pool object itself
    (per-study rows, companions, the figure) is not rebuilt, and :attr:`pool` says so.
    """

    saved: Mapping

    @property
    def question(self) -> dict:
        return dict(self.saved["question"])

    @property
    def id(self) -> str:
        return str(self.saved["question"]["id"])

    @property
    def measure(self) -> str:
        return str(self.saved["measure"])

    @property
    def engine(self) -> str:
        """``"exact"`` or ``"mcmc"`` (results saved before the field existed: exact)."""
        return str(self.saved.get("engine", "exact"))

    @property
    def k(self) -> int:
        return int(self.saved["k"])

    @property
    def n(self) -> float:
        n = self.saved.get("n")
        return math.nan if n is None else float(n)

    @property
    def level(self) -> float:
        return float(self.saved["pool"]["level"])

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(self.saved.get("notes") or ())

    @property
    def diagnostics(self) -> Diagnostics:
        """The saved MCMC diagnostics (``Diagnostics()`` when none were saved)."""
        diag = self.saved.get("diagnostics")
        return Diagnostics.from_dict(diag) if isinstance(diag, Mapping) else Diagnostics()

    @property
    def pool(self):
        raise SurvmetaError(f"{self.id}: saved results keep the pooled summary of a "
                            "single-group question, not its pool object; pool the registry "
                            "again for the per-study rows, companions and the figure")

    def sof_row(self) -> dict:
        return {key: (math.nan if v is None else v) for key, v in self.saved["summary"].items()}

    def summary(self) -> str:
        if self.saved.get("text"):
            return str(self.saved["text"])
        row = self.sof_row()
        unit = "%" if self.measure == "proportion" else f" {row.get('unit', '')}"
        return (f"{self.id} ({self.measure}; k = {self.k})\n"
                f"pooled {row['estimate']:.1f}{unit} [{row['lower']:.1f}, {row['upper']:.1f}] "
                f"({row.get('basis', '')}; saved results)")

    def to_dict(self) -> dict:
        return dict(self.saved)


def pool_set_from_dict(d: Mapping) -> PoolSet:
    """Saved results (``PoolSet.to_dict()``, ``survmeta pool --save``) as a :class:`PoolSet`.

    Parameters
    ----------
    d : mapping
        The parsed JSON: ``schema_version`` (absent: version 1), ``questions``, ``skipped``,
        ``meta`` and, when it was fitted, ``hierarchical``.

    Returns
    -------
    PoolSet
        Of :class:`SavedPoolResult`; ``PoolSet.from_dict(x).to_dict() == x`` for a file
        this version wrote.

    Raises
    ------
    SurvmetaError
        When ``d`` is not saved results (no ``questions`` list), a question block is
        malformed (named by its position), or the schema version is newer than this one.
    """
    if not isinstance(d, Mapping) or not isinstance(d.get("questions"), list):
        raise SurvmetaError("not a saved pooled analysis: expected the JSON written by "
                            "`survmeta pool --save` (a \"questions\" list)")
    version = schema_version(d)
    results: list[PoolResult] = []
    for i, q in enumerate(d["questions"], start=1):
        try:
            results.append(pool_result_from_dict(q, version))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, SurvmetaError) as exc:
            raise SurvmetaError(
                f"not a saved pooled analysis: question {i} of the \"questions\" list is not "
                f"as `survmeta pool --save` writes it ({type(exc).__name__}: {exc})") from None
    hier = d.get("hierarchical")
    out = PoolSet(results, skipped=list(d.get("skipped") or ()),
                  hierarchical=SavedHierarchical(hier) if isinstance(hier, Mapping) else None,
                  meta=dict(d.get("meta") or {}),
                  single_arm=[SavedSingleArmResult(b)  # type: ignore[misc]  # same reader API
                              for b in d.get("single_arm") or ()])
    return out
