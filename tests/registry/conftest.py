"""A small valid registry the rule tests break one line at a time.

Numbers come from the seed papers (``shared/seeds/``):

* Heo 2021 (Sci Rep 11:2514), abstract: OS after progression 18.9 months
  [95% CI, 10.6-NR] with oligo-progression (n = 52) vs 8.8 months [95% CI,
  5.7-NR] with multi-progression, P = 0.04; 125 patients, 63 with acquired
  resistance (so 11 with multi-progression, by subtraction).
* Zhou 2023 (Front Immunol 14:1089026), Results and Table 2: median PFS1
  first line 9.66 (6.51, 12.91) vs second line 5.34 (3.25, 8.77) months,
  P = 0.0303; second-line immunotherapy, adjusted HR 2.33 (95% CI 1.21-4.47,
  P = 0.011); PD-L1 >= 50%, adjusted HR 0.45 (0.21-0.97, P = 0.04); bone
  metastasis, adjusted HR 1.505 (1.036-2.186, P = 0.0195).
"""

from __future__ import annotations

import pytest

from survmeta.registry import check_text

BASE = '''\
schema_version = 1

[[question]]
id = "oligo_vs_systemic"
title = "Oligo-progression vs systemic progression"
experimental = "oligo-progression"
reference = "systemic progression"
outcome = "survival after progression"

[[question]]
id = "pfs1_line"
title = "Second-line vs first-line immunotherapy"
experimental = "second line"
reference = "first line"
outcome = "PFS1"

[[study]]
id = "heo2021"
citation = "Heo JY, Yoo SH, Suh KJ, et al. Sci Rep. 2021;11:2514."
year = 2021
design = "retrospective cohort"
population = "advanced NSCLC treated with anti-PD-(L)1"
n = 125

[[study.comparison]]
id = "os_oligo_vs_multi"
question = "oligo_vs_systemic"
endpoint = "OS after progression"
p = "0.04"
quote = "18.9 months [95% CI, 10.6-NR] vs. 8.8 months [95% CI, 5.7-NR], P = 0.04"
location = "Abstract"
experimental = { label = "oligo-progression", n = 52, median = 18.9, ci = [10.6, "NR"] }
reference = { label = "multi-progression", n = 11, median = 8.8, ci = [5.7, "NR"] }
derived = ["reference.n: 63 with acquired resistance minus 52 with oligo-progression"]

[[study.comparison]]
id = "os_oligo_subset"
question = "oligo_vs_systemic"
endpoint = "OS after progression"
subgroup_of = "os_oligo_vs_multi"
status = "not poolable: no numbers printed for the subset"
quote = "a subset"
location = "Results"
experimental = { label = "oligo-progression" }
reference = { label = "multi-progression" }

[[study]]
id = "zhou2023"
citation = "Zhou J, Lu X, Zhu H, et al. Front Immunol. 2023;14:1089026."
year = 2023
design = "retrospective cohort"
population = "advanced lung cancer treated with ICI"

[[study.comparison]]
id = "pfs1_line_second"
question = "pfs1_line"
endpoint = "PFS1"
p = "0.0303"
quote = "First-line 9.66 (6.51, 12.91) 0.0303 ref; Second-line 5.34 (3.25, 8.77) 2.33 (1.21,4.47) 0.011"
location = "Table 2"
hr = { estimate = 2.33, ci = [1.21, 4.47], level = 0.95, adjusted = true, p = "0.011" }

[study.comparison.experimental]
label = "second line"
median = 5.34
ci = [3.25, 8.77]

[study.comparison.reference]
label = "first line"
median = 9.66  # months
ci = [
  6.51,   # lower
  12.91,  # upper
]
'''


def line_of(text: str, needle: str, start: int = 1) -> int:
    """1-based number of the first line at or after ``start`` containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the single occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


@pytest.fixture
def base() -> str:
    return BASE


@pytest.fixture
def problems_of():
    return lambda text: check_text(text, "studies.toml")
