"""Interval and parameter summaries as small frozen records.

:class:`Interval` is one credible (or prediction) interval with its level and kind;
:class:`ParameterSummary` is one row of :meth:`survmeta.results.PoolResult.summary`.
Both convert to and from plain dictionaries (``to_dict`` / ``from_dict``).

Pure: imports numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal, Mapping

import numpy as np

__all__ = ["INTERVAL_KINDS", "Interval", "ParameterSummary"]

#: Kinds of interval: equal-tailed (central) and highest-density (shortest).
INTERVAL_KINDS = ("eti", "hdi")


@dataclass(frozen=True)
class Interval:
    """One credible (or prediction) interval.

    Attributes
    ----------
    lower, upper : float
        The bounds.
    level : float
        Probability the interval holds, strictly between 0 and 1 (0.95, not 95).
    kind : {"eti", "hdi"}
        ``"eti"``: equal-tailed, between the ``(1 - level)/2`` and ``(1 + level)/2``
        quantiles. ``"hdi"``: shortest interval holding ``level``.
    """

    lower: float
    upper: float
    level: float
    kind: Literal["eti", "hdi"] = "eti"

    def __post_init__(self) -> None:
        if self.kind not in INTERVAL_KINDS:
            raise ValueError(f"interval kind must be 'eti' or 'hdi', not {self.kind!r}")
        if not 0.0 < float(self.level) < 1.0:
            raise ValueError(f"interval level must be between 0 and 1, got {self.level}")
        if self.lower > self.upper:
            raise ValueError(f"interval lower bound {self.lower} is above the upper {self.upper}")

    @property
    def width(self) -> float:
        """``upper - lower``."""
        return float(self.upper - self.lower)

    def contains(self, x) -> bool | np.ndarray:
        """Whether ``x`` lies in the closed interval (elementwise for an array).

        Parameters
        ----------
        x : float or array_like

        Returns
        -------
        bool or numpy.ndarray of bool
        """
        arr = np.asarray(x, dtype=float)
        inside = (arr >= self.lower) & (arr <= self.upper)
        return bool(inside) if inside.ndim == 0 else inside

    def as_tuple(self) -> tuple[float, float]:
        """``(lower, upper)``."""
        return float(self.lower), float(self.upper)

    def to_dict(self) -> dict[str, Any]:
        """``{"lower", "upper", "level", "kind"}``, JSON-ready."""
        return {"lower": float(self.lower), "upper": float(self.upper),
                "level": float(self.level), "kind": self.kind}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Interval:
        """The inverse of :meth:`to_dict`."""
        return cls(lower=float(d["lower"]), upper=float(d["upper"]), level=float(d["level"]),
                   kind=d.get("kind", "eti"))


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def _plain(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class ParameterSummary:
    """Posterior summary of one parameter at one level.

    Attributes
    ----------
    name : str
        ``"mu"``, ``"hr"``, ``"tau"``, ``"predict"`` or ``"predict_hr"``.
    mean, median, sd : float
        Posterior moments and median (NaN where a moment does not exist, e.g. the
        mean of an HR under a random-effects posterior).
    eti : Interval
        Equal-tailed interval.
    hdi : Interval
        Shortest interval, at the same level.
    """

    name: str
    mean: float
    median: float
    sd: float
    eti: Interval
    hdi: Interval

    def __post_init__(self) -> None:
        if self.eti.kind != "eti" or self.hdi.kind != "hdi":
            raise ValueError("ParameterSummary needs an 'eti' and an 'hdi' interval")
        if self.eti.level != self.hdi.level:
            raise ValueError(f"eti level {self.eti.level} and hdi level {self.hdi.level} differ")

    @property
    def level(self) -> float:
        """Level of both intervals."""
        return self.eti.level

    def row(self) -> list[float]:
        """``mean, median, sd, eti_lower, eti_upper, hdi_lower, hdi_upper``."""
        return [self.mean, self.median, self.sd, self.eti.lower, self.eti.upper,
                self.hdi.lower, self.hdi.upper]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (non-finite moments as ``None``)."""
        return {"name": self.name, "mean": _plain(self.mean), "median": float(self.median),
                "sd": _plain(self.sd), "eti": self.eti.to_dict(), "hdi": self.hdi.to_dict()}

    @classmethod
    def from_block(cls, name: str, block: Mapping[str, Any], level: float) -> ParameterSummary:
        """From a summary block ``{"mean", "median", "sd", "eti": [lo, hi], "hdi": [lo, hi]}``.

        The form of one quantity in ``PoolResult.to_dict()`` (and of
        :func:`survmeta.results.summarize_draws`); a moment written as None (it does not
        exist) becomes NaN, a missing ``hdi`` NaN bounds.
        """
        hdi = block.get("hdi")
        hdi = (math.nan, math.nan) if hdi is None else hdi
        eti = block["eti"]
        return cls(name=str(name), mean=_num(block.get("mean")), median=float(block["median"]),
                   sd=_num(block.get("sd")),
                   eti=Interval(float(eti[0]), float(eti[1]), float(level), "eti"),
                   hdi=Interval(float(hdi[0]), float(hdi[1]), float(level), "hdi"))

    def block(self) -> dict[str, Any]:
        """The summary block :meth:`from_block` reads: moments (None where they do not
        exist), ``eti`` and ``hdi`` as ``[lower, upper]`` lists."""
        return {"mean": _plain(self.mean), "median": float(self.median), "sd": _plain(self.sd),
                "eti": list(self.eti.as_tuple()), "hdi": list(self.hdi.as_tuple())}

    def without_moments(self) -> ParameterSummary:
        """A copy with mean and SD set to NaN (HR-scale quantities, whose moments need not
        exist under a random-effects posterior)."""
        return replace(self, mean=math.nan, sd=math.nan)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ParameterSummary:
        """The inverse of :meth:`to_dict`."""
        return cls(name=str(d["name"]), mean=_num(d.get("mean")), median=float(d["median"]),
                   sd=_num(d.get("sd")), eti=Interval.from_dict(d["eti"]),
                   hdi=Interval.from_dict(d["hdi"]))
