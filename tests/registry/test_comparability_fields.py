"""The comparability fields ``oligo_max_lesions``, ``oligo_max_sites``, ``time_origin`` and
``line`` (docs/registry.md, *Comparability fields*): read into records, every slip located,
exposed as effect-table columns that ``sensitivity --subset`` can select on."""

from __future__ import annotations

import pytest

from survmeta.registry import check_text, load_registry_text

from .conftest import BASE, edit, line_of

ANCHOR = 'derived = ["reference.n: 63 with acquired resistance minus 52 with oligo-progression"]'
FIELDS = 'oligo_max_sites = 2\ntime_origin = "progression"\nline = 1'


def test_fields_are_read():
    reg = load_registry_text(edit(BASE, ANCHOR, ANCHOR + "\n" + FIELDS), "r.toml")
    c = reg.comparison("heo2021/os_oligo_vs_multi")
    assert (c.oligo_max_lesions, c.oligo_max_sites, c.time_origin, c.therapy_line) == (None, 2, "progression", 1)
    other = reg.comparison("zhou2023/pfs1_line_second")
    assert (other.oligo_max_sites, other.time_origin, other.therapy_line) == (None, None, None)


@pytest.mark.parametrize("new, field, message", [
    ('time_origin = "progresion"', "time_origin", 'did you mean "progression"'),
    ('time_origin = "randomization"', "time_origin", 'did you mean "randomisation"'),
    ('time_origin = "start of ICI"', "time_origin", "is not one of"),
    ("oligo_max_lesions = 0", "oligo_max_lesions", "must be positive"),
    ("oligo_max_sites = 2.5", "oligo_max_sites", "must be an integer"),
    ('line = "2"', "line", "must be an integer"),
    ("oligo_max_lesion = 3", "oligo_max_lesion", 'did you mean "oligo_max_lesions"'),
])
def test_slips_are_located(new, field, message):
    text = edit(BASE, ANCHOR, ANCHOR + "\n" + new)
    problems = check_text(text, "r.toml")
    assert len(problems) == 1, [p.format() for p in problems]
    (p,) = problems
    assert p.severity == "error"
    assert (p.study, p.comparison, p.field) == ("heo2021", "os_oligo_vs_multi", field)
    assert p.line == line_of(text, new.split(" =")[0] + " =", line_of(text, ANCHOR))
    assert message in p.message


def test_effect_table_columns_and_subsets():
    from survmeta.living.sweep import _subset_mask
    from survmeta.reconstruction import reconstruct

    reg = load_registry_text(edit(BASE, ANCHOR, ANCHOR + "\n" + FIELDS), "r.toml")
    df = reconstruct(reg).set_index("key")
    row = df.loc["heo2021/os_oligo_vs_multi"]
    assert (row["oligo_max_sites"], row["time_origin"], row["line"]) == (2, "progression", 1)
    assert df["oligo_max_lesions"].isna().all()
    rows = df.reset_index()
    # --subset passes strings: "line=1" must match the integer column, "time_origin=progression" the text one.
    assert rows[_subset_mask({"line": "1"}, rows)]["key"].tolist() == ["heo2021/os_oligo_vs_multi"]
    assert rows[_subset_mask({"time_origin": "progression"}, rows)]["key"].tolist() == [
        "heo2021/os_oligo_vs_multi"]
    assert rows[_subset_mask({"oligo_max_sites": ["2", "3"]}, rows)]["key"].tolist() == [
        "heo2021/os_oligo_vs_multi"]
