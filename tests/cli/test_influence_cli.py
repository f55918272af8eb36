"""``survmeta influence``: metafor's diagnostics of the pooled rows, through the command."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from survmeta.cli import main
from survmeta.exact import confint_tau2, influence

#: dat.bcg (metafor): tpos, tneg, cpos, cneg; log risk ratios as escalc(measure="RR").
BCG = ((4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
       (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892),
       (29, 7470, 45, 7232), (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338),
       (27, 16886, 29, 17825))


def _bcg():
    y = np.array([math.log((a / (a + b)) / (c / (c + d))) for a, b, c, d in BCG])
    s = np.sqrt([1 / a - 1 / (a + b) + 1 / c - 1 / (c + d) for a, b, c, d in BCG])
    return y, s


@pytest.fixture
def effects_csv(tmp_path):
    y, s = _bcg()
    path = tmp_path / "effects.csv"
    lines = ["study,estimate,se,question"]
    lines += [f"trial{i + 1},{float(yi)!r},{float(si)!r},bcg" for i, (yi, si) in enumerate(zip(y, s))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_equals_the_api(effects_csv, capsys):
    assert main(["influence", str(effects_csv), "--format", "json"]) == 0
    (out,) = json.loads(capsys.readouterr().out)
    y, s = _bcg()
    ci = confint_tau2(y, s)
    assert out["question"] == "bcg" and out["k"] == 13
    assert out["tau2_interval"]["tau2_lower"] == pytest.approx(ci.tau2_lower, rel=1e-12)
    assert out["tau2_interval"]["tau2_upper"] == pytest.approx(ci.tau2_upper, rel=1e-12)
    frame = influence(y, s).to_frame()
    assert [r["study"] for r in out["studies"]] == [f"trial{i}" for i in range(1, 14)]
    for col in ("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight",
                "dfbs"):
        assert [r[col] for r in out["studies"]] == pytest.approx(frame[col].to_list(), rel=1e-12)


def test_text_shows_the_metafor_interval(effects_csv, capsys):
    """metafor 3.8 ``confint(rma(yi, vi, data = dat))``: tau^2 0.3132 [0.1197, 1.1115]."""
    assert main(["influence", str(effects_csv)]) == 0
    out = capsys.readouterr().out
    assert "tau^2 0.3132 [0.1197, 1.1115]" in out
    assert "influential (*): none" in out
    assert "cook.d" in out and "tau2.del" in out


def test_csv_and_common_effect_flags(effects_csv, capsys):
    assert main(["influence", str(effects_csv), "--method", "EE", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0].keys() >= {"question", "study", "rstudent", "cook.d", "inf"}
    assert [r["study"] for r in rows if r["inf"] == "*"] == ["trial4", "trial6", "trial8"]


def test_bad_input_gives_a_message_and_exit_code(effects_csv, tmp_path, capsys):
    assert main(["influence", str(effects_csv), "--question", "bgc"]) == 2
    assert "did you mean 'bcg'" in capsys.readouterr().err
    assert main(["influence", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["influence", str(effects_csv), "--level", "95"]) == 2
    assert "level" in capsys.readouterr().err


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["influence", "--help"])
    assert exc.value.code == 0
    assert "Q-profile" in capsys.readouterr().out
