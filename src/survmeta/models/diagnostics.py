"""Convergence diagnostics of a PyMC fit, with warnings in words.

:func:`diagnose` reports, per parameter group (each posterior variable), the
largest rank-normalised split R-hat and the smallest bulk and tail effective
sample sizes (ArviZ, Vehtari et al. 2021), plus the number of divergent
transitions and of draws that hit the maximum tree depth. Thresholds follow
Vehtari et al.: R-hat above 1.01, ESS below 400, any divergence, any tree-depth
hit. It also runs the multiple-chain rank-uniformity test that ArviZ's rank plot
prints on each panel (``p=...(alpha=0.01)``; arviz-stats' ``mchain_uniformity_test``
on the fractional ranks, Säilynoja et al. 2022), so the warnings and the rank plot
agree: a scalar variable is flagged when its p is below alpha, a vector variable
when its smallest p times its number of elements (Bonferroni) is.
"""

from __future__ import annotations

from typing import Sequence

import arviz as az
import numpy as np
import xarray as xr

from survmeta.results import Diagnostics

__all__ = ["ESS_MIN", "RHAT_MAX", "diagnose"]

RHAT_MAX = 1.01
ESS_MIN = 400
#: Variables computed after sampling from independent draws; chains do not mix them.
_POSTHOC = ("predict",)


def _variables(idata: xr.DataTree, var_names: Sequence[str] | None) -> list[str]:
    """Posterior variables to diagnose (drops post hoc ones unless asked for)."""
    names = list(idata["posterior"].data_vars)
    if var_names is not None:
        return [v for v in var_names if v in names]
    return [v for v in names if v not in _POSTHOC]


