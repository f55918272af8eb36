"""The documented example script runs and writes its CSV and figure, and only where it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]

SCRIPT = REPO / "examples" / "sensitivity_script.py"


def _run(args, cwd, **env):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={"MPLBACKEND": "Agg", "PATH": "", **env})


def _check_outputs(folder: Path) -> None:
    df = pd.read_csv(folder / "oligo_vs_systemic-leave-one-out.csv")
    assert set(df["analysis"]) == {"base", "leave-one-out"}
    assert (df["study"] == "example2026/os_oligo_vs_systemic").any()
    assert (folder / "oligo_vs_systemic-leave-one-out.png").stat().st_size > 0


def test_sensitivity_script_runs(tmp_path):
    registry_before = (REPO / "studies.toml").read_bytes()
    proc = _run(["--out", str(tmp_path / "out")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"writing to {tmp_path / 'out'}"
    _check_outputs(tmp_path / "out")
    assert (REPO / "studies.toml").read_bytes() == registry_before


def test_sensitivity_script_default_folder_is_a_new_temporary_one(tmp_path):
    """Without --out nothing lands in the working folder: a fresh temporary folder, printed."""
    work, temp = tmp_path / "work", tmp_path / "temp"
    work.mkdir()
    temp.mkdir()
    proc = _run([], work, TMPDIR=str(temp))
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("writing to ")
    folder = Path(first.removeprefix("writing to "))
    assert folder.parent == temp and folder.name.startswith("survmeta-sensitivity-")
    _check_outputs(folder)
    assert list(work.iterdir()) == []
    assert not (REPO / "sensitivity-output").exists()
