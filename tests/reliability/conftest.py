"""A two-study registry the reliability tests change one value at a time.

The numbers are made up for the tests (no paper): HR 0.60 (0.40-0.90) and
0.80 (0.50-1.28), 50 patients per arm. Expected values come from closed forms
stated in each test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BASE = '''\
schema_version = 1

[[question]]
id = "q1"
title = "Drug vs placebo"
experimental = "drug"
reference = "placebo"
outcome = "OS"

[[study]]
id = "s1"
citation = "Smith A, Brown B. J Test. 2020;1:1."
year = 2020
design = "rct"
population = "adults"

[[study.comparison]]
id = "c1"
question = "q1"
endpoint = "OS"
quote = "HR 0.60 (95% CI 0.40-0.90)"
location = "Table 1"
experimental = { label = "drug", n = 50 }
reference = { label = "placebo", n = 50 }
hr = { estimate = 0.60, ci = [0.40, 0.90] }

[[study]]
id = "s2"
citation = "Jones C, White D. J Test. 2021;2:2."
year = 2021
design = "rct"
population = "adults"

[[study.comparison]]
id = "c1"
question = "q1"
endpoint = "OS"
quote = "HR 0.80 (95% CI 0.50-1.28)"
location = "Table 1"
experimental = { label = "drug", n = 50 }
reference = { label = "placebo", n = 50 }
hr = { estimate = 0.80, ci = [0.50, 1.28] }
'''

#: Line of ``hr = {...}`` of study s1 in BASE.
S1_HR_LINE = 25


def edit(old: str, new: str, text: str = BASE, count: int = 1) -> str:
    """``text`` with the first ``count`` occurrences of ``old`` replaced (``old`` must occur)."""
    assert old in text, old
    return text.replace(old, new, count)


@pytest.fixture
def write(tmp_path):
    """Write registry text to ``tmp_path/name`` and return the path."""

    def _write(text: str, name: str = "studies.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def run(capsys):
    """Run the CLI; return (exit code, stdout, stderr)."""
    from survmeta.cli import main

    def _run(*argv: str):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run
