"""`survmeta pool --tau2-method`: a further tau^2 estimator for the frequentist companion.

Reference: metafor 3.8-1 on dat.bcg (log risk ratios), ``rma(yi, vi, data = dat,
method = "PM")`` in tests/reference/metafor_bcg.R, whose committed output
tests/reference/metafor_bcg.Rout holds the ``REF bcg.PM.*`` lines read here; the
Knapp-Hartung interval is checked against ``survmeta.exact.rma`` called directly (the
wiring, as in test_pool.py).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.exact import rma
from survmeta.pooling import pool

ROUT = Path(__file__).resolve().parents[1] / "reference" / "metafor_bcg.Rout"
ROOT = 2e-4      # PM: metafor's uniroot() stops about 1e-4 from the root, survmeta solves to
#                  1e-13 (the tolerance of tests/exact/test_frequentist_estimators.py)
WIRING = 1e-12   # the same function called directly

# dat.bcg (metafor's README.md): tpos, tneg, cpos, cneg per trial
TPOS = np.array([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27], dtype=float)
TNEG = np.array([119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493,
                 16886], dtype=float)
CPOS = np.array([11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29], dtype=float)
CNEG = np.array([128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338,
                 17825], dtype=float)


def _bcg():
    """escalc(measure = "RR") log risk ratios and their SEs."""
    tn, cn = TPOS + TNEG, CPOS + CNEG
    y = np.log((TPOS / tn) / (CPOS / cn))
    return y, np.sqrt(1 / TPOS - 1 / tn + 1 / CPOS - 1 / cn)


def _metafor(key: str) -> float:
    for line in ROUT.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"REF {key} "):
            return float(line.split()[2])
    raise KeyError(key)


@pytest.fixture
def bcg_csv(tmp_path):
    y, s = _bcg()
    csv = tmp_path / "bcg.csv"
    csv.write_text("study,estimate,se\n" + "".join(
        f"trial{i + 1},{float(a)!r},{float(b)!r}\n" for i, (a, b) in enumerate(zip(y, s))))
    return csv


def test_cli_tau2_method_adds_the_companion(bcg_csv, capsys):
    code = main(["pool", "--effects", str(bcg_csv), "--tau2-method", "pm", "--format", "json"])
    assert code == 0
    (q,) = json.loads(capsys.readouterr().out)["questions"]
    f = q["frequentist"]
    assert set(f) == {"REML", "DL", "PM"}
    pm = f["PM"]
    assert pm["tau2"] == pytest.approx(_metafor("bcg.PM.tau2"), rel=ROOT)
    assert pm["estimate"] == pytest.approx(_metafor("bcg.PM.b"), rel=ROOT)
    assert pm["ci"] == pytest.approx([_metafor("bcg.PM.ci.lb"), _metafor("bcg.PM.ci.ub")],
                                     rel=ROOT)
    assert pm["hr"] == pytest.approx(math.exp(_metafor("bcg.PM.b")), rel=ROOT)
    y, s = _bcg()
    kh = rma(y, s, method="PM", test="knha")
    assert pm["knha_ci"] == pytest.approx([kh.ci_lower, kh.ci_upper], rel=WIRING)


def test_default_companions_unchanged(bcg_csv):
    """Without the option the companions stay REML and DL, and REML or DL asked for adds
    nothing."""
    assert set(pool(bcg_csv)["effects"].frequentist) == {"REML", "DL"}
    assert set(pool(bcg_csv, tau2_method="DL")["effects"].frequentist) == {"REML", "DL"}


def test_cli_tau2_method_in_the_detail_text(bcg_csv, capsys):
    assert main(["pool", "--effects", str(bcg_csv), "--tau2-method", "SJ", "--detail"]) == 0
    out = capsys.readouterr().out
    assert "  SJ: HR " in out and "Knapp-Hartung" in out


def test_unknown_tau2_method_is_a_clear_error(bcg_csv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["pool", "--effects", str(bcg_csv), "--tau2-method", "XX"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "Traceback" not in err
    with pytest.raises(SurvmetaError, match="unknown tau\\^2 method"):
        pool(bcg_csv, tau2_method="FE")
