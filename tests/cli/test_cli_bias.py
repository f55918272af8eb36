"""``survmeta bias`` through :func:`survmeta.cli.main`, on an effects CSV of dat.hackshaw1998.

The numbers are metafor 3.8-1's (``tests/reference/metafor_smallstudy.Rout``, the
``hackshaw.*`` lines): ``regtest(r)`` z = 2.1055, p = 0.0352; ``ranktest(r)``
Kendall's tau = 0.1441, p = 0.2157; ``trimfill(r)`` 7 missing on the left, estimate
0.1745 (CI 0.0795, 0.2694), for ``r <- rma(yi, vi, data = dat.hackshaw1998)``.
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
from _rref import rdata, rref  # noqa: E402

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


def test_json_matches_metafor(effects, capsys):
    assert main(["bias", str(effects), "--format", "json"]) == 0
    out = {q["question"]: q for q in json.loads(capsys.readouterr().out)}
    q = out["passive"]
    assert q["ran"] and q["k"] == 37 and q["caveat"] is None
    assert q["regtest"]["statistic"] == pytest.approx(R["hackshaw.regtest.rma.zval"], abs=PRINTED)
    assert q["regtest"]["pval"] == pytest.approx(R["hackshaw.regtest.rma.pval"], abs=PRINTED)
    assert q["ranktest"]["tau"] == pytest.approx(R["hackshaw.ranktest.tau"], abs=1e-10)
    assert q["trimfill"]["k0"] == 7 and q["trimfill"]["side"] == "left"
    assert q["trimfill"]["fit"]["estimate"] == pytest.approx(R["hackshaw.trimfill.L0.b"], abs=PRINTED)
    few = out["few"]
    assert not few["ran"] and "k = 5 < 10" in few["reason"] and few["regtest"] is None


def test_text_and_force(effects, capsys):
    assert main(["bias", str(effects)]) == 0
    text = capsys.readouterr().out
    assert "passive (k = 37)" in text and "z = 2.1055, p = 0.0352" in text
    assert "Kendall's tau = 0.1441, p = 0.2157 (exact)" in text
    assert "7 missing on the left" in text
    assert "few (k = 5): not tested" in text and "--force" in text
    assert main(["bias", str(effects), "--question", "few", "--force"]) == 0
    text = capsys.readouterr().out
    assert "few (k = 5)\n" in text and "Caveat: fewer than 10 studies" in text
    assert "passive" not in text


def test_csv_one_row_per_question(effects, capsys):
    assert main(["bias", str(effects), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["question"] for r in rows] == ["passive", "few"]
    assert rows[0]["trimfill_k0"] == "7" and rows[0]["trimfill_side"] == "left"
    assert float(rows[0]["trimfill_hr"]) == pytest.approx(math.exp(R["hackshaw.trimfill.L0.b"]),
                                                          rel=1e-4)
    assert rows[1]["ran"] == "False" and rows[1]["egger_z"] == ""


def test_errors_are_messages_not_tracebacks(effects, tmp_path, capsys):
    assert main(["bias", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["bias", str(effects), "--question", "pasive"]) == 2
    assert "did you mean 'passive'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["bias", "--help"])
    assert exc.value.code == 0
    assert "--force" in capsys.readouterr().out
