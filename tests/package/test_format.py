"""survmeta._format: the one number formatter of tables, figures and reports."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from survmeta._format import fmt_hr, fmt_level, fmt_num, fmt_pct, fmt_prob, fmt_pval
from survmeta.plotting._style import fmt_prob as style_fmt_prob


@pytest.mark.parametrize("p, text", [
    (0.9734, "0.973"), (0.5, "0.500"), (0.999, "0.999"), (0.9995, ">0.999"), (0.9996, ">0.999"),
    (1.0, ">0.999"), (0.001, "0.001"), (0.0004, "<0.001"), (0.0, "<0.001"),
    (None, "NA"), (math.nan, "NA"),
])
def test_fmt_prob(p, text):
    assert fmt_prob(p) == text
    assert style_fmt_prob(p) == text


def test_fmt_prob_never_rounds_to_certainty():
    for i in range(0, 100001):
        shown = fmt_prob(i / 100000)
        assert shown not in ("1.000", "0.000")


REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def _metafor_pvals() -> list[tuple[str, float, str]]:
    text = (REFERENCE / "metafor_pval.Rout").read_text(encoding="utf-8")
    return [(key, float(value), shown) for line in text.splitlines() if line.startswith("PVAL ")
            for _, key, value, shown in [line.split()]]


def test_fmt_pval_matches_metafor():
    """fmt_pval against metafor 3.8.1's ``.pval(p, digits = 4, add0 = TRUE)`` (exact string).

    Source: tests/reference/metafor_pval.R, whose output metafor_pval.Rout is committed; in it::

        pv <- function(key, p) {
          cat("PVAL", key, sprintf("%.17g", p), metafor:::.pval(p, digits = 4, add0 = TRUE), "\n")
        }
        dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
        r <- rma(yi, vi, data = dat); print(r)
        pv("rma.QEp", r$QEp); pv("rma.pval", r$pval)
        ...
        t <- regtest(r); print(t); pv("regtest.rma", t$pval)
        t <- ranktest(r); print(t); pv("ranktest", t$pval)
        for (p in c(1, 0.99996, 0.99994, 0.00015, 0.0001, 0.000099996, 0.00005, 1e-300, 0)) {
          pv(paste0("value.", sprintf("%g", p)), p)
        }

    The p-values of the fits (REML random effects, meta-regressions on ablat, year and
    factor(alloc) with Knapp-Hartung, regtest, ranktest) and the values at the cutoff 1e-4
    and at 1. Tolerance: none, the strings must be equal.
    """
    rows = _metafor_pvals()
    assert len(rows) == 22
    for key, p, shown in rows:
        assert fmt_pval(p) == shown, key
    # metafor's own printout of the same fits: "p = 0.4218", "p-val < .0001" (no leading 0)
    text = (REFERENCE / "metafor_pval.Rout").read_text(encoding="utf-8")
    by_key = {key: p for key, p, _ in rows}
    assert f"z = -0.8033, p = {fmt_pval(by_key['regtest.rma'])}" in text
    assert f"Kendall's tau = 0.0256, p = {fmt_pval(by_key['ranktest'])}" in text
    assert "p-val < .0001" in text and fmt_pval(by_key["rma.QEp"]) == "<0.0001"
    assert f"QM(df = 1) = 2.6858, p-val = {fmt_pval(by_key['year.QMp'])}" in text


@pytest.mark.parametrize("p, text", [
    (None, "NA"), (math.nan, "NA"), (0.0498, "0.0498"), (1.2e-05, "<0.0001"),
])
def test_fmt_pval_missing_and_tiny(p, text):
    assert fmt_pval(p) == text
    assert fmt_pval(p, equal=True) == ("= NA" if text == "NA" else
                                       ("< 0.0001" if text.startswith("<") else "= " + text))


def test_fmt_pval_never_zero_nor_scientific():
    for i in range(0, 20001):
        shown = fmt_pval(i / 20000 * 10.0 ** -(i % 7))
        assert shown != "0.0000" and "e" not in shown and len(shown) in (6, 7), shown
    assert fmt_pval(0.0498, digits=3) == "0.050" and fmt_pval(0.0004, digits=3) == "<0.001"


def test_fmt_hr_and_level():
    assert fmt_hr(0.4812) == "0.48" and fmt_hr(1.005, 3) == "1.005"
    assert fmt_hr(None) == "NA" and fmt_hr(math.inf) == "inf"
    assert [fmt_level(x) for x in (0.95, 0.9, 0.975, 0.5)] == ["95%", "90%", "97.5%", "50%"]


def test_fmt_num_and_pct():
    assert fmt_num(3.0961, 1) == "3.1" and fmt_num(0.4481) == "0.45" and fmt_num(None) == "NA"
    assert fmt_pct(9.7112) == "9.7%" and fmt_pct(26.81, sign=False) == "26.8"
    assert fmt_pct(math.nan) == "NA" and fmt_pct(100.0, 0) == "100%"


def test_cli_pool_table_never_prints_certainty(capsys, tmp_path):
    """The bundled registry and an effects table whose P(HR < 1) rounds to 1.000."""
    from survmeta.cli import main

    studies = Path(__file__).resolve().parents[2] / "studies.toml"
    strong = tmp_path / "strong.csv"
    strong.write_text("study,estimate,se\na,-1.6,0.15\nb,-1.4,0.2\nc,-1.5,0.2\n")
    for args in ([str(studies), "--no-hierarchical"], ["--effects", str(strong)],
                 ["--effects", str(strong), "--detail"]):
        assert main(["pool", *args]) == 0
        out = capsys.readouterr().out
        # the table's last column, and every "P(HR<1)=" / "P(HR < 1) =" in the details
        assert not re.search(r"\s(1\.000|0\.000)\s*$", out, flags=re.M), out
        assert not re.search(r"P\(HR ?< ?1\)\D{0,3}(1\.000|0\.000)", out), out
    assert ">0.999" in out
