"""Summaries of draws and the row selection of the pooling front door."""

import numpy as np
import pandas as pd
import pytest

from survmeta.pooling import select_rows
from survmeta.results import draws_interval, summarize_draws


def test_shortest_interval_of_exponential_draws_starts_at_zero():
    """Closed form: for Exp(1) the shortest 95% interval is [0, -log(0.05)] = [0, 2.9957].

    The interval is arviz-stats' HDI (``array_stats.hdi``, ``method="nearest"``).
    """
    rng = np.random.default_rng(1)
    x = rng.exponential(size=200_000)
    lo, hi = draws_interval(x, 0.95, "hdi")
    assert summarize_draws(x, 0.95)["hdi"] == [lo, hi]
    # Monte Carlo tolerance: the 95% quantile of 2e5 draws has SD ~ 0.01
    assert lo == pytest.approx(0.0, abs=0.005)
    assert hi == pytest.approx(-np.log(0.05), abs=0.03)


def test_summary_of_normal_draws_matches_closed_form():
    """N(0.3, 0.2^2): mean 0.3, sd 0.2, 95% ETI 0.3 -/+ 1.96*0.2; HDI equals ETI for a symmetric law."""
    rng = np.random.default_rng(2)
    s = summarize_draws(rng.normal(0.3, 0.2, size=400_000), level=0.95)
    mcse = 0.2 / np.sqrt(400_000)
    assert s["mean"] == pytest.approx(0.3, abs=4 * mcse)
    assert s["sd"] == pytest.approx(0.2, rel=0.005)
    assert s["eti"][0] == pytest.approx(0.3 - 1.959964 * 0.2, abs=0.003)
    # The HDI's endpoints drift along a flat width profile (error ~ n^(-1/3)), its width does not.
    assert s["hdi"][1] - s["hdi"][0] == pytest.approx(2 * 1.959964 * 0.2, abs=0.003)
    assert s["hdi"][1] == pytest.approx(0.3 + 1.959964 * 0.2, abs=0.01)


def test_summarize_draws_rejects_non_finite():
    with pytest.raises(ValueError):
        summarize_draws(np.array([0.1, np.nan]))


def _rows(specs):
    base = dict(question="q", endpoint="OS", year=2020, design="rct", n=100, se_extra=0.0,
                method="hr_ci", approximate=False, flags=(), reason=None, subgroup_of=None,
                poolable=True, log_hr=-0.2, se=0.2)
    rows = []
    for study, comp, extra in specs:
        r = dict(base, study=study, comparison=comp, key=f"{study}/{comp}")
        r.update(extra)
        rows.append(r)
    return pd.DataFrame(rows)


def test_select_rows_keeps_one_comparison_per_study_and_drops_subgroups():
    df = _rows([
        ("a", "overall", {}),
        ("a", "pdl1_pos", {"subgroup_of": "overall"}),
        ("a", "second_arm", {}),
        ("b", "overall", {"poolable": False, "reason": "no direction reported",
                          "log_hr": np.nan, "se": np.nan}),
        ("c", "overall", {}),
        ("d", "other", {"question": "other"}),
    ])
    pooled, excluded, notes = select_rows(df, "q")
    assert list(pooled["key"]) == ["a/overall", "c/overall"]
    reasons = dict(zip(excluded["key"], excluded["reason"]))
    assert set(reasons) == {"a/pdl1_pos", "a/second_arm", "b/overall"}
    assert reasons["b/overall"] == "no direction reported"
    assert "subgroup of a/overall" in reasons["a/pdl1_pos"]
    assert "share patients" in reasons["a/second_arm"]
    assert len(notes) == 1


def test_printouts_are_readable_and_carry_the_numbers():
    """print_summary / repr: the numbers they show are the result's own, at 2 or 3 decimals;
    probabilities beyond 0.999 print as ">0.999", never as 1."""
    import contextlib
    import io
    from pathlib import Path

    from survmeta.pooling import pool

    res = pool(Path(__file__).resolve().parents[2] / "studies.toml")
    assert repr(res).startswith(f"<PoolSet: {len(res)} pooled question(s), engine exact")
    r = res["oligo_vs_systemic"]
    text = r.summary_text()
    hr = r.stats["hr"]
    assert f"equal-tailed [{hr.eti.lower:.2f}, {hr.eti.upper:.2f}]" in text
    assert f"shortest [{hr.hdi.lower:.2f}, {hr.hdi.upper:.2f}]" in text
    assert "Random-Effects Model (k = 4; tau^2 estimator: REML)" in text
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        res.print_summary()
    out = buf.getvalue()
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("local_treatment_oligo_os"))
    assert line.rstrip().endswith(">0.999")
    assert "NaN" not in out


def test_print_of_a_result_is_the_readable_block():
    """``print(result)`` shows summary_text() (pooled HR, tau, studies, the metafor-style
    companion); ``repr`` stays the one-line form."""
    from pathlib import Path

    from survmeta import pool

    res = pool(Path(__file__).resolve().parents[2] / "studies.toml",
               question="oligo_vs_systemic")["oligo_vs_systemic"]
    assert str(res) == res.summary_text()
    assert "pooled HR" in str(res) and "Random-Effects Model" in str(res)
    assert repr(res).startswith("<PoolResult oligo_vs_systemic") and "\n" not in repr(res)
