"""Valid-looking input that used to crash or give a silently wrong number (issue 15).

Each test feeds one such input through the CLI and checks the outcome: a
located error with exit 2, or the right value. Never a traceback.
"""

from __future__ import annotations

import errno
import math

import pytest

from survmeta.errors import RegistryError

from .conftest import BASE, S1_HR_LINE, edit

S1_HR = "hr = { estimate = 0.60, ci = [0.40, 0.90] }"


def test_hr_ci_lower_bound_equal_to_estimate_with_nr_upper_is_refused_at_check(write, run):
    # SE from the lower half-width alone, (log 0.60 - log 0.60) / 1.96 = 0: refused, located.
    path = write(edit(S1_HR, 'hr = { estimate = 0.60, ci = [0.60, "NR"] }'))
    code, _, err = run("check", path)
    assert code == 2
    assert f"{path}:{S1_HR_LINE}: study s1, comparison c1, hr.ci: lower bound 0.6 is not below" in err
    code, _, err = run("pool", path, "--no-hierarchical")
    assert code == 2 and "Traceback" not in err


def test_hr_ci_with_nr_upper_below_estimate_still_pools(write, run):
    # HR 0.60 (0.40-NR): SE = (log 0.60 - log 0.40) / 1.959964 = 0.206871 (one-sided CI).
    from survmeta.reconstruction import reconstruct
    from survmeta.registry import load_registry

    path = write(edit(S1_HR, 'hr = { estimate = 0.60, ci = [0.40, "NR"] }'))
    df = reconstruct(load_registry(path))
    assert df.loc[0, "se"] == pytest.approx(math.log(1.5) / 1.959964, rel=1e-6)


def test_p_bound_of_one_gives_no_estimate(write, run):
    # "<1" holds for every p: no test statistic, so no HR 1.00 with a finite SE.
    from survmeta.reconstruction import reconstruct
    from survmeta.registry import load_registry

    path = write(edit(S1_HR, 'p = "<1"\ndirection = "favours experimental"\ntotal_events = 60'))
    df = reconstruct(load_registry(path))
    row = df.iloc[0]
    assert not row["poolable"] and math.isnan(row["log_hr"]) and math.isnan(row["se"])
    assert "every p-value is below 1" in row["reason"]
    assert row["alternatives"] == []


def test_effects_csv_with_huge_se_is_refused_at_check(write, run):
    path = write("study,estimate,se\na,0.1,400\nb,0.2,0.3\n", "effects.csv")
    code, _, err = run("check", path)
    assert code == 2
    assert f"{path}:2: study a, se: 400 is above 100" in err
    code, _, err = run("reconstruct", path)
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("effect, field, what", [
    ("effect = { log_hr = 0.1, se = 1e-300 }", "effect.se", "1e-300 is below 1e-06"),
    ("effect = { log_hr = 0.1, se = 400 }", "effect.se", "400 is above 100"),
    ("effect = { log_hr = 800, se = 0.2 }", "effect.log_hr", "|log HR| = 800 is beyond 100"),
    ("logrank = { o_minus_e = -3, variance = 1e-300 }", "logrank.variance", "is above 100"),
])
def test_direct_effects_outside_the_poolable_range_name_the_study(write, run, effect, field, what):
    path = write(edit(S1_HR, effect))
    code, _, err = run("check", path)
    assert code == 2
    assert f"{path}:{S1_HR_LINE}: study s1, comparison c1, {field}: " in err and what in err


def test_tiny_but_plausible_se_still_pools(write):
    # 1e-3 is inside SE_RANGE: pooled, log HR as given.
    from survmeta.reconstruction import reconstruct
    from survmeta.registry import load_registry

    path = write(edit(S1_HR, "effect = { log_hr = -0.5, se = 0.001 }"))
    df = reconstruct(load_registry(path))
    assert df.loc[0, "log_hr"] == -0.5 and df.loc[0, "se"] == 0.001


def test_a_ci_level_near_zero_is_a_located_error_not_a_division_by_zero(write, run):
    # z_level(1e-300) is 0 in floating point: the CI width divided by 2 z has no value.
    path = write(edit(S1_HR, "hr = { estimate = 0.60, ci = [0.40, 0.90], level = 1e-300 }"))
    code, _, err = run("reconstruct", path)
    assert code == 2
    assert f"{path}:17: study s1, comparison c1, method: the numbers cannot be reconstructed" in err


def test_a_reconstructed_se_beyond_the_range_is_a_located_error(write, run):
    # level 1e-4: z = 1.2533e-4, SE = log(0.9/0.4) / (2 z) = 3235, beyond SE_RANGE.
    path = write(edit(S1_HR, "hr = { estimate = 0.60, ci = [0.40, 0.90], level = 1e-4 }"))
    code, _, err = run("pool", path, "--no-hierarchical")
    assert code == 2
    assert f"{path}:17: study s1, comparison c1, method: method hr_ci gives log HR -0.5108 " \
           "with SE 3235" in err


