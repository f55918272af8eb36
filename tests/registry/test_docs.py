"""The examples in ``docs/registry.md`` are valid as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from survmeta.registry import check, check_text
from survmeta.registry.pvalues import parse_p

DOC = Path(__file__).resolve().parents[2] / "docs" / "registry.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_toml_example_is_a_clean_registry():
    (example,) = _blocks("toml")
    assert check_text(example, "registry.md") == []


def test_csv_example_loads(tmp_path):
    (example,) = _blocks("csv")
    path = tmp_path / "effects.csv"
    path.write_text(example, encoding="utf-8")
    assert check(path) == []


@pytest.mark.parametrize("printed", ['"0.04"', '"<0.001"', '"< 0.0001"', '">0.05"', '"≤0.05"', '"NS"'])
def test_documented_p_forms_are_accepted(printed):
    assert f"`{printed}`" in DOC.read_text(encoding="utf-8")
    parse_p(printed.strip('"'))
