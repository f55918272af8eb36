"""docs/validation.md, *Kaplan-Meier reconstruction*: the quick block is the script's output."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("validate_km", ROOT / "validation" / "validate_km.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("validate_km", module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules["validate_km"])
    module = sys.modules["validate_km"]
    return module


def _block(name: str) -> str:
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    return re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", doc, flags=re.S).group(1)


def test_quick_block_is_the_script_output():
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        _script().main(["--seed", "7", "--trials", "6"])
    assert out.getvalue() == _block("km-validation-quick")


def test_the_main_table_uses_the_shipped_extra_sd():
    from survmeta.reconstruction.km_effect import EXTRA_SD

    rows = [line for line in _block("km-validation").splitlines() if line.startswith("| with")]
    assert [float(r.split("|")[5]) for r in rows] == [EXTRA_SD[c] for c in _script().CASES]
