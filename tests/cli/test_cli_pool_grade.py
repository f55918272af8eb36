"""``survmeta pool --bias`` and ``--grade`` through :func:`survmeta.cli.main`.

The small-study numbers are metafor 3.8-1's on dat.hackshaw1998
(``tests/reference/metafor_smallstudy.Rout``, the ``hackshaw.*`` lines): ``regtest(r)``
z = 2.1055, p = 0.0352; ``ranktest(r)`` Kendall's tau = 0.1441, p = 0.2157, for
``r <- rma(yi, vi, data = dat.hackshaw1998)``. The GRADE inputs are
:func:`survmeta.grade.grade_inputs` of the pooled results (tested in ``tests/grade``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest

from survmeta.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grade"))
from _rref import rdata, rref  # noqa: E402
from _grade_data import REGISTRY  # noqa: E402

R = rref("metafor_smallstudy")
D = rdata("metafor_smallstudy")
PRINTED = 5e-5


@pytest.fixture
def effects(tmp_path):
    path = tmp_path / "effects.csv"
    rows = [f"s{i + 1},{y!r},{math.sqrt(v)!r},passive\n"
            for i, (y, v) in enumerate(zip(D["hackshaw.yi"], D["hackshaw.vi"]))]
    rows += [f"t{i + 1},{y!r},{math.sqrt(v)!r},few\n"
             for i, (y, v) in enumerate(zip(D["hackshaw.yi"][:5], D["hackshaw.vi"][:5]))]
    path.write_text("study,estimate,se,question\n" + "".join(rows), encoding="utf-8")
    return path


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "studies.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


def test_bias_text_after_the_table(effects, capsys):
    assert main(["pool", str(effects), "--no-hierarchical", "--bias"]) == 0
    out = capsys.readouterr().out
    table, _, tests = out.partition("Small-study effects")
    assert "passive" in table and "Egger" not in table
    assert "passive (k = 37)" in tests and "z = 2.1055, p = 0.0352" in tests
    assert "Kendall's tau = 0.1441, p = 0.2157" in tests
    assert "few (k = 5): not tested; k = 5 < 10" in tests
    assert main(["pool", str(effects), "--no-hierarchical", "--bias", "--force"]) == 0
    forced = capsys.readouterr().out.partition("Small-study effects")[2]
    assert "few (k = 5)\n" in forced and "Caveat: fewer than 10 studies" in forced


def test_bias_json_and_csv(effects, capsys):
    assert main(["pool", str(effects), "--no-hierarchical", "--bias", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_q = {s["question"]: s for s in data["small_study"]}
    assert by_q["passive"]["regtest"]["pval"] == pytest.approx(R["hackshaw.regtest.rma.pval"],
                                                               abs=PRINTED)
    assert not by_q["few"]["ran"] and "grade" not in data
    assert main(["pool", str(effects), "--no-hierarchical", "--bias", "--format", "csv"]) == 0
    rows = {r["question"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert float(rows["passive"]["egger_z"]) == pytest.approx(R["hackshaw.regtest.rma.zval"],
                                                              abs=PRINTED)
    assert rows["few"]["bias_ran"] == "False" and rows["few"]["egger_z"] == ""


def test_grade_text_json_csv(registry, capsys):
    args = ["pool", str(registry), "--no-hierarchical", "--grade", "--threshold", "0.8"]
    assert main(args) == 0
    out = capsys.readouterr().out
    head, _, grade = out.partition("GRADE inputs")
    grade = " ".join(grade.split())  # the lines are wrapped at 100 columns
    row = next(x for x in head.splitlines() if x.startswith("oligo "))
    assert row.rstrip().endswith(" low")
    assert next(x for x in head.splitlines() if x.startswith("other ")).endswith("not rated")
    assert "oligo (k = 2) Risk of bias: not recorded" in grade and "Publication bias: not assessable, k < 10 (k = 2)" in grade
    assert "175 events, below 300" in grade and "threshold HR 0.8" in grade
    assert "Indirectness: oligo-progression <= 3 or <= 5 lesions" in grade
    assert "Certainty (rater): low (risk of bias: retrospective cohorts; imprecision)" in grade
    assert main(args + ["--format", "json"]) == 0
    g = {x["question"]: x for x in json.loads(capsys.readouterr().out)["grade"]}
    assert g["oligo"]["events"] == 175 and g["oligo"]["rating"] == "low"
    assert g["oligo"]["threshold"] == 0.8 and g["other"]["rating"] is None
    assert "300 events" in g["oligo"]["ois_rule"]
    assert main(args + ["--format", "csv"]) == 0
    rows = {r["question"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["oligo"]["grade_rating"] == "low" and rows["oligo"]["grade_events"] == "175"


@pytest.mark.parametrize("extra, message", [
    (["--force"], "--force applies to the small-study tests"),
    (["--threshold", "0.8"], "--threshold applies to the GRADE inputs"),
    (["--grade", "--threshold", "-1"], "--threshold must be a positive hazard ratio"),
])
def test_bad_flags_are_messages_not_tracebacks(registry, capsys, extra, message):
    assert main(["pool", str(registry), "--no-hierarchical", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_names_the_flags(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["pool", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--bias" in out and "--grade" in out and "--threshold" in out
