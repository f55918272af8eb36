"""The Python examples of docs/coming-from-r.md run as written and give the
numbers the page quotes (metafor 3.8-1 on dat.bcg, tests/reference/metafor_bcg.Rout and
metafor_influence.Rout)."""

import re
from pathlib import Path

import pytest

from _rref import rref

DOC = Path(__file__).resolve().parents[2] / "docs" / "coming-from-r.md"


@pytest.fixture(scope="module")
def ns():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 5
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


def test_influence_examples_give_metafors_numbers(ns):
    R = rref("metafor_influence")
    assert ns["ci"].tau2_lower == pytest.approx(R["ci.REML.tight.tau2.lb"], rel=1e-9)
    assert ns["ci"].tau2_upper == pytest.approx(R["ci.REML.tight.tau2.ub"], rel=1e-9)
    assert list(ns["inf"]["cook.d"]) == pytest.approx([R[f"inf.REML.{i}.cook.d"] for i in range(1, 14)],
                                                      rel=1e-5)
    assert [int(lab) for lab, f in zip(ns["ee"].labels, ns["ee"].influential) if f] == [4, 6, 8]
    assert list(ns["b"].x) == pytest.approx([R[f"baujat.EE.{i}.x"] for i in range(1, 14)], rel=1e-10)
    text = DOC.read_text(encoding="utf-8")
    for printed in ("0.3132 [0.1197, 1.1115]", "0.11971836"):
        assert printed in text


def test_bayesmeta_examples_use_the_named_priors(ns):
    assert ns["post"].tau_prior.spec == "flat" and ns["post"].mu_prior.spec == "flat"
    assert ns["hn"].tau_prior.spec == "halfnormal(0.5)"
    assert ns["hc"].mu_prior.spec == "normal(0, 4)"
    assert ns["tu"].tau_prior.family == "lognormal_tau2"
    lo, hi = ns["tau_shortest"]
    assert lo <= ns["tau_central"][0] and hi - lo <= ns["tau_central"][1] - ns["tau_central"][0]


def test_metareg_example_gives_metafors_numbers(ns):
    R = rref("metafor_metareg")
    assert ns["mr"].tau2 == pytest.approx(R["mr.ablat.REML.tau2"], rel=1e-6)
    assert ns["mr"].coef("ablat").estimate == pytest.approx(R["mr.ablat.REML.b1.b"], rel=1e-6)
    assert ns["bmr_fit"].names == ("intrcpt", "ablat")
    text = DOC.read_text(encoding="utf-8")
    for printed in ("0.0763", "-0.0291", "0.0072"):
        assert printed in text
    assert f"{R['mr.ablat.REML.tau2']:.4f}" == "0.0763"
    assert f"{R['mr.ablat.REML.b1.b']:.4f}" == "-0.0291"
    assert f"{R['mr.ablat.REML.b1.se']:.4f}" == "0.0072"
