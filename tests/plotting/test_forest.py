"""Forest plot: the numbers printed equal the results object's, and the layout reads well."""

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

import synthetic
from survmeta.plotting import plot_forest, save_figure
from survmeta.plotting._style import fmt_interval, fmt_num, hr_limits, hr_ticks


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def text_boxes(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if t.get_text().strip() and t.get_visible():
            out.append((t.get_text(), t.get_window_extent(r)))
    return out


def assert_no_overlap(fig):
    boxes = text_boxes(fig)
    W, H = fig.canvas.get_width_height()
    for s, b in boxes:
        assert b.x0 >= -1 and b.y0 >= -1 and b.x1 <= W + 1 and b.y1 <= H + 1, f"{s!r} is clipped"
    for (s1, b1), (s2, b2) in itertools.combinations(boxes, 2):
        ov_x = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        ov_y = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        assert not (ov_x > 1 and ov_y > 1), f"{s1!r} overlaps {s2!r}"


def test_study_and_pooled_numbers_are_printed(result30):
    fig = plot_forest(result30)
    t = texts(fig)
    e = result30.effects
    for _, row in e.iterrows():
        assert fmt_interval(row["hr"], row["hr_lower"], row["hr_upper"]) in t
        assert f"{row['weight']:.1f}%" in t
        assert row["study"] in t
    hr = result30.stats["hr"]
    assert fmt_interval(hr.median, hr.eti.lower, hr.eti.upper) in t
    pr = result30.stats["predict_hr"].eti.as_tuple()
    assert f"[{fmt_num(pr[0])}, {fmt_num(pr[1])}]" in t
    assert "Random effects, k = 30" in t
    tau = result30.stats["tau"]
    het = [s for s in t if s.startswith("Heterogeneity")]
    assert len(het) == 1
    assert f"\u03c4 = {tau.median:.2f} [{tau.eti.lower:.2f}, {tau.eti.upper:.2f}]" in het[0]
    assert "I\u00b2 =" in het[0]
    # favours labels come from the question
    assert any("Favours local consolidative therapy" in s for s in t)
    assert any("Favours maintenance systemic therapy" in s.replace("\n", " ") for s in t)


def test_example_interval_text_format():
    assert fmt_interval(0.52, 0.31, 0.88) == "0.52 [0.31, 0.88]"
    assert fmt_interval(12.34, 1.5, 101.2) == "12.3 [1.50, 101]"


def test_square_area_is_proportional_to_weight(result30):
    fig = plot_forest(result30)
    ax = fig.axes[0]
    squares = [c for c in ax.collections if c.get_gid() == "study-squares"][0]
    sizes = np.asarray(squares.get_sizes())
    w = result30.effects["weight"].to_numpy()
    offsets = squares.get_offsets()
    order = np.asarray(offsets[:, 1]).astype(int)
    w = w[order]
    big = sizes > (2.5**2) * 1.01  # drawn above the minimum size
    ratio = sizes[big] / w[big]
    assert big.sum() > 10
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)


def test_reported_filled_reconstructed_open(result30):
    fig = plot_forest(result30)
    squares = [c for c in fig.axes[0].collections if c.get_gid() == "study-squares"][0]
    face = squares.get_facecolors()
    rows = np.asarray(squares.get_offsets()[:, 1]).astype(int)
    approx = result30.effects["approximate"].to_numpy()[rows]
    white = np.all(np.isclose(face[:, :3], 1.0), axis=1)
    assert (white == approx).all()
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "reconstructed (approximate method)" in legend_texts
    assert "reported HR or log-rank O\u2212E" in legend_texts


def test_shrunken_estimates_drawn_and_optional(result30):
    fig = plot_forest(result30)
    assert [c for c in fig.axes[0].collections if c.get_gid() == "shrunken"]
    fig2 = plot_forest(result30, shrunken=False)
    assert not [c for c in fig2.axes[0].collections if c.get_gid() == "shrunken"]


