"""One home for survmeta's defaults: priors, seed, interval level, the 95% normal quantile.

Every module that needs a default imports it from here, so the API, the CLI, the models and the
docs cannot disagree (docs/models.md gives the reasons for each prior). Pure Python: importing
this module imports nothing else.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LEVEL", "DEFAULT_MU_PRIOR", "DEFAULT_SEED", "DEFAULT_TAU_PRIOR", "Z95"]

#: Prior on the between-study SD tau of the per-question models (docs/models.md).
DEFAULT_TAU_PRIOR = "halfnormal(0.5)"

#: Prior on each question's pooled log HR.
DEFAULT_MU_PRIOR = "normal(0, 4)"

#: Seed of every random draw unless one is given: the same seed gives the same numbers.
DEFAULT_SEED = 20240521

#: Interval level of summaries unless one is asked for.
DEFAULT_LEVEL = 0.95

#: Phi^-1(0.975), the normal quantile of a 95% interval (scipy.stats.norm.ppf(0.975) rounded
#: to 7 significant digits, as printed in the methods literature).
Z95 = 1.959964
