"""The metafor export read by R: ``rma`` in metafor 3.8-1 on the exported CSV.

``tests/reference/metafor_export.csv`` is ``survmeta export studies.toml --format
metafor``; ``tests/reference/metafor_export.R`` reads it and, for every question with
two or more rows, runs::

    dat <- read.csv("metafor_export.csv")
    rma(yi, vi, data = dat, subset = question == q)                  # REML
    rma(yi, vi, data = dat, subset = question == q, method = "DL")

(``tests/reference/metafor_export.Rout``, the ``export.*`` lines). survmeta's
:func:`survmeta.exact.rma` on the same rows gives the same fits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from survmeta.exact import rma
from survmeta.export import to_metafor, write_export

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _rref import REFERENCE, rref  # noqa: E402

STUDIES = Path(__file__).resolve().parents[2] / "studies.toml"
CSV = REFERENCE / "metafor_export.csv"
R = rref("metafor_export")
STORED = 1e-6  # full-precision REF values; metafor's REML stops at a 1e-5 change
FIELDS = {"b": "estimate", "se": "se", "ci.lb": "ci_lower", "ci.ub": "ci_upper", "tau2": "tau2",
          "QE": "Q", "I2": "I2"}


#: Reconstructed estimates are solved numerically; the last of their 17 printed digits may differ
#: between numpy / scipy builds (seen: 4.4e-17 in one yi), far below what moves metafor's fit.
ROUNDING = 1e-13


def test_reference_csv_is_the_current_export():
    """If the registry changed, rerun the export and tests/reference/regenerate.sh.

    The same rows, columns and text; numbers equal to :data:`ROUNDING` (relative).
    """
    import io

    import numpy as np

    stored = pd.read_csv(CSV, keep_default_na=False)
    current = pd.read_csv(io.StringIO(write_export(to_metafor(STUDIES))), keep_default_na=False)
    assert list(current.columns) == list(stored.columns)
    assert len(current) == len(stored) == R["rows"]
    for col in stored.columns:
        a, b = stored[col], current[col]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=ROUNDING, atol=0,
                                       err_msg=col)
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), col


QUESTIONS = sorted({key.split(".")[1] for key in R if key.startswith("export.")})


def test_reference_has_the_pooled_questions():
    counts = pd.read_csv(CSV)["question"].value_counts()
    assert QUESTIONS == sorted(counts[counts >= 2].index)


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("method, suffix", [("REML", ""), ("DL", ".DL")])
def test_rma_on_exported_rows_matches_metafor(question, method, suffix):
    dat = pd.read_csv(CSV)
    rows = dat[dat["question"] == question]
    fit = rma(rows["yi"].to_numpy(), rows["sei"].to_numpy(), method=method)
    prefix = f"export.{question}{suffix}"
    assert fit.k == R[f"{prefix}.k"]
    for r_name, ours in FIELDS.items():
        assert getattr(fit, ours) == pytest.approx(R[f"{prefix}.{r_name}"], abs=STORED), r_name