def test_pooled_diamond_spans_credible_interval(result30):
    fig = plot_forest(result30)
    diamond = [p for p in fig.axes[0].patches if p.get_gid() == "pooled-diamond"][0]
    xy = diamond.get_xy()
    hr = result30.stats["hr"]
    assert xy[:, 0].min() == pytest.approx(hr.eti.lower)
    assert xy[:, 0].max() == pytest.approx(hr.eti.upper)
    assert xy[1, 0] == pytest.approx(hr.median)


def test_arrows_where_ci_runs_off_axis(result30):
    fig = plot_forest(result30, xlim=(0.5, 1.0))
    gids = [ln.get_gid() for ln in fig.axes[0].lines]
    assert "arrow-left" in gids and "arrow-right" in gids


def test_axis_ticks_are_readable(result30):
    fig = plot_forest(result30)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in labels
    assert set(labels) <= {"0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10", "20",
                           "50", "100"}
    assert ax.get_xscale() == "log"


@pytest.mark.parametrize("fixture", ["result1", "result30", "result60"])
def test_layout_has_no_overlapping_or_clipped_text(fixture, request):
    fig = plot_forest(request.getfixturevalue(fixture))
    assert_no_overlap(fig)


def test_height_grows_with_rows(result1, result30, result60):
    h = [plot_forest(r).get_size_inches()[1] for r in (result1, result30, result60)]
    assert h[0] < h[1] < h[2]
    assert h[0] < 5


def test_long_labels_are_cut_not_overlapping(result30):
    labels = {k: f"{k} " + "A very long citation short form, et al., Journal of Long Names" * 2
              for k in result30.effects["study"]}
    fig = plot_forest(result30, labels=labels, max_label_width=2.5)
    t = texts(fig)
    assert any(s.startswith("study01 A very long") and s.endswith("...") for s in t)
    assert_no_overlap(fig)


def test_single_study_and_missing_frequentist(result1):
    assert result1.frequentist is None
    fig = plot_forest(result1)
    t = texts(fig)
    het = [s for s in t if s.startswith("Heterogeneity")][0]
    assert "I\u00b2" not in het
    assert "Random effects, k = 1" in t


def test_hr_limits_and_ticks():
    assert hr_limits([0.52, 0.31, 0.88]) == (0.2, 1.0) or hr_limits([0.52, 0.31, 0.88])[0] <= 0.31
    lo, hi = hr_limits([0.3, 3.0])
    assert lo <= 0.3 and hi >= 3.0
    assert hr_ticks(0.1, 10) == [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
    assert hr_ticks(0.001, 1000) == [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


@pytest.mark.parametrize("ext,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_figure_by_extension(tmp_path, result1, ext, magic):
    path = save_figure(plot_forest(result1), tmp_path / f"forest{ext}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"forest{ext}"]  # no temp file left


def test_save_figure_rejects_unknown_extension(tmp_path, result1):
    with pytest.raises(ValueError, match="png"):
        save_figure(plot_forest(result1), tmp_path / "forest.jpg")


def test_plot_method_of_result_delegates(result1):
    fig = result1.plot_forest()
    assert "Random effects, k = 1" in texts(fig)


def test_real_oligo_vs_systemic(real_poolset):
    r = real_poolset["oligo_vs_systemic"]
    fig = plot_forest(r)
    t = texts(fig)
    hr = r.stats["hr"]
    assert fmt_interval(hr.median, hr.eti.lower, hr.eti.upper) in t
    for _, row in r.effects.iterrows():
        assert fmt_interval(row["hr"], row["hr_lower"], row["hr_upper"]) in t
        assert row["study"] in t
    i2 = r.frequentist["REML"]["I2"]
    assert any(f"I\u00b2 = {i2:.0f}%" in s for s in t)
    assert_no_overlap(fig)


def test_every_real_question_draws(real_poolset):
    for r in real_poolset.values():
        fig = plot_forest(r)
        assert_no_overlap(fig)


def test_effects_without_optional_columns():
    e = synthetic.effects_table(3).drop(columns=["year", "n", "endpoint", "approximate"])
    r = synthetic.pool_synthetic(e, dict(synthetic.QUESTION))
    fig = plot_forest(r)
    t = texts(fig)
    assert "Year" not in t and "Endpoint" not in t
    assert isinstance(r.effects, pd.DataFrame)
