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
    for dest in ("draws", "tune", "chains", "target_accept", "sampler"):
        assert p.get_default(dest) is None
    assert f"default: {settings.MCMC_DRAWS}" in _action(p, "draws").help
    assert f"default: {settings.MCMC_TUNE}" in _action(p, "tune").help
    assert f"default: {settings.MCMC_CHAINS}" in _action(p, "chains").help
    accept = _action(p, "target_accept").help
    assert f"{settings.TARGET_ACCEPT} per question" in accept
    assert f"{settings.TARGET_ACCEPT_HIERARCHICAL} hierarchical" in accept
    assert f"default: {settings.NUTS_SAMPLER}" in _action(p, "sampler").help



def _report_pool_call(monkeypatch, tmp_path, *options):
    """The keyword arguments ``survmeta report`` passes to ``pool`` (which is stopped there)."""
    import pytest

    import survmeta.pooling
    from survmeta.cli import main

    seen: dict = {}

    class Stop(Exception):
        pass

    def fake_pool(source, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(survmeta.pooling, "pool", fake_pool)
    registry = tmp_path / "studies.toml"
    registry.write_text("", encoding="utf-8")
    monkeypatch.setattr("survmeta.cli.report._load_registry", lambda path: None)
    with pytest.raises(Stop):
        main(["report", str(registry), "--out", str(tmp_path / "rep"), *options])
    return seen


def test_report_takes_the_sampler_options_of_pool(monkeypatch, tmp_path):
    """``report`` has pool's sampler options, with the same defaults (none passed), and hands
    them to ``pool`` for the PyMC fits (the hierarchical model, --engine mcmc)."""
    p = _subparser("report")
    for dest in ("draws", "tune", "chains", "target_accept", "sampler"):
        assert p.get_default(dest) is None
        assert _action(p, dest).help == _action(_subparser("pool"), dest).help
    assert _report_pool_call(monkeypatch, tmp_path)["mcmc_options"] == {}
    got = _report_pool_call(monkeypatch, tmp_path, "--draws", "200", "--tune", "150",
                            "--chains", "2", "--target-accept", "0.95", "--sampler", "pymc")
    assert got["mcmc_options"] == {"draws": 200, "tune": 150, "chains": 2,
                                   "target_accept": 0.95, "nuts_sampler": "pymc"}


def test_report_stamp_command_retypes_the_sampler_options():
    from survmeta.cli.report import _argv_tail

    args = _subparser("report").parse_args(["studies.toml", "--out", "rep", "--draws", "200",
                                            "--tune", "0", "--target-accept", "0.95"])
    tail = _argv_tail(args)
    assert tail[-6:] == ["--draws", "200", "--tune", "0", "--target-accept", "0.95"]
    default = _argv_tail(_subparser("report").parse_args(["studies.toml", "--out", "rep"]))
    assert "--draws" not in default and "--tune" not in default


def test_bad_sampler_options_are_located_errors(tmp_path, capsys):
    from survmeta.cli import main

    registry = tmp_path / "studies.toml"
    registry.write_text("", encoding="utf-8")
    for options, message in ((["--draws", "0"], "--draws must be positive, got 0"),
                             (["--tune", "-1"], "--tune must not be negative, got -1"),
                             (["--target-accept", "1"], "--target-accept must be below 1")):
        for command in (["pool", str(registry)],
                        ["report", str(registry), "--out", str(tmp_path / "rep")]):
            assert main([*command, *options]) == 2
            err = capsys.readouterr().err
            assert message in err and "Traceback" not in err
