"""Reconstruction: from what each paper printed to a log hazard ratio and its SE.

:mod:`survmeta.reconstruct.methods` holds one function per method;
the selector builds the effect table (see ``docs/architecture.md``).
Pure numpy/scipy/pandas: importing this package never imports PyMC.
"""

from survmeta.reconstruct.methods import (
    APPROXIMATE,
    DEFAULT_ORDER,
    METHODS,
    Estimate,
    NotApplicable,
)

__all__ = ["APPROXIMATE", "DEFAULT_ORDER", "METHODS", "Estimate", "NotApplicable"]
