"""The documented example script runs and writes its CSV and figure."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from conftest import REPO


def test_sensitivity_script_runs(tmp_path):
    registry_before = (REPO / "studies.toml").read_bytes()
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "sensitivity_script.py"),
                           "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"MPLBACKEND": "Agg", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    csv = tmp_path / "out" / "oligo_vs_systemic-leave-one-out.csv"
    df = pd.read_csv(csv)
    assert set(df["analysis"]) == {"base", "leave-one-out"}
    assert (df["study"] == "example2026/os_oligo_vs_systemic").any()
    assert (tmp_path / "out" / "oligo_vs_systemic-leave-one-out.png").stat().st_size > 0
    assert (REPO / "studies.toml").read_bytes() == registry_before
