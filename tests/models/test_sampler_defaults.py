"""The PyMC models take their sampler defaults from ``survmeta.settings``."""

from __future__ import annotations

import inspect

from survmeta import settings


def test_model_signatures_use_the_settings():
    from survmeta.models import hierarchical, metareg, random_effects, single_arm

    fits = [random_effects.fit_random_effects, single_arm.fit_proportions,
            single_arm.fit_log_medians, metareg.fit_metareg]
    for fit in fits:
        params = inspect.signature(fit).parameters
        assert params["draws"].default == settings.MCMC_DRAWS, fit
        assert params["tune"].default == settings.MCMC_TUNE, fit
        assert params["chains"].default == settings.MCMC_CHAINS, fit
        assert params["nuts_sampler"].default == settings.NUTS_SAMPLER, fit
        assert params["target_accept"].default == settings.TARGET_ACCEPT, fit
    params = inspect.signature(hierarchical.fit_hierarchical).parameters
    assert params["target_accept"].default == settings.TARGET_ACCEPT_HIERARCHICAL


def test_exact_draws_defaults_are_the_settings():
    from survmeta import pooling, subgroups
    from survmeta.exact.engine import ExactPosterior

    for fn in (pooling.pool_question, pooling.pool):
        assert inspect.signature(fn).parameters["draws"].default == settings.EXACT_DRAWS
    assert inspect.signature(ExactPosterior.sample).parameters["draws"].default == settings.EXACT_DRAWS
    sub = inspect.signature(subgroups.subgroup_analysis).parameters
    assert sub["draws"].default == settings.SUBGROUP_DRAWS
