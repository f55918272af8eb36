"""The examples of issue 15 that need the command line end to end.

Every example of the issue is a regression test; where each one lives:

* identical HRs: ``pool``, ``report``, ``sensitivity --loo/--cumulative`` here;
  the Knapp-Hartung numbers against metafor in tests/exact/test_frequentist_edges.py;
* an effects CSV with SE 400, ``ci = [0.60, "NR"]``, ``p = "<1"``, ``effect.se = 1e-300``,
  400-digit integers, deep nesting, ``--out ""``, question ids differing by case, messages
  naming a temporary file: test_valid_data.py;
* ``$b_$`` and ``US$ 5 vs US$ 10`` in figures, Markdown escaping: test_plain_text.py, and
  the HTML heading and question labels here;
* ``level = 0.05`` and ``level = 0.5``, the same paper under two ids, arms the wrong way
  round, a direction against the HR: test_plausibility.py (API), and here through
  ``check --strict``;
* ``add`` without a lock, read-only, symlinked and hard-linked registries, a left-over
  temporary file: test_safe_add.py;
* the exact engine for k = 2 with SE <= 0.001: tests/exact/test_engine_tiny_se.py;
* a report at 2,000 studies / 50 questions: benchmarks/bench_report.py (timing) and
  tests/report/test_paged_report.py (the per-question layout).

The numbers are invented (conftest.BASE); expected values are closed forms
stated in each test.
"""

from __future__ import annotations

import html
import json
import math
from statistics import NormalDist

import pytest

from .conftest import S1_HR_LINE, edit

Z975 = NormalDist().inv_cdf(0.975)
S1_HR = "hr = { estimate = 0.60, ci = [0.40, 0.90] }"
S2_HR = "hr = { estimate = 0.80, ci = [0.50, 1.28] }"
#: HR 0.75 with a CI symmetric on the log scale (0.75 / 1.5, 0.75 * 1.5).
HR075 = "hr = { estimate = 0.75, ci = [0.50, 1.125] }"
#: SE of that HR: log(1.125 / 0.50) / (2 z_0.975) (the same for 0.60 (0.40-0.90)).
SE075 = math.log(2.25) / (2 * Z975)

THIRD = '''
[[study]]
id = "s3"
citation = "Green E. J Test. 2022;3:3."
year = 2022
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
'''


def _identical(third: bool = False) -> str:
    """BASE with both studies at HR 0.75 (0.50-1.125); ``third`` adds s3 at 0.60 (0.40-0.90)."""
    text = edit(S2_HR, HR075, edit(S1_HR, HR075))
    return text + THIRD if third else text


def _fixed_effect_ci(k: int) -> tuple[float, float]:
    """Common-effect (REML with tau^2 = 0) CI of k identical HRs 0.75 with SE SE075."""
    se = SE075 / math.sqrt(k)
    return math.exp(math.log(0.75) - Z975 * se), math.exp(math.log(0.75) + Z975 * se)


# --- two studies with the same HR: pool, report, sensitivity ---------------------------------

def test_pool_two_identical_hrs_through_the_cli(write, run):
    # Q = 0 so tau^2 = 0 (REML); the Knapp-Hartung scaled SE is
    # sqrt(sum w (y - mu)^2 / ((k - 1) sum w)) = 0: metafor's zero-width interval.
    path = write(_identical())
    code, out, err = run("pool", path, "--no-hierarchical", "--format", "json")
    assert code == 0, err
    (q,) = json.loads(out)["questions"]
    reml = q["frequentist"]["REML"]
    assert reml["tau2"] == 0 and reml["Q"] == pytest.approx(0, abs=1e-12)
    assert reml["hr"] == pytest.approx(0.75, rel=1e-12)
    assert reml["hr_ci"] == pytest.approx(_fixed_effect_ci(2), rel=1e-9)
    assert reml["knha_hr_ci"] == pytest.approx([0.75, 0.75], rel=1e-12)
    # the Bayesian answer is finite and centred on the common estimate (the normal(0, 4)
    # prior on mu moves the median by well under 2%)
    lo, hi = q["hr"]["eti95"]
    assert 0 < lo < 0.75 < hi < math.inf
    assert q["hr"]["median"] == pytest.approx(0.75, rel=0.02)


@pytest.mark.parametrize("fmt, page", [("html", "report.html"), ("md", "report.md")])
def test_report_two_identical_hrs_through_the_cli(write, run, tmp_path, fmt, page):
    path = write(_identical())
    out = tmp_path / "out"
    code, _, err = run("report", path, "--out", out, "--format", fmt, "--no-hierarchical")
    assert code == 0, err
    text = (out / page).read_text(encoding="utf-8")
    assert "Knapp-Hartung 0.75 to 0.75" in text
    lo, hi = _fixed_effect_ci(2)
    assert f"HR 0.75 (95% CI {lo:.2f} to {hi:.2f}" in text


