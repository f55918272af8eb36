"""Forest-plot columns of what the paper printed (medians and n per arm, events, p), chosen and
ordered with ``columns=``; the cells hold the registry's numbers."""

import pytest
from matplotlib.text import Text

from survmeta import plotting
from survmeta.plotting.forest import FOREST_COLUMNS, reported_cell
from survmeta.registry.summary import printed_arms

Q = "oligo_vs_systemic"
COLS = ("arm_n", "events", "medians", "p")


@pytest.fixture(scope="module")
def oligo(real_registry):
    from survmeta.pooling import pool

    return pool(real_registry, question=[Q], hierarchical=False)[Q]


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_text()]


def test_printed_arms_are_the_registry_records(real_registry):
    arms = printed_arms(real_registry)
    for c in real_registry.comparisons(Q):
        v = arms[str(c.key)]
        assert (v["n_experimental"], v["n_reference"]) == (c.experimental.n, c.reference.n)
        assert (v["median_experimental"], v["median_reference"]) == (c.experimental.median,
                                                                     c.reference.median)
        assert v["p"] == (c.p.text if c.p is not None else (c.hr.p.text if c.hr and c.hr.p else None))
    # Heo 2021, as its abstract prints it: 52 vs 11 patients, 18.9 vs 8.8 months, P = 0.04
    heo = arms["heo2021/os_oligo_vs_multi"]
    assert reported_cell("arm_n", heo) == "52 / 11"
    assert reported_cell("medians", heo) == "18.9 / 8.8"
    assert reported_cell("p", heo) == "0.04"
    assert reported_cell("events", heo) == "-"


def test_columns_show_the_printed_values_in_order(real_registry, oligo):
    arms = printed_arms(real_registry)
    fig = plotting.plot_forest(oligo, columns=COLS, reported=arms)
    texts = _texts(fig)
    words = [t.get_text() for t in texts]
    headers = [FOREST_COLUMNS[c] for c in COLS]
    assert all(h in words for h in headers)
    x = {t.get_text(): t.get_position()[0] for t in texts if t.get_text() in headers}
    assert sorted(headers, key=x.get) == headers  # left to right as asked
    assert "Year" not in words and "Method" not in words  # only the columns asked for
    for key in oligo.effects["key"]:
        for col in COLS:
            assert reported_cell(col, arms[key]) in words
    assert "52 / 11" in words and "18.9 / 8.8" in words


def test_without_reported_values_the_cells_are_dashes(oligo):
    fig = plotting.plot_forest(oligo, columns=("medians",))
    words = [t.get_text() for t in _texts(fig)]
    assert words.count("-") >= oligo.k


def test_unknown_column_raises(oligo):
    with pytest.raises(ValueError, match="unknown forest-plot column"):
        plotting.plot_forest(oligo, columns=("year", "hazard"))
