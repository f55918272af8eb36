"""Reconstruction: from what each paper printed to a log hazard ratio and its SE.

* :mod:`survmeta.reconstruct.methods`: one function per method, each
  returning an :class:`Estimate` or raising :class:`NotApplicable`;
* :func:`reconstruct`: the effect table (``docs/architecture.md``) for a
  registry; :func:`estimate_comparison`: the selector for one comparison;
* :func:`explain`: the reasoning for one comparison, in words.

Pure numpy/scipy/pandas: importing this package never imports PyMC.

The package itself is callable and means :func:`reconstruct`: once the
subpackage ``survmeta.reconstruct`` is imported, Python binds that name on
``survmeta`` to the package, so ``survmeta.reconstruct(registry)`` must work
on the package as well as on the function.
"""

import sys as _sys
import types as _types

from survmeta.reconstruct.explain import explain
from survmeta.reconstruct.methods import (
    APPROXIMATE,
    DEFAULT_ORDER,
    METHODS,
    Estimate,
    NotApplicable,
)
from survmeta.reconstruct.select import COLUMNS, Selection, estimate_comparison, reconstruct

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


class _CallableModule(_types.ModuleType):
    """``survmeta.reconstruct(registry, ...)`` is :func:`reconstruct`."""

    def __call__(self, *args, **kwargs):
        return reconstruct(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
