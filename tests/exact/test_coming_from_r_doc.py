"""The Python examples of docs/coming-from-r.md run as written and give the
numbers the page quotes (metafor 3.8-1 on dat.bcg, tests/reference/metafor_bcg.Rout)."""

import re
from pathlib import Path

import pytest

from _rref import rref

DOC = Path(__file__).resolve().parents[2] / "docs" / "coming-from-r.md"


@pytest.fixture(scope="module")
def ns():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 3
    namespace: dict = {}
    exec(compile("\n".join(blocks), str(DOC), "exec"), namespace)
    return namespace


def test_metafor_examples_give_metafors_numbers(ns):
    R = rref("metafor_bcg")
    assert ns["res"].tau2 == pytest.approx(R["bcg.REML.tau2"], rel=1e-6)
    assert ns["res"].estimate == pytest.approx(R["bcg.REML.b"], rel=1e-6)
    assert ns["kh"].se == pytest.approx(R["bcg.REML.knha.se"], rel=1e-6)
    assert ns["he"].tau2_se == pytest.approx(R["bcg.HE.se.tau2"], rel=1e-10)
    assert len(ns["loo"]) == len(ns["cum"]) == 13
    text = DOC.read_text(encoding="utf-8")
    for printed in ("0.3132", "0.1664", "-0.7145", "0.1808", "0.3286", "0.2071"):
        assert printed in text


def test_bayesmeta_examples_use_the_named_priors(ns):
    assert ns["post"].tau_prior.spec == "flat" and ns["post"].mu_prior.spec == "flat"
    assert ns["hn"].tau_prior.spec == "halfnormal(0.5)"
    assert ns["hc"].mu_prior.spec == "normal(0, 4)"
    assert ns["tu"].tau_prior.family == "lognormal_tau2"
    lo, hi = ns["tau_shortest"]
    assert lo <= ns["tau_central"][0] and hi - lo <= ns["tau_central"][1] - ns["tau_central"][0]