@pytest.mark.parametrize("old, new, field", [
    ("n = 50 }", "n = " + "9" * 400 + " }", "experimental.n"),
    ("year = 2020", "year = " + "9" * 400, "year"),
    ("estimate = 0.60", "estimate = " + "9" * 400, "hr.estimate"),
    ("ci = [0.40, 0.90]", "ci = [0.40, " + "9" * 400 + "]", "hr.ci"),
    ("schema_version = 1", "schema_version = " + "9" * 400, "schema_version"),
    ('[[study]]\nid = "s1"', '[[study]]\nid = "s1"\nn = -' + "9" * 400, "n"),
])
def test_integers_of_400_digits_are_located_errors(write, run, old, new, field):
    path = write(edit(old, new))
    code, _, err = run("check", path)
    assert code == 2
    assert f" {field}: " in err and "99999...99999 (400 digits)" in err
    assert len(err) < 1000  # the number is not printed in full


def test_p_value_of_400_digits_is_a_located_error(write, run):
    path = write(edit(S1_HR, "p = " + "9" * 400))
    code, _, err = run("check", path)
    assert code == 2 and "study s1, comparison c1, p: p = a huge integer is outside (0, 1]" in err


@pytest.mark.parametrize("nested", ["[" * 20000 + "]" * 20000, "{a = " * 20000 + "1" + "}" * 20000])
def test_very_deep_nesting_is_a_syntax_error(write, run, nested):
    path = write(BASE + "\nnotes = " + nested + "\n")
    code, _, err = run("check", path)
    assert code == 2
    assert f"{path}:44: TOML syntax error: arrays or inline tables nested too deeply" in err


def test_very_deep_nesting_in_an_added_block_is_refused(write, run, tmp_path):
    registry = write(BASE)
    block = tmp_path / "new.toml"
    block.write_text("[[study]]\nid = \"s3\"\nnotes = " + "[" * 5000 + "]" * 5000 + "\n")
    before = registry.read_bytes()
    code, _, err = run("add", registry, "--from", block)
    assert code == 2 and "nested too deeply" in err
    assert registry.read_bytes() == before


def test_deeply_nested_json_since_file_is_a_clear_error(write, run, tmp_path):
    path = write(BASE)
    saved = tmp_path / "old.json"
    saved.write_text("[" * 100000 + "]" * 100000)
    code, _, err = run("diff", path, "--since", saved)
    assert code == 2 and "not a JSON results file" in err


def test_malformed_saved_results_are_a_clear_error(write, run, tmp_path):
    path = write(BASE)
    saved = tmp_path / "old.json"
    saved.write_text('{"questions": [{"id": "q1", "hr": 3}]}')
    code, _, err = run("diff", path, "--since", saved)
    assert code == 2 and "question 1 of the \"questions\" list is not as" in err


@pytest.mark.parametrize("argv", [
    ("report", "{path}", "--out", ""),
    ("pool", "{path}", "--save", ""),
    ("sensitivity", "{path}", "--question", "q1", "--loo", "--plot", ""),
    ("add", "{path}", "--from", ""),
    ("diff", "{path}", "--since", ""),
    ("template", "--registry", ""),
])
def test_empty_output_and_input_names_are_refused(write, run, argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(BASE)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(SystemExit) as exc:
        run(*[a.format(path=path) for a in argv])
    assert exc.value.code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_write_errors_name_the_users_file_not_the_temporary_one(tmp_path, monkeypatch):
    import os

    from survmeta._io import atomic_write_bytes

    target = tmp_path / "results.json"

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", src)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError) as exc:
        atomic_write_bytes(target, b"{}")
    assert exc.value.filename == str(target)
    assert [p.name for p in tmp_path.iterdir()] == []  # the temporary file is gone


def test_write_errors_in_a_missing_folder_name_the_users_file(tmp_path):
    from survmeta._io import atomic_write_bytes

    target = tmp_path / "missing" / "results.json"
    with pytest.raises(FileNotFoundError) as exc:
        atomic_write_bytes(target, b"{}")
    assert exc.value.filename == str(target)


def test_question_ids_differing_only_by_case_write_distinct_figure_files(write, run, tmp_path):
    text = BASE.replace('question = "q1"', 'question = "Q1"', 1)
    text = text.replace("[[study]]", '[[question]]\nid = "Q1"\ntitle = "Drug vs placebo (upper)"\n'
                        'experimental = "drug"\nreference = "placebo"\noutcome = "OS"\n\n[[study]]', 1)
    path = write(text)
    out = tmp_path / "report"
    code, _, err = run("report", path, "--out", out, "--format", "md", "--no-hierarchical")
    assert code == 0, err
    names = [p.name for p in (out / "figures").iterdir()]
    assert len({n.lower() for n in names}) == len(names)
    assert {"q1_forest.png", "Q1_forest-2.png"} <= set(names)
    page = (out / "report.md").read_text()
    assert "figures/q1_forest.png" in page and "figures/Q1_forest-2.png" in page


def test_registry_error_lists_every_problem():
    from survmeta.registry import load_registry_text

    with pytest.raises(RegistryError) as exc:
        load_registry_text(edit(S1_HR, "effect = { log_hr = 800, se = 1e-300 }"))
    assert [p.field for p in exc.value.problems] == ["effect.log_hr", "effect.se"]
