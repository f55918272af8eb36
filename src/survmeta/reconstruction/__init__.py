"""Reconstruction: from what each paper printed to a log hazard ratio and its SE.

* :mod:`survmeta.reconstruction.methods`: one function per method, each
  returning an :class:`Estimate` or raising :class:`NotApplicable`;
* :func:`reconstruct`: the effect table (``docs/architecture.md``) for a
  registry; :func:`estimate_comparison`: the selector for one comparison;
* :func:`explain`: the reasoning for one comparison, in words.

Pure numpy/scipy/pandas: importing this package never imports PyMC.

The package is named ``reconstruction`` so that ``survmeta.reconstruct`` is
always the function, with its real signature, whatever has been imported.
"""

from survmeta.reconstruction.explain import explain
from survmeta.reconstruction.methods import (
    APPROXIMATE,
    DEFAULT_ORDER,
    METHODS,
    Estimate,
    NotApplicable,
)
from survmeta.reconstruction.select import COLUMNS, Selection, estimate_comparison, reconstruct

__all__ = [
    "APPROXIMATE",
    "COLUMNS",
    "DEFAULT_ORDER",
    "METHODS",
    "Estimate",
    "NotApplicable",
    "Selection",
    "estimate_comparison",
    "explain",
    "reconstruct",
]

