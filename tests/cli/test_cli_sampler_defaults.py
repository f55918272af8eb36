"""The sampler defaults of the CLI are the ones in ``survmeta.settings`` (read from the parser)."""

from __future__ import annotations

import argparse
import inspect

from survmeta import settings
from survmeta.cli import build_parser
from survmeta.cli.metareg import analyse_bayes


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise AssertionError("no subcommands")


def _action(parser: argparse.ArgumentParser, dest: str) -> argparse.Action:
    return next(a for a in parser._actions if a.dest == dest)


def test_metareg_cli_defaults_are_the_settings():
    p = _subparser("metareg")
    assert p.get_default("draws") == settings.MCMC_DRAWS
    assert p.get_default("tune") == settings.MCMC_TUNE
    assert p.get_default("chains") == settings.MCMC_CHAINS
    assert p.get_default("sampler") == settings.NUTS_SAMPLER
    params = inspect.signature(analyse_bayes).parameters
    assert params["draws"].default == settings.MCMC_DRAWS
    assert params["tune"].default == settings.MCMC_TUNE
    assert params["chains"].default == settings.MCMC_CHAINS
    assert params["sampler"].default == settings.NUTS_SAMPLER


def test_pool_cli_leaves_the_defaults_to_the_models_and_names_them():
    """``pool`` passes no sampler option unless given (the model picks its target_accept);
    its help states the settings' values."""
    p = _subparser("pool")
    for dest in ("draws", "chains", "target_accept", "sampler"):
        assert p.get_default(dest) is None
    assert f"default: {settings.MCMC_DRAWS}" in _action(p, "draws").help
    assert f"default: {settings.MCMC_CHAINS}" in _action(p, "chains").help
    accept = _action(p, "target_accept").help
    assert f"{settings.TARGET_ACCEPT} per question" in accept
    assert f"{settings.TARGET_ACCEPT_HIERARCHICAL} hierarchical" in accept
    assert f"default: {settings.NUTS_SAMPLER}" in _action(p, "sampler").help

