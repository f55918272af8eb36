"""Posterior, tau, funnel, sensitivity and MCMC figures: content, not just existence."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import synthetic
from survmeta.plotting import (
    plot_cumulative,
    plot_funnel,
    plot_leave1out,
    plot_posterior,
    plot_rank,
    plot_tau,
    plot_trace,
    save_figure,
)
from survmeta.plotting._style import fmt_interval, fmt_p_statement


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def test_posterior_marks_probability_and_interval(result30):
    fig = plot_posterior(result30)
    assert isinstance(fig, Figure)
    t = "\n".join(texts(fig))
    assert fmt_p_statement(result30.p_hr_below_1) in t
    hr = result30.stats["hr"]
    assert fmt_interval(hr.median, hr.eti.lower, hr.eti.upper) in t
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    # the shaded area lies entirely at HR <= 1
    shaded = [c for c in ax.collections if len(c.get_paths())]
    assert shaded
    xs = np.concatenate([p.vertices[:, 0] for p in shaded[0].get_paths()])
    assert xs.max() <= 1.0 + 1e-9


def test_posterior_without_draws_uses_stats(result1):
    r = synthetic.synthetic_result(3)
    r.posterior = None
    fig = plot_posterior(r)
    assert any("normal approximation" in s for s in texts(fig))


def test_tau_prior_and_posterior(result30):
    fig = plot_tau(result30)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "posterior" in labels
    desc = result30.priors["tau"].describe()
    assert f"prior: {desc}" in labels
    tau = result30.stats["tau"]
    assert any(f"\u03c4 = {tau.median:.2f} [{tau.eti.lower:.2f}, {tau.eti.upper:.2f}]" in s
               for s in texts(fig))


def test_tau_with_a_prior_in_words_still_draws():
    r = synthetic.synthetic_result(5)
    r.priors = {"mu": r.priors["mu"]}
    r.prior_notes = {"tau": "shared across questions: log tau_pop ~ Normal(-1.75, 0.75)"}
    fig = plot_tau(r)
    assert any("could not be drawn" in s for s in texts(fig))


def test_tau_without_a_prior_still_draws():
    r = synthetic.synthetic_result(5)
    r.priors = {"mu": r.priors["mu"]}
    fig = plot_tau(r)
    assert any("no prior recorded" in s for s in texts(fig))


def test_funnel_points_line_and_limits(result30):
    fig = plot_funnel(result30)
    ax = fig.axes[0]
    pts = np.concatenate([c.get_offsets() for c in ax.collections if c.get_gid() == "funnel-points"])
    assert len(pts) == result30.k
    np.testing.assert_allclose(np.sort(pts[:, 1]), np.sort(result30.effects["se"]))
    ylo, yhi = ax.get_ylim()
    assert ylo > yhi == 0  # SE axis inverted, 0 at the top
    vlines = [ln for ln in ax.lines if np.allclose(ln.get_xdata(), ln.get_xdata()[0])
              and ln.get_linestyle() == "-"]
    assert any(math.isclose(ln.get_xdata()[0], math.exp(result30.stats["mu"].median))
               for ln in vlines)


def _variants():
    return pd.DataFrame({
        "variant": ["without study01", "without study02", "without study03"],
        "changed": ["study01/os", "study02/os", "study03/os"],
        "hr": [0.70, 0.74, 0.68],
        "hr_lower": [0.61, 0.65, 0.55],
        "hr_upper": [0.80, 0.84, 0.83],
        "tau": [0.05, 0.07, 0.06],
        "p_hr_below_1": [0.9995, 0.998, 0.990],
    })


def test_leave1out_rows(result30):
    df = _variants()
    fig = plot_leave1out(df, reference=result30)
    t = texts(fig)
    for _, row in df.iterrows():
        assert row["variant"] in t
        assert fmt_interval(row["hr"], row["hr_lower"], row["hr_upper"]) in t
    assert ">0.999" in t and "0.998" in t
    assert any(ln.get_gid() == "reference-line" for ln in fig.axes[0].lines)


def test_cumulative_rows_with_label_column():
    df = _variants().rename(columns={"variant": "label"})
    fig = plot_cumulative(df, question=synthetic.QUESTION)
    t = texts(fig)
    assert "Cumulative meta-analysis by year" in t
    assert all(lab in t for lab in df["label"])


def test_variants_need_columns():
    with pytest.raises(ValueError, match="hr_upper"):
        plot_leave1out(pd.DataFrame({"variant": ["a"], "hr": [1.0], "hr_lower": [0.5]}))


def test_trace_and_rank_for_mcmc(result_mcmc, tmp_path):
    fig = plot_trace(result_mcmc)
    assert isinstance(fig, Figure)
    assert len(fig.axes) >= 4  # density and trace for mu and tau
    save_figure(fig, tmp_path / "trace.png")
    fig2 = plot_rank(result_mcmc)
    assert len(fig2.axes) >= 2
    import matplotlib.pyplot as plt

    plt.close(fig)
    plt.close(fig2)


def test_trace_without_posterior_raises(result_mcmc):
    r = synthetic.synthetic_result(3)
    r.posterior = None
    with pytest.raises(ValueError, match="no posterior"):
        plot_trace(r)


def test_real_figures(real_poolset, tmp_path):
    r = real_poolset["oligo_vs_systemic"]
    for f in (plot_posterior, plot_tau, plot_funnel):
        save_figure(f(r), tmp_path / f"{f.__name__}.png")
    assert fmt_p_statement(r.p_hr_below_1) in "\n".join(texts(plot_posterior(r)))
