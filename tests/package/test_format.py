"""survmeta._format: the one number formatter of tables, figures and reports."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from survmeta._format import fmt_hr, fmt_level, fmt_num, fmt_pct, fmt_prob
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
