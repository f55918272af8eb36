"""Fixtures of the GRADE-input tests."""

from __future__ import annotations

import pytest

from _grade_data import REGISTRY


@pytest.fixture
def registry_path(tmp_path):
    path = tmp_path / "studies.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path
