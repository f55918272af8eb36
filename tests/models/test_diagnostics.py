"""diagnose(): thresholds and words, on synthetic draws (no sampling)."""

import numpy as np
import xarray as xr

from survmeta.models.diagnostics import diagnose


def _tree(mu, tau, diverging=None, treedepth=None):
    post = xr.Dataset({"mu": (("chain", "draw"), mu), "tau": (("chain", "draw"), tau)})
    shape = mu.shape
    stats = xr.Dataset({
        "diverging": (("chain", "draw"), np.zeros(shape, bool) if diverging is None else diverging),
        "reached_max_treedepth": (("chain", "draw"),
                                  np.zeros(shape, bool) if treedepth is None else treedepth),
    })
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def test_clean_draws_give_no_warnings():
    rng = np.random.default_rng(1)
    # 2 x 2000 independent draws: ESS ~ 4000 > 400 and R-hat ~ 1.000 < 1.01.
    tree = _tree(rng.normal(size=(2, 2000)), np.abs(rng.normal(size=(2, 2000))))
    diag = diagnose(tree)
    assert diag.warnings == ()
    assert diag.divergences == 0 and diag.treedepth_hits == 0
    assert set(diag.groups) == {"mu", "tau"}


def test_bad_draws_are_explained_in_words():
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(2, 300)) + np.array([[0.0], [1.0]])  # chains disagree by 1 SD
    tau = np.abs(np.cumsum(rng.normal(size=(2, 300)), axis=1))  # random walk: ESS << 400
    div = np.zeros((2, 300), bool)
    div[0, :3] = True
    depth = np.zeros((2, 300), bool)
    depth[1, 0] = True
    diag = diagnose(_tree(mu, tau, div, depth))
    text = " | ".join(diag.warnings)
    assert diag.divergences == 3
    assert "3 divergent transitions after tuning: the posterior of tau near 0" in text
    assert "1 of 600 draws hit the maximum tree depth" in text
    assert "R-hat of mu" in text
    assert "ESS of tau is" in text and "(< 400)" in text


def test_rank_uniformity_warning_agrees_with_the_rank_plot_p():
    """The warning uses the p ArviZ's rank plot prints (arviz-stats mchain_uniformity_test).

    4 x 1000 independent normal draws, one chain shifted by 0.3 SD: R-hat stays near
    1.01 but the ranks of the shifted chain are far from uniform (p ~ 1e-7); the
    unshifted variable gets no rank warning.
    """
    import arviz_stats  # noqa: F401

    rng = np.random.default_rng(1)
    mu = rng.normal(size=(4, 1000))
    mu[3] += 0.3
    tau = np.abs(rng.normal(size=(4, 1000)))
    tree = _tree(mu, tau)
    diag = diagnose(tree)
    ranks = tree["posterior"].to_dataset().azstats.compute_ranks(dim=["chain", "draw"],
                                                                 relative=True)
    p = ranks.azstats.mchain_uniformity_test(dim=["chain", "draw"])[0]
    assert diag.rank_alpha == 0.01
    assert np.isclose(diag.groups["mu"]["rank_p"], float(p["mu"]), rtol=1e-12)
    assert diag.groups["mu"]["rank_p"] < 0.01 <= diag.groups["tau"]["rank_p"]
    rank_warnings = [w for w in diag.warnings if w.startswith("rank-uniformity")]
    assert len(rank_warnings) == 1 and "of mu:" in rank_warnings[0]


def test_rank_p_of_a_vector_is_bonferroni_over_its_elements():
    import arviz_stats  # noqa: F401

    rng = np.random.default_rng(3)
    theta = rng.normal(size=(4, 1000, 5))
    post = xr.Dataset({"theta": (("chain", "draw", "q"), theta)})
    tree = xr.DataTree.from_dict({"posterior": post})
    ranks = post.azstats.compute_ranks(dim=["chain", "draw"], relative=True)
    p = np.asarray(ranks.azstats.mchain_uniformity_test(dim=["chain", "draw"])[0]["theta"])
    diag = diagnose(tree)
    assert np.isclose(diag.groups["theta"]["rank_p"], min(1.0, 5 * p.min()), rtol=1e-12)


def test_diagnose_returns_the_typed_record_in_its_saved_form():
    from survmeta.results import Diagnostics

    rng = np.random.default_rng(1)
    diag = diagnose(_tree(rng.normal(size=(2, 500)), np.abs(rng.normal(size=(2, 500)))))
    assert isinstance(diag, Diagnostics) and diag.is_mcmc and diag.extra == {}
    assert isinstance(diag.groups, dict) and all(type(g) is dict for g in diag.groups.values())
    saved = diag.to_dict()
    # the key order results files have always been written in
    assert list(saved) == ["r_hat_max", "ess_bulk_min", "ess_tail_min", "groups", "divergences",
                           "treedepth_hits", "chains", "draws", "rank_alpha", "warnings"]
    assert Diagnostics.from_dict(saved) == diag