def test_sensitivity_loo_and_cumulative_with_identical_subsets(write, run, tmp_path):
    # s1, s2 at 0.75 and s3 at 0.60: leaving s3 out, and the cumulative step s1 + s2, pool
    # two identical HRs (the subsets that used to stop with ZeroDivisionError).
    path = write(_identical(third=True))
    plot = tmp_path / "loo.png"
    code, out, err = run("sensitivity", path, "--question", "q1", "--loo", "--cumulative",
                         "--plot", plot, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    reml = {(r["analysis"], r["variant"]): r for r in rows if r["engine"] == "REML"}
    without_s3 = reml[("leave-one-out", "without s3/c1")]
    assert without_s3["k"] == 2 and without_s3["tau"] == 0
    assert without_s3["hr"] == pytest.approx(0.75, rel=1e-12)
    assert (without_s3["hr_lower"], without_s3["hr_upper"]) == pytest.approx(_fixed_effect_ci(2),
                                                                             rel=1e-9)
    step2 = reml[("cumulative", "+ s2/c1 (2021)")]
    assert (step2["hr"], step2["hr_lower"], step2["hr_upper"]) == pytest.approx(
        (0.75, *_fixed_effect_ci(2)), rel=1e-9)
    exact = [r for r in rows if r["engine"] == "exact"]
    assert len(exact) == 1 + 3 + 3  # base, three leave-one-out, three cumulative steps
    assert all(0 < r["hr_lower"] < r["hr"] < r["hr_upper"] < math.inf for r in exact)
    assert plot.read_bytes().startswith(b"\x89PNG")


# --- a title with "$b_$" in the HTML report -------------------------------------------------

def test_a_math_like_title_is_in_the_html_report_as_written(write, run, tmp_path):
    title = "$b_$ vs US$ 5 vs US$ 10"
    path = write(edit('title = "Drug vs placebo"', f'title = "{title}"'))
    out = tmp_path / "out"
    code, _, err = run("report", path, "--out", out, "--no-hierarchical")
    assert code == 0, err
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"<h2 id=\"q-q1\">q1: {html.escape(title)}</h2>" in page
    # every figure was drawn (none replaced by a "could not be drawn" note)
    assert "could not be drawn" not in page
    assert page.count("<img ") == 3  # forest, posterior, tau (k = 2: no funnel)


def test_question_labels_are_escaped_in_the_markdown_report(write, run, tmp_path):
    label = "drug <img src=x onerror=alert(1)> & *co*"
    path = write(edit('experimental = "drug"', f'experimental = "{label}"'))
    out = tmp_path / "out"
    code, _, err = run("report", path, "--out", out, "--format", "md", "--no-hierarchical")
    assert code == 0, err
    md = (out / "report.md").read_text(encoding="utf-8")
    # every occurrence of the label (SoF table, question heading, sentence) is escaped
    assert md.count("<img") == md.count("\\<img") >= 2
    assert md.count("*co") == md.count("\\*co") >= 2 and " & " not in md
    assert "hazard(drug \\<img src=x onerror=alert(1)\\> \\& \\*co\\*)" in md


# --- plausible slips: each warns, located, and fails --strict --------------------------------

def _strict(run, path, where: str):
    code, _, err = run("check", path)
    assert code == 0 and f"{path}:{where}: warning:" in err, err
    code, _, err = run("check", path, "--strict")
    assert code == 2 and f"{path}:{where}: warning:" in err, err
    return err


@pytest.mark.parametrize("level", ["0.5", "0.05"])
def test_an_hr_level_of_one_half_or_an_alpha_is_not_accepted_silently(write, run, level):
    path = write(edit(S1_HR, f"hr = {{ estimate = 0.60, ci = [0.40, 0.90], level = {level} }}"))
    err = _strict(run, path, f"{S1_HR_LINE}: study s1, comparison c1, hr.level")
    assert f"CI level {level}" in err


def test_an_alpha_typed_as_the_level_changes_the_se_as_the_warning_says(write):
    # SE from a "5% CI": log(0.9 / 0.4) / (2 z_0.525) = 6.466, 31.3 times the 95% SE 0.2069.
    from survmeta.reconstruction import reconstruct
    from survmeta.registry import load_registry

    path = write(edit(S1_HR, "hr = { estimate = 0.60, ci = [0.40, 0.90], level = 0.05 }"))
    se = reconstruct(load_registry(path)).loc[0, "se"]
    assert se == pytest.approx(math.log(2.25) / (2 * NormalDist().inv_cdf(0.525)), rel=1e-9)


def test_the_same_paper_under_two_study_ids(write, run):
    # s2 re-enters s1: same DOI (written differently), same numbers.
    text = edit('citation = "Smith A, Brown B. J Test. 2020;1:1."',
                'citation = "Smith A, Brown B. J Test. 2020;1:1."\ndoi = "10.1000/abc"')
    text = edit('citation = "Jones C, White D. J Test. 2021;2:2."',
                'citation = "Jones C, White D. J Test. 2021;2:2."\ndoi = "doi:10.1000/ABC"', text)
    text = edit(S2_HR, S1_HR, text)
    line = text.splitlines().index('doi = "doi:10.1000/ABC"') + 1
    path = write(text)
    err = _strict(run, path, f"{line}: study s2, doi")
    assert "same DOI as study s1 (line 13)" in err and 'acknowledged = ["doi"]' in err


def test_arms_entered_the_wrong_way_round(write, run):
    text = edit('experimental = { label = "drug", n = 50 }\nreference = { label = "placebo", n = 50 }',
                'experimental = { label = "placebo", n = 50 }\nreference = { label = "drug", n = 50 }')
    path = write(text)
    err = _strict(run, path, f"{S1_HR_LINE - 2}: study s1, comparison c1, experimental.label")
    assert f"{path}:{S1_HR_LINE - 1}: study s1, comparison c1, reference.label: warning:" in err


def test_a_stated_direction_against_the_reported_hr(write, run):
    path = write(edit(S1_HR, S1_HR + '\ndirection = "favours reference"'))
    err = _strict(run, path, f"{S1_HR_LINE + 1}: study s1, comparison c1, direction")
    assert "the reported HR 0.6, which favours experimental" in err
