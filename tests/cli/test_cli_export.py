"""``survmeta export`` through :func:`survmeta.cli.main`, on the bundled ``studies.toml``."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from survmeta.cli import main
from survmeta.pooling import effect_table, select_rows

STUDIES = Path(__file__).resolve().parents[2] / "studies.toml"


@pytest.fixture(scope="module")
def pooled():
    effects, questions = effect_table(STUDIES)
    rows = [select_rows(effects, q)[0] for q in questions]
    return pd.concat([r for r in rows if not r.empty], ignore_index=True)


def test_metafor_to_stdout(capsys, pooled):
    assert main(["export", str(STUDIES), "--format", "metafor"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(table) == len(pooled)
    assert table["yi"].tolist() == pooled["log_hr"].astype(float).tolist()
    assert table["sei"].tolist() == pooled["se"].astype(float).tolist()
    assert table["vi"].tolist() == (pooled["se"].astype(float) ** 2).tolist()


def test_revman_to_file(tmp_path, capsys, pooled):
    out = tmp_path / "revman.csv"
    assert main(["export", str(STUDIES), "--format", "revman", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and f"wrote {len(pooled)} rows (revman) to {out}" in captured.err
    table = pd.read_csv(out)
    assert table.columns[:8].tolist() == ["Analysis group", "Analysis number", "Analysis name",
                                          "Subgroup", "Study", "Study year", "GIV Mean", "GIV SE"]
    assert table["GIV Mean"].tolist() == pooled["log_hr"].astype(float).tolist()
    assert table["GIV SE"].tolist() == pooled["se"].astype(float).tolist()
    assert "Heo 2021" in set(table["Study"])


def test_repeated_question(capsys):
    assert main(["export", str(STUDIES), "--format", "metafor", "--question", "oligo_vs_systemic",
                 "--question", "rechallenge_acquired_vs_primary"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["question"].value_counts().to_dict() == {"oligo_vs_systemic": 4,
                                                          "rechallenge_acquired_vs_primary": 1}


@pytest.mark.parametrize("question, message", [
    ("oligo_vs_systemc", "unknown question 'oligo_vs_systemc' (did you mean 'oligo_vs_systemic'?)"),
    ("site_lung_vs_other", "question 'site_lung_vs_other' has no pooled comparison to export"),
])
def test_bad_question_exit_2_and_no_file(tmp_path, capsys, question, message):
    out = tmp_path / "x.csv"
    code = main(["export", str(STUDIES), "--format", "revman", "--question", question,
                 "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.startswith("survmeta export: error:")
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_missing_registry_and_format(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.toml"), "--format", "metafor"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["export", str(STUDIES)])
    assert exc.value.code == 2
    assert "--format" in capsys.readouterr().err


def test_unwritable_output(tmp_path, capsys):
    out = tmp_path / "no" / "such" / "dir.csv"
    assert main(["export", str(STUDIES), "--format", "metafor", "-o", str(out)]) == 2
    assert "survmeta export: error:" in capsys.readouterr().err
