"""PyMC models: per-question random effects, the hierarchical model across questions,
meta-regression and single-arm evidence (proportions, log medians).

This is the only package of survmeta that imports PyMC. See docs/models.md.
"""

from survmeta.models.diagnostics import diagnose
from survmeta.models.hierarchical import fit_hierarchical
from survmeta.models.metareg import MCMCMetaRegression, fit_metareg
from survmeta.models.priors import UnsupportedPriorError
from survmeta.models.random_effects import build_random_effects_model, fit_random_effects
from survmeta.models.single_arm import SingleArmFit, SingleArmSummary, fit_log_medians, fit_proportions

__all__ = [
    "MCMCMetaRegression",
    "SingleArmFit",
    "SingleArmSummary",
    "UnsupportedPriorError",
    "build_random_effects_model",
    "diagnose",
    "fit_hierarchical",
    "fit_log_medians",
    "fit_metareg",
    "fit_proportions",
    "fit_random_effects",
]
