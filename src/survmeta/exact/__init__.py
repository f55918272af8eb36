"""Exact engine (quadrature over tau) and frequentist companions; numpy/scipy only."""

from survmeta.exact.bmr import BayesMetaRegression, PosteriorSummary, bmr
from survmeta.exact.engine import ExactPosterior, bayesmeta, common_effect
from survmeta.exact.frequentist import FrequentistResult, cumul, leave1out, rma
from survmeta.exact.proportions import (
    ProportionFrequentist,
    ProportionPool,
    pool_proportions,
    rma_glmm_proportions,
    rma_proportions,
)
from survmeta.exact.influence import Baujat, Influence, Tau2Interval, baujat, confint_tau2, influence
from survmeta.exact.medians import (
    LogMedianPool,
    MedianOfMedians,
    MedianPool,
    MedianStudy,
    median_of_medians,
    pool_medians,
)
from survmeta.exact.metareg import Coefficient, MetaRegression, moderator_matrix, rma_mods
from survmeta.exact.smallstudy import (
    RanktestResult,
    RegtestResult,
    SmallStudyTests,
    TrimfillResult,
    ranktest,
    regtest,
    small_study_tests,
    trimfill,
)

__all__ = ["ExactPosterior", "bayesmeta", "common_effect", "FrequentistResult", "rma",
           "leave1out", "cumul", "Tau2Interval", "confint_tau2", "Influence",
           "influence", "Baujat", "baujat", "RegtestResult", "RanktestResult", "TrimfillResult",
           "SmallStudyTests", "regtest", "ranktest", "trimfill", "small_study_tests",
           "MedianPool", "MedianStudy", "LogMedianPool", "MedianOfMedians", "pool_medians",
           "median_of_medians",
           "ProportionPool", "ProportionFrequentist", "pool_proportions", "rma_glmm_proportions",
           "rma_proportions",
           "Coefficient", "MetaRegression", "rma_mods", "moderator_matrix",
           "BayesMetaRegression", "PosteriorSummary", "bmr"]
