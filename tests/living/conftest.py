"""Fixtures for the living-review tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from living_blocks import NEW_STUDY

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]

@pytest.fixture
def registry(tmp_path) -> Path:
    """A writable copy of the small test registry."""
    target = tmp_path / "studies.toml"
    shutil.copyfile(DATA / "mini.toml", target)
    return target


@pytest.fixture
def new_study(tmp_path) -> Path:
    path = tmp_path / "new_study.toml"
    path.write_text(NEW_STUDY, encoding="utf-8")
    return path
