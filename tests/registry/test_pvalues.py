"""Reading p-values as papers print them (forms from the seed papers and common variants)."""

from __future__ import annotations

import pytest

from survmeta.registry.pvalues import PValueError, parse_p
from survmeta.registry.records import PValue


@pytest.mark.parametrize(
    "printed, value, relation",
    [
        ("0.04", 0.04, "="),          # Heo 2021 abstract, P = 0.04
        ("<0.001", 0.001, "<"),        # Heo 2021, three-site comparison
        ("< 0.0001", 0.0001, "<"),
        ("P = 0.0303", 0.0303, "="),   # Zhou 2023 Table 2, treatment line
        ("p<0.05", 0.05, "<"),
        (">0.05", 0.05, ">"),
        ("≤0.05", 0.05, "<"),
        ("≥ 0.1", 0.1, ">"),
        (".003", 0.003, "="),
        ("1e-5", 1e-5, "="),
        ("1", 1.0, "="),
    ],
)
def test_printed_forms(printed, value, relation):
    p = parse_p(printed)
    assert (p.text, p.relation, p.sided) == (printed, relation, 2)
    assert p.value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("printed", ["NS", "n.s.", "ns", "not significant"])
def test_not_significant(printed):
    assert parse_p(printed) == PValue(text=printed, value=None, relation="NS", sided=2)


def test_numbers_and_sidedness():
    assert parse_p(0.011, sided=1) == PValue(text="0.011", value=0.011, relation="=", sided=1)
    assert parse_p(1) == PValue(text="1", value=1.0, relation="=", sided=2)


@pytest.mark.parametrize(
    "bad, fragment",
    [("0.o4", "cannot read"), ("1.4", "outside (0, 1]"), (0, "outside (0, 1]"), (-0.2, "outside"),
     ("=0", "outside"), (">1", "at most 1"), ("", "cannot read"), (True, "must be a string"),
     ([0.04], "must be a string")],
)
def test_bad_p_values(bad, fragment):
    with pytest.raises(PValueError) as info:
        parse_p(bad)
    assert fragment in str(info.value)
