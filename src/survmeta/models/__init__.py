"""PyMC models: per-question random effects and the hierarchical model across questions.

This is the only package of survmeta that imports PyMC. See docs/models.md.
"""

from survmeta.models.diagnostics import diagnose
from survmeta.models.hierarchical import fit_hierarchical
from survmeta.models.priors import UnsupportedPriorError
from survmeta.models.random_effects import build_random_effects_model, fit_random_effects

__all__ = [
    "UnsupportedPriorError",
    "build_random_effects_model",
    "diagnose",
    "fit_hierarchical",
    "fit_random_effects",
]
