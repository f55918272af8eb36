"""Subgroup analysis of one question: pooled HR per subgroup and the test for differences.

A question that pools different endpoints (OS after progression with PFS on rechallenge), or
any other registry field that splits its comparisons, is analysed per subgroup as metafor and
RevMan show it:

* within each subgroup, the exact Bayesian random-effects model (the question's priors) and
  the frequentist random-effects model (REML by default, metafor's ``rma``);
* the **test for subgroup differences** (frequentist): the subgroup estimates compared by a
  common-effect model, ``Q_between = sum_g w_g (mu_g - mu_bar)^2`` with ``w_g = 1 / se_g^2``,
  on ``G - 1`` degrees of freedom (Borenstein et al. 2009, ch. 19; RevMan's test; metafor's
  ``rma(est, sei = se, method = "EE")`` on the subgroup estimates, pinned in
  ``tests/reference/metafor_subgroups.R``);
* the **posterior of the difference** (Bayesian) of each subgroup's pooled log HR from the
  first subgroup's, from independent exact posteriors (the subgroups share no parameter),
  with ``P(difference < 0)``.

Pure numpy/scipy: the exact engine and the frequentist companion only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

from survmeta._format import fmt_pval
from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta
from survmeta.exact.frequentist import rma
from survmeta.settings import DEFAULT_MU_PRIOR, DEFAULT_SEED, DEFAULT_TAU_PRIOR, SUBGROUP_DRAWS

__all__ = ["SubgroupAnalysis", "SubgroupEstimate", "subgroup_analysis"]


@dataclass(frozen=True)
class SubgroupEstimate:
    """One subgroup: its comparisons and pooled estimates (log scale)."""

    name: str
    k: int
    keys: tuple[str, ...]
    mu: float  # posterior median of the pooled log HR
    mu_lower: float
    mu_upper: float
    freq_estimate: float  # frequentist random-effects estimate and SE
    freq_se: float

    @property
    def hr(self) -> tuple[float, float, float]:
        """Pooled HR (posterior median) with its credible interval."""
        return math.exp(self.mu), math.exp(self.mu_lower), math.exp(self.mu_upper)


@dataclass(frozen=True)
class SubgroupDifference:
    """Posterior of one subgroup's pooled log HR minus the first subgroup's."""

    name: str
    median: float
    lower: float
    upper: float
    p_below_0: float

    @property
    def ratio_of_hrs(self) -> tuple[float, float, float]:
        return math.exp(self.median), math.exp(self.lower), math.exp(self.upper)


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Per-subgroup estimates, the test for subgroup differences and the Bayesian differences."""

    by: str
    level: float
    method: str
    groups: tuple[SubgroupEstimate, ...]
    q_between: float
    df: int
    p_between: float
    differences: tuple[SubgroupDifference, ...]

    def text(self) -> str:
        """Two lines a reviewer can paste: the subgroups and the test."""
        pct = f"{100 * self.level:g}%"
        parts = [f"{g.name} (k = {g.k}): HR {g.hr[0]:.2f} [{g.hr[1]:.2f}, {g.hr[2]:.2f}]"
                 for g in self.groups]
        diffs = "; ".join(
            f"ratio of HRs {d.name} / {self.groups[0].name} {d.ratio_of_hrs[0]:.2f} "
            f"[{d.ratio_of_hrs[1]:.2f}, {d.ratio_of_hrs[2]:.2f}], P(< 1) = {d.p_below_0:.2f}"
            for d in self.differences)
        return (f"by {self.by}: " + "; ".join(parts) + f" ({pct} CrI)\n"
                f"test for subgroup differences ({self.method} within subgroups): Q = "
                f"{self.q_between:.2f}, df = {self.df}, p {fmt_pval(self.p_between, equal=True)}; {diffs}")

    def to_dict(self) -> dict:
        return {
            "by": self.by, "level": self.level, "method": self.method,
            "groups": [{"name": g.name, "k": g.k, "keys": list(g.keys), "hr": list(g.hr),
                        "mu": [g.mu, g.mu_lower, g.mu_upper],
                        "frequentist": [g.freq_estimate, g.freq_se]} for g in self.groups],
            "test": {"Q": self.q_between, "df": self.df, "p": self.p_between},
            "differences": [{"name": d.name, "log_ratio": [d.median, d.lower, d.upper],
                             "p_below_0": d.p_below_0} for d in self.differences],
        }


def subgroup_analysis(effects: pd.DataFrame, by: str = "endpoint", *, tau_prior=DEFAULT_TAU_PRIOR,
                      mu_prior=DEFAULT_MU_PRIOR, level: float = 0.95, method: str = "REML",
                      draws: int = SUBGROUP_DRAWS, seed: int = DEFAULT_SEED) -> SubgroupAnalysis:
    """Pool each subgroup of a question's rows and test the differences.

    Parameters
    ----------
    effects : pandas.DataFrame
        The pooled rows of one question (``log_hr``, ``se``, ``key`` and the column ``by``),
        e.g. ``PoolResult.effects``.
    by : str
        Column that defines the subgroups (``endpoint`` by default); subgroups in order of
        first appearance.
    tau_prior, mu_prior : str or Prior
        Priors of the exact model within each subgroup.
    level : float
        Interval level.
    method : str
        tau^2 estimator of the frequentist model within each subgroup.
    draws, seed : int
        Posterior draws per subgroup for the differences (seeded).

    Raises
    ------
    SurvmetaError
        Fewer than two subgroups, or a column that is not in the table.
    """
    if by not in effects.columns:
        raise SurvmetaError(f"subgroups: no column {by!r} in the effect table; columns: "
                            f"{', '.join(map(str, effects.columns))}")
    labels = effects[by].astype(str).str.strip()
    names = list(dict.fromkeys(labels))
    if len(names) < 2:
        raise SurvmetaError(f"subgroups by {by}: only one subgroup ({names[0] if names else '-'})")
    groups: list[SubgroupEstimate] = []
    samples: list[np.ndarray] = []
    a = (1.0 - level) / 2.0
    for name in names:
        rows = effects[labels == name]
        y, s = rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float)
        post = bayesmeta(y, s, tau_prior=tau_prior, mu_prior=mu_prior)
        lo, med, hi = (float(post.quantile("mu", q)) for q in (a, 0.5, 1.0 - a))
        freq = rma(y, s, method=method)
        groups.append(SubgroupEstimate(name, len(rows), tuple(rows["key"]), med, lo, hi,
                                       float(freq.estimate), float(freq.se)))
        # independent draws by inverse CDF, a seed per subgroup
        u = np.random.default_rng([seed, len(samples)]).uniform(size=draws)
        samples.append(np.asarray(post.quantile("mu", u), dtype=float))
    est = np.array([g.freq_estimate for g in groups])
    w = 1.0 / np.array([g.freq_se for g in groups]) ** 2
    mean = float(np.sum(w * est) / np.sum(w))
    q = float(np.sum(w * (est - mean) ** 2))
    df = len(groups) - 1
    diffs = []
    for g, smp in zip(groups[1:], samples[1:]):
        d = smp - samples[0]
        lo, med, hi = np.quantile(d, [a, 0.5, 1.0 - a])
        diffs.append(SubgroupDifference(g.name, float(med), float(lo), float(hi),
                                        float(np.mean(d < 0))))
    return SubgroupAnalysis(by, level, method, tuple(groups), q, df, float(chi2.sf(q, df)),
                            tuple(diffs))
