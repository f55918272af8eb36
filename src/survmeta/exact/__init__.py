"""Exact engine (quadrature over tau) and frequentist companions; numpy/scipy only."""

from survmeta.exact.engine import ExactPosterior, bayesmeta, common_effect
from survmeta.exact.frequentist import FrequentistResult, cumul, leave1out, rma

__all__ = ["ExactPosterior", "bayesmeta", "common_effect", "FrequentistResult", "rma",
           "leave1out", "cumul"]
