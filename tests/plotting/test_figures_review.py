"""Review of the figures: common-effect diamond, HRs as printed, exact densities, trace/rank of
the hierarchical model."""

import numpy as np
import pytest
from matplotlib.patches import Polygon

import synthetic
from survmeta.plotting import plot_forest, plot_posterior, plot_rank, plot_tau, plot_trace
from survmeta.plotting._style import fmt_interval, kde_line
from survmeta.plotting.forest import printed_hr
from test_forest import assert_no_overlap, texts

CE_LABEL = "Common effect (tau = 0)"


def _line(fig, gid):
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == gid]
    assert len(lines) == 1, gid
    return lines[0]


def _diamond(fig, gid):
    polys = [p for p in fig.axes[0].patches if isinstance(p, Polygon) and p.get_gid() == gid]
    assert len(polys) == 1, gid
    return polys[0]


# -- 3. common-effect row under the random-effects diamond -----------------------------------
@pytest.mark.parametrize("fixture", ["result1", "result30"])
def test_common_effect_row_and_open_diamond(fixture, request):
    r = request.getfixturevalue(fixture)
    fig = plot_forest(r)
    t = texts(fig)
    ce = r.common_effect.hr
    assert CE_LABEL in t
    assert fmt_interval(ce.median, ce.eti.lower, ce.eti.upper) in t
    re_d = _diamond(fig, "pooled-diamond")
    ce_d = _diamond(fig, "common-effect-diamond")
    assert ce_d.get_facecolor()[:3] == (1.0, 1.0, 1.0)  # open
    assert re_d.get_facecolor()[:3] != (1.0, 1.0, 1.0)  # filled
    xy = ce_d.get_xy()
    assert xy[:, 0].min() == pytest.approx(ce.eti.lower)
    assert xy[:, 0].max() == pytest.approx(ce.eti.upper)
    assert xy[:, 1].mean() > re_d.get_xy()[:, 1].mean()  # drawn under it (y grows downwards)
    assert_no_overlap(fig)


def test_common_effect_optional(result1):
    fig = plot_forest(result1, common_effect=False)
    assert CE_LABEL not in texts(fig)
    r = synthetic.synthetic_result(1, seed=5)
    r.common_effect = None
    assert CE_LABEL not in texts(plot_forest(r))


def test_every_real_question_has_both_diamonds(real_poolset):
    for r in real_poolset.values():
        fig = plot_forest(r)
        _diamond(fig, "pooled-diamond")
        _diamond(fig, "common-effect-diamond")
        ce = r.common_effect.hr
        assert fmt_interval(ce.median, ce.eti.lower, ce.eti.upper) in texts(fig)


def test_single_real_study_shows_its_own_interval(real_poolset):
    r = real_poolset["pfs1_treatment_line_second_vs_first"]
    t = texts(plot_forest(r))
    hr = r.stats["hr"]
    assert fmt_interval(hr.median, hr.eti.lower, hr.eti.upper) == "2.30 [0.68, 7.46]"
    assert "2.30 [0.68, 7.46]" in t
    ce = r.common_effect.hr
    assert fmt_interval(ce.median, ce.eti.lower, ce.eti.upper) in t
    assert ce.eti.lower == pytest.approx(1.21, abs=0.02) and ce.eti.upper == pytest.approx(4.45, abs=0.05)


# -- 5. HR and CI as the paper printed them --------------------------------------------------
def test_reported_hr_printed_as_in_the_paper(real_poolset, real_registry):
    from survmeta.report.content import printed_hrs

    r = real_poolset["pfs1_treatment_line_second_vs_first"]
    printed = printed_hrs(real_registry)
    t = texts(plot_forest(r, printed=printed))
    assert "2.33 [1.21, 4.47]" in t
    assert not any("4.48" in s for s in t)
    assert "2.33 [1.21, 4.48]" in texts(plot_forest(r))  # nothing printed known: recomputed
    # the marker is still placed from log_hr
    fig = plot_forest(r, printed=printed)
    sq = [c for c in fig.axes[0].collections if c.get_gid() == "study-squares"][0]
    assert sq.get_offsets()[0][0] == pytest.approx(np.exp(r.effects["log_hr"].iloc[0]))


