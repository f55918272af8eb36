"""One home for survmeta's defaults: priors, seed, interval level, sampler settings, the 95%
normal quantile.

Every module that needs a default imports it from here, so the API, the CLI, the models and the
docs cannot disagree (docs/models.md gives the reasons for each prior). Pure Python: importing
this module imports nothing else.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_LEVEL",
    "DEFAULT_MU_PRIOR",
    "DEFAULT_SEED",
    "DEFAULT_TAU_PRIOR",
    "EXACT_DRAWS",
    "MCMC_CHAINS",
    "MCMC_DRAWS",
    "MCMC_TUNE",
    "NUTS_SAMPLER",
    "SUBGROUP_DRAWS",
    "TARGET_ACCEPT",
    "TARGET_ACCEPT_HIERARCHICAL",
    "Z95",
]

#: Prior on the between-study SD tau of the per-question models (docs/models.md).
DEFAULT_TAU_PRIOR = "halfnormal(0.5)"

#: Prior on each question's pooled log HR.
DEFAULT_MU_PRIOR = "normal(0, 4)"

#: Seed of every random draw unless one is given: the same seed gives the same numbers.
DEFAULT_SEED = 20240521

#: Interval level of summaries unless one is asked for.
DEFAULT_LEVEL = 0.95

#: MCMC draws kept per chain (after tuning) by the PyMC models.
MCMC_DRAWS = 1000

#: MCMC tuning steps per chain.
MCMC_TUNE = 1000

#: MCMC chains.
MCMC_CHAINS = 4

#: NUTS implementation: ``"pymc"`` (always installed) or ``"nutpie"`` (optional extra).
NUTS_SAMPLER = "pymc"

#: NUTS target acceptance rate of the per-question, single-group and meta-regression models.
TARGET_ACCEPT = 0.9

#: NUTS target acceptance rate of the hierarchical model: its tau population has a funnel that
#: 0.95 did not always follow (a few divergences on the bundled registry for some seeds).
TARGET_ACCEPT_HIERARCHICAL = 0.99

#: Posterior draws taken from the exact (quadrature) engine's posterior, e.g. into
#: ``PoolResult.posterior``: independent draws, so fewer than MCMC needs for the same accuracy.
EXACT_DRAWS = 4000

#: Exact-posterior draws per subgroup for the differences between subgroups: more than
#: EXACT_DRAWS, as a tail probability of a difference of two draws is wanted to ~0.002.
SUBGROUP_DRAWS = 20000

#: Phi^-1(0.975), the normal quantile of a 95% interval (scipy.stats.norm.ppf(0.975) rounded
#: to 7 significant digits, as printed in the methods literature).
Z95 = 1.959964
