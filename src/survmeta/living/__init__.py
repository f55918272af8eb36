"""Living reviews: add a study, see what changed, run sensitivity analyses.

* :func:`add_study` merges a study (or comparisons of a study) into a registry,
  keeping the rest of the file byte-for-byte, validating before an atomic write;
  :func:`template_text` prints the block to fill in.
* :func:`diff_results` and :func:`describe_changes` compare two pooled
  analyses (e.g. the registry now and at an earlier git revision, see
  :func:`diff_since`).
* :func:`sensitivity` refits a question under leave-one-out, cumulative,
  prior, reconstruction-method and subset variants, as one tidy DataFrame.

Names are imported on first use; PyMC is imported only for ``engine="mcmc"``.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "add_study": "survmeta.living.add",
    "AddResult": "survmeta.living.add",
    "merge_text": "survmeta.living.add",
    "template_text": "survmeta.living.template",
    "study_template": "survmeta.living.template",
    "comparison_template": "survmeta.living.template",
    "diff_since": "survmeta.living.diff",
    "diff_saved": "survmeta.living.diff",
    "diff_results": "survmeta.living.diff",
    "describe_changes": "survmeta.living.diff",
    "compare_registries": "survmeta.living.diff",
    "load_since": "survmeta.living.diff",
    "sensitivity": "survmeta.living.sweep",
    "sensitivity_tasks": "survmeta.living.sweep",
    "PRIOR_GRID_TAU": "survmeta.living.sweep",
    "PRIOR_GRID_MU": "survmeta.living.sweep",
    "plot_sensitivity": "survmeta.living.sweep",
    "get_executor": "survmeta.living.executors",
    "SerialExecutor": "survmeta.living.executors",
    "Progress": "survmeta.living.executors",
}

#: What users call; the other names above stay importable (the CLI uses them).
__all__ = [
    "AddResult",
    "add_study",
    "describe_changes",
    "diff_results",
    "diff_since",
    "plot_sensitivity",
    "sensitivity",
    "template_text",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'survmeta.living' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