def test_printed_hr_from_row_inputs_and_only_for_hr_ci():
    row = {"method": "hr_ci", "key": "s/c", "inputs": {"hr": 0.7, "ci": [0.5, 0.98], "level": 0.95}}
    assert printed_hr(row) == (0.7, 0.5, 0.98)
    assert printed_hr(dict(row, inputs={"hr": 0.7, "ci": [0.5, 0.98], "level": 0.9})) is None
    assert printed_hr(dict(row, inputs={"hr": 0.7, "ci": [0.5, "NR"], "level": 0.95})) is None
    assert printed_hr(dict(row, method="hr_p"), {"s/c": (0.7, 0.5, 0.98)}) is None
    assert printed_hr(row, {"s/c": (0.71, 0.52, 0.97)}) == (0.71, 0.52, 0.97)


# -- 4. exact densities for the exact engine, KDE for MCMC -----------------------------------
def test_exact_engine_draws_exact_densities(real_poolset):
    r = real_poolset["oligo_vs_systemic"]
    assert r.exact is not None
    fig = plot_posterior(r)
    line = _line(fig, "posterior-mu")
    x = np.log(line.get_xdata())
    np.testing.assert_allclose(line.get_ydata(), r.exact.pdf("mu", x), rtol=1e-12)
    pred = _line(fig, "posterior-predict")
    np.testing.assert_allclose(pred.get_ydata(), r.exact.pdf("predict", x), rtol=1e-12)
    fig = plot_tau(r)
    tau = _line(fig, "posterior-tau")
    np.testing.assert_allclose(tau.get_ydata(), r.exact.pdf("tau", tau.get_xdata()), rtol=1e-12)
    assert tau.get_label() == "posterior (exact)"
    # no kernel bias at tau = 0: the density there is the exact one, not half of it
    assert tau.get_ydata()[0] == pytest.approx(float(r.exact.pdf("tau", 0.0)))


def test_mcmc_result_falls_back_to_kde(result_mcmc):
    assert result_mcmc.exact is None
    fig = plot_tau(result_mcmc)
    tau = _line(fig, "posterior-tau")
    draws = result_mcmc.posterior["posterior"]["tau"].values.ravel()
    np.testing.assert_allclose(tau.get_ydata(), kde_line(draws, tau.get_xdata(), lower_bound=0.0))
    assert tau.get_label() == "posterior"
    fig = plot_posterior(result_mcmc)
    mu = _line(fig, "posterior-mu")
    draws = result_mcmc.posterior["posterior"]["mu"].values.ravel()
    np.testing.assert_allclose(mu.get_ydata(), kde_line(draws, np.log(mu.get_xdata())))


# -- 1. trace and rank plots of one question of the hierarchical model ------------------------
def test_hierarchical_trace_and_rank_select_one_question():
    ps = synthetic.synthetic_poolset_hierarchical()
    first = next(iter(ps.hierarchical.values()))
    q = list(ps.hierarchical)[1]
    names = ("tau_pop", "sigma_logtau", "mu", "tau")
    fig = plot_trace(first, var_names=names, coords={"question": [q]}, title="trace")
    labels = {a.get_ylabel() for a in fig.axes} | {a.get_xlabel() for a in fig.axes}
    assert {"tau_pop", "sigma_logtau", "mu_q", "tau_q"} <= labels
    fig = plot_rank(first, var_names=names, coords={"question": [q]}, title="rank")
    titles = {a.get_title() for a in fig.axes}
    assert {"tau_pop", "sigma_logtau", "mu_q", "tau_q"} <= titles
    assert len([a for a in fig.axes if a.get_title()]) == 4
    assert fig.get_layout_engine() is not None  # labels kept clear of the next row
