"""survmeta: Bayesian meta-analysis of time-to-event results as papers report them.

The public API, in the order data flows::

    import survmeta as sm
    reg = sm.load_registry("studies.toml")      # validated records
    effects = sm.reconstruct(reg)               # one row per comparison: log HR, SE, method
    results = sm.pool(reg)                      # one PoolResult per question
    results["oligo_vs_systemic"].summary()

Attributes are imported on first use, so ``import survmeta`` stays light and
never imports PyMC.
"""

from __future__ import annotations

import importlib

from survmeta._version import __version__
from survmeta.errors import Problem, RegistryError, SurvmetaError

_LAZY = {
    "load_registry": "survmeta.registry",
    "load_effects_csv": "survmeta.registry",
    "load": "survmeta.registry",
    "check": "survmeta.registry",
    "reconstruct": "survmeta.reconstruction",
    "explain": "survmeta.reconstruction",
    "pool": "survmeta.pooling",
    "pool_question": "survmeta.pooling",
    "bayesmeta": "survmeta.exact",
    "rma": "survmeta.exact",
    "parse_prior": "survmeta.priors",
    "PoolResult": "survmeta.results",
    "PoolSet": "survmeta.results",
    "SingleArmResult": "survmeta.results",
    "sensitivity": "survmeta.living",
    "add_study": "survmeta.living",
    "write_report": "survmeta.report",
}

__all__ = ["__version__", "Problem", "RegistryError", "SurvmetaError", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'survmeta' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