def _extreme(ds: xr.Dataset, name: str, how: str) -> float:
    """Max or min of one variable across its non-sample dims, NaN-safe."""
    values = np.asarray(ds[name].values, dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        return float("nan")
    return float(np.nanmax(values) if how == "max" else np.nanmin(values))


def _per_group(idata: xr.DataTree, names: list[str]) -> dict[str, dict[str, float]]:
    """R-hat (max), bulk ESS (min) and tail ESS (min) for each variable."""
    rhat = az.rhat(idata, var_names=names)
    bulk = az.ess(idata, var_names=names, method="bulk")
    tail = az.ess(idata, var_names=names, method="tail")
    rhat, bulk, tail = (_as_dataset(x) for x in (rhat, bulk, tail))
    return {
        v: {
            "r_hat": _extreme(rhat, v, "max"),
            "ess_bulk": _extreme(bulk, v, "min"),
            "ess_tail": _extreme(tail, v, "min"),
        }
        for v in names
    }


def rank_alpha() -> float:
    """Level of the rank-uniformity test, as ArviZ's rank plot uses it (1 - envelope_prob)."""
    from arviz_base import rcParams

    return round(1.0 - float(rcParams["stats.envelope_prob"]), 10)


def _rank_uniformity(idata: xr.DataTree, names: list[str]) -> dict[str, float]:
    """Per variable, the rank plot's multiple-chain uniformity p, Bonferroni over elements."""
    import arviz_stats  # noqa: F401  (registers the azstats accessor)

    ds = idata["posterior"].to_dataset()[names]
    if int(ds.sizes.get("chain", 1)) < 2:
        return {}
    ranks = ds.azstats.compute_ranks(dim=["chain", "draw"], relative=True)
    p = ranks.azstats.mchain_uniformity_test(dim=["chain", "draw"])[0]
    out = {}
    for v in names:
        vals = np.asarray(p[v].values, dtype=float).ravel()
        vals = vals[np.isfinite(vals)]
        if vals.size:
            out[v] = float(min(1.0, vals.min() * vals.size))
    return out


def _as_dataset(obj) -> xr.Dataset:
    """ArviZ returns a DataTree for DataTree input; take its dataset."""
    if isinstance(obj, xr.DataTree):
        node = obj["posterior"] if "posterior" in obj.children else obj
        return node.to_dataset()
    return obj


def _stat_sum(idata: xr.DataTree, *names: str) -> int:
    """Sum of the first sample_stats variable that exists among ``names``."""
    if "sample_stats" not in idata.children:
        return 0
    stats = idata["sample_stats"]
    for name in names:
        if name in stats.data_vars:
            return int(np.asarray(stats[name].values, dtype=bool).sum())
    return 0


def _tau_names(names: list[str]) -> list[str]:
    """Heterogeneity-like variables, named in divergence warnings."""
    found = [v for v in names if v.startswith("tau") or "logtau" in v]
    return found or names[:1]


def _warnings(groups, divergences: int, treedepth: int, n_draws: int,
              alpha: float = 0.01) -> list[str]:
    """Plain-language warnings for every threshold crossed."""
    out = []
    if divergences:
        taus = ", ".join(_tau_names(list(groups)))
        out.append(
            f"{divergences} divergent transition{'s' if divergences != 1 else ''} after tuning: "
            f"the posterior of {taus} near 0 may be poorly explored; increase target_accept "
            "or use the marginal parametrization"
        )
    if treedepth:
        out.append(
            f"{treedepth} of {n_draws} draws hit the maximum tree depth: the sampler was "
            "cut short and explores slowly; reparametrize or increase max_treedepth"
        )
    for name, g in groups.items():
        if g["r_hat"] > RHAT_MAX:
            out.append(
                f"R-hat of {name} is {g['r_hat']:.3f} (> {RHAT_MAX}): the chains disagree; "
                "run longer or more chains before using these numbers"
            )
        low = min(g["ess_bulk"], g["ess_tail"])
        if low < ESS_MIN:
            which = "bulk" if g["ess_bulk"] <= g["ess_tail"] else "tail"
            out.append(
                f"{which} ESS of {name} is {low:.0f} (< {ESS_MIN}): its "
                f"{'mean and median' if which == 'bulk' else 'interval limits'} are imprecise; "
                "increase draws"
            )
        p = g.get("rank_p")
        if p is not None and np.isfinite(p) and p < alpha:
            out.append(
                f"rank-uniformity test of {name}: p = {p:.3f} (< {alpha:g}; the p the rank plot "
                "prints): the chains do not sample the same distribution; run longer or more "
                "chains"
            )
    return out


def diagnose(idata: xr.DataTree, var_names: Sequence[str] | None = None) -> Diagnostics:
    """Summarise MCMC convergence and warn in words.

    Parameters
    ----------
    idata : xarray.DataTree
        Output of :func:`pymc.sample` (or a survmeta fit) with ``posterior``
        and ``sample_stats`` groups.
    var_names : sequence of str, optional
        Posterior variables to check; default all except the post hoc
        ``predict``.

    Returns
    -------
    Diagnostics
        ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min`` (over all checked
        variables), ``groups`` (a dict ``{variable: {"r_hat", "ess_bulk", "ess_tail",
        "rank_p"}}``, ``rank_p`` the rank plot's uniformity p, Bonferroni over a vector's
        elements), ``rank_alpha`` (its level), ``divergences``, ``treedepth_hits``,
        ``chains``, ``draws`` and ``warnings`` (tuple of sentences; empty when all is
        well); :meth:`~survmeta.results.Diagnostics.to_dict` gives the saved form.
    """
    names = _variables(idata, var_names)
    groups = _per_group(idata, names) if names else {}
    alpha = rank_alpha()
    for v, p in (_rank_uniformity(idata, names) if names else {}).items():
        groups[v]["rank_p"] = p
    post = idata["posterior"]
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    divergences = _stat_sum(idata, "diverging")
    treedepth = _stat_sum(idata, "reached_max_treedepth")

    def pick(key, how):
        vals = [g[key] for g in groups.values() if not np.isnan(g[key])]
        return float((max if how == "max" else min)(vals)) if vals else float("nan")

    return Diagnostics(
        r_hat_max=pick("r_hat", "max"),
        ess_bulk_min=pick("ess_bulk", "min"),
        ess_tail_min=pick("ess_tail", "min"),
        groups=groups,
        divergences=divergences,
        treedepth_hits=treedepth,
        chains=chains,
        draws=draws,
        rank_alpha=alpha,
        warnings=tuple(_warnings(groups, divergences, treedepth, chains * draws, alpha)),
    )
