"""``survmeta pool --mu-prior``: a family outside the prior table fails the same way in both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from survmeta.cli import main

STUDIES = Path(__file__).resolve().parents[2] / "studies.toml"


@pytest.mark.parametrize("engine", ["exact", "mcmc"])
def test_uniform_mu_prior_one_message(engine, capsys):
    code = main(["pool", str(STUDIES), "--engine", engine, "--mu-prior", "uniform(-2, 2)"])
    err = capsys.readouterr().err
    assert code == 2
    assert "'uniform' is not a prior for mu" in err and "valid families: normal, flat" in err
    assert "Traceback" not in err
