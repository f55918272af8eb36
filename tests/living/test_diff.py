"""survmeta diff: added/removed/edited comparisons and the shift in words and numbers."""

from __future__ import annotations

from pathlib import Path
import json
import shutil
import subprocess

import pytest

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.living import add_study, describe_changes, diff_results, diff_since
from survmeta.pooling import pool
from survmeta.registry import load_registry

REPO = Path(__file__).resolve().parents[2]

GIT = shutil.which("git")


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                   check=True, capture_output=True)


@pytest.fixture
def repo(registry):
    if GIT is None:
        pytest.skip("git is not installed")
    _git(registry.parent, "init", "-q")
    _git(registry.parent, "add", registry.name)
    _git(registry.parent, "commit", "-q", "-m", "registry")
    return registry


def _fmt(hr, lo, hi):
    return f"{hr:.2f} [{lo:.2f}, {hi:.2f}]"


def test_added_study_since_a_git_revision_in_words_and_numbers(repo, new_study, capsys):
    old = pool(load_registry(repo)).to_dict()  # pooled independently, before the add
    add_study(repo, new_study)
    report = diff_since(repo, "HEAD")
    row = report.table.set_index("question").loc["oligo_vs_systemic"]
    assert row["status"] == "changed" and row["added"] == ["delta2025/os"]
    assert (row["k_old"], row["k_new"]) == (3, 4)
    q_old = next(q for q in old["questions"] if q["id"] == "oligo_vs_systemic")
    assert row["hr_old"] == pytest.approx(q_old["hr"]["median"], rel=1e-12)
    assert row["p_old"] == pytest.approx(q_old["p_hr_below_1"], rel=1e-12)
    sentence = next(s for s in report.sentences if s.startswith("oligo_vs_systemic"))
    moved = (f"the pooled HR moved from {_fmt(row.hr_old, row.hr_old_lower, row.hr_old_upper)} "
             f"to {_fmt(row.hr_new, row.hr_new_lower, row.hr_new_upper)}")
    assert "1 comparison added (delta2025/os)" in sentence and moved in sentence
    assert "k went from 3 to 4" in sentence
    rechal = report.table.set_index("question").loc["rechallenge"]
    assert rechal["status"] == "unchanged"
    # the command says the same
    assert main(["diff", str(repo), "--since", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert moved in out and "delta2025/os" in out


def test_edited_and_removed_comparisons_are_named(repo):
    text = repo.read_text(encoding="utf-8")
    text = text.replace("hr = { estimate = 0.70, ci = [0.45, 1.09] }",
                        "hr = { estimate = 0.72, ci = [0.46, 1.12] }")
    start = text.index('[[study.comparison]]\nid = "rechal"\nquestion = "rechallenge"\nendpoint = "PFS"\n'
                       'quote = "HR 0.80')
    repo.write_text(text[:start] + "# end of registry\n", encoding="utf-8")
    report = diff_since(repo, "HEAD")
    t = report.table.set_index("question")
    assert t.loc["oligo_vs_systemic", "edited"] == ["beta2021/pfs (hr)"]
    assert t.loc["rechallenge", "removed"] == ["gamma2023/rechal"]
    assert (t.loc["rechallenge", "k_old"], t.loc["rechallenge", "k_new"]) == (2, 1)
    assert any("1 comparison edited (beta2021/pfs (hr))" in s for s in report.sentences)


def test_since_saved_results_reuses_their_priors(registry, new_study, tmp_path, capsys):
    saved = tmp_path / "old.json"
    assert main(["pool", str(registry), "--tau-prior", "halfnormal(1)", "--save", str(saved)]) == 0
    capsys.readouterr()
    add_study(registry, new_study)
    report = diff_since(registry, saved)
    row = report.table.set_index("question").loc["oligo_vs_systemic"]
    assert row["added"] == ["delta2025/os"]
    new_q = next(q for q in report.new["questions"] if q["id"] == "oligo_vs_systemic")
    assert new_q["priors"]["tau"] == "halfnormal(1)"
    direct = pool(load_registry(registry), tau_prior="halfnormal(1)")["oligo_vs_systemic"]
    assert row["hr_new"] == pytest.approx(direct.stats["hr"].median, rel=1e-12)
    assert main(["diff", str(registry), "--since", str(saved), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["questions"][0]["question"] == "oligo_vs_systemic"
    assert data["changes"][0].startswith("oligo_vs_systemic: 1 comparison added")


def test_since_an_older_registry_file(registry, new_study, tmp_path):
    older = tmp_path / "older.toml"
    shutil.copyfile(registry, older)
    add_study(registry, new_study)
    report = diff_since(registry, older)
    assert report.table.set_index("question").loc["oligo_vs_systemic", "added"] == ["delta2025/os"]


def test_revision_errors_are_clear(repo, tmp_path, registry):
    with pytest.raises(SurvmetaError, match="not a revision"):
        diff_since(repo, "no-such-rev")
    other = repo.parent / "other.toml"
    shutil.copyfile(repo, other)
    with pytest.raises(SurvmetaError, match="does not exist at revision HEAD"):
        diff_since(other, "HEAD")


def test_outside_a_git_repository(tmp_path, registry, capsys):
    if GIT is None:
        pytest.skip("git is not installed")
    if subprocess.run(["git", "rev-parse"], cwd=tmp_path, capture_output=True).returncode == 0:
        pytest.skip("the temporary folder is inside a git repository")
    assert main(["diff", str(registry), "--since", "HEAD~1"]) == 2
    assert "not in a git repository" in capsys.readouterr().err


def _result(qid, hr, lo, hi, p, tau=0.2, k=2, studies=()):
    return {"id": qid, "k": k, "level": 0.95, "hr": {"median": hr, "eti95": [lo, hi]},
            "tau": {"median": tau, "eti95": [0.0, 1.0]}, "p_hr_below_1": p,
            "studies": [{"id": s, "comparison": "os", "log_hr": -0.5, "se": 0.2, "method": "hr_ci"}
                        for s in studies]}


@pytest.mark.parametrize("old_ci, new_ci, words", [
    ((0.31, 0.88), (0.40, 0.83), "the 95% interval still excludes 1"),
    ((0.31, 1.20), (0.40, 0.83), "the 95% interval no longer includes 1"),
    ((0.31, 0.88), (0.40, 1.10), "the 95% interval now includes 1"),
    ((0.31, 1.20), (0.40, 1.10), "the 95% interval still includes 1"),
])
def test_interval_wording(old_ci, new_ci, words):
    old = {"questions": [_result("q", 0.52, *old_ci, 0.99, studies=["a", "b"])]}
    new = {"questions": [_result("q", 0.58, *new_ci, 0.97, k=3, studies=["a", "b", "c"])]}
    (sentence,) = describe_changes(old, new)
    assert sentence.startswith("q: 1 comparison added (c/os); the pooled HR moved from "
                               f"0.52 [{old_ci[0]:.2f}, {old_ci[1]:.2f}] to 0.58 [{new_ci[0]:.2f}, "
                               f"{new_ci[1]:.2f}]; {words}; P(HR < 1) fell from 0.99 to 0.97")


def test_new_and_removed_questions():
    old = {"questions": [_result("gone", 0.5, 0.3, 0.9, 0.99)]}
    new = {"questions": [_result("fresh", 0.8, 0.6, 1.1, 0.90)]}
    table = diff_results(old, new)
    assert list(table["status"]) == ["added", "removed"]
    words = describe_changes(table)
    assert words[0].startswith("fresh: new question: pooled HR 0.80 [0.60, 1.10]")
    assert words[1] == "gone: no longer pooled (was HR 0.50 [0.30, 0.90], k = 2)"


def test_not_results_is_refused():
    with pytest.raises(SurvmetaError, match="pool --save"):
        diff_results({"nope": 1}, {"questions": []})


def test_bundled_registry_add_then_diff(tmp_path, capsys):
    """Issue 6, done-when: add a study to (a copy of) the bundled registry and diff."""
    reg = tmp_path / "studies.toml"
    shutil.copyfile(REPO / "studies.toml", reg)
    saved = tmp_path / "before.json"
    # diff compares the per-question results, never the hierarchical fit (PyMC): not run here
    assert main(["pool", str(reg), "--no-hierarchical", "--save", str(saved)]) == 0
    block = tmp_path / "new.toml"
    block.write_text((REPO / "examples" / "sensitivity_script.py").read_text(encoding="utf-8")
                     .split('NEW_STUDY = """\\\n')[1].split('"""')[0], encoding="utf-8")
    assert main(["add", str(reg), "--from", str(block)]) == 0
    capsys.readouterr()
    assert main(["diff", str(reg), "--since", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "oligo_vs_systemic: 1 comparison added (example2026/os_oligo_vs_systemic)" in out
    assert "the pooled HR moved from" in out and "k went from 4 to 5" in out


# ---------------------------------------------------------------------------
# saved results that cover some questions; engine reuse; CSV
# ---------------------------------------------------------------------------
def test_saved_for_one_question_compares_only_that_question(registry, new_study, tmp_path, capsys):
    saved = tmp_path / "one.json"
    assert main(["pool", str(registry), "--question", "oligo_vs_systemic", "--save", str(saved)]) == 0
    capsys.readouterr()
    add_study(registry, new_study)
    report = diff_since(registry, saved)
    assert list(report.table["question"]) == ["oligo_vs_systemic"]
    assert report.notes == ["1 other question not in the saved results, so not compared (the file "
                            "was saved for a selection of questions, or they were added since): "
                            "rechallenge"]
    assert main(["diff", str(registry), "--since", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "new question" not in out and "rechallenge:" not in out
    assert out.count("not in the saved results") == 1
    assert "oligo_vs_systemic: 1 comparison added (delta2025/os)" in out


def test_bundled_registry_saved_for_one_question(tmp_path, capsys):
    """The reported case: `pool --question oligo_vs_systemic --save`, then diff the registry."""
    reg = tmp_path / "studies.toml"
    shutil.copyfile(REPO / "studies.toml", reg)
    saved = tmp_path / "s.json"
    assert main(["pool", str(reg), "--question", "oligo_vs_systemic", "--save", str(saved)]) == 0
    capsys.readouterr()
    assert main(["diff", str(reg), "--since", str(saved)]) == 0
    out = capsys.readouterr().out
    others = [q.id for q in load_registry(reg).questions if q.id != "oligo_vs_systemic"]
    pooled = pool(load_registry(reg))
    poolable = [q for q in others if q in pooled]
    assert "new question" not in out and out.count("not in the saved results") == 1
    assert (f"note: {len(others)} other questions ({len(poolable)} with comparisons to pool) not in "
            "the saved results, so not compared") in out
    assert "- oligo_vs_systemic: unchanged:" in out
    assert not any(line.startswith(f"- {q}:") for q in others for line in out.splitlines())


def test_a_question_with_nothing_to_pool_before_is_not_called_new():
    old = {"questions": [], "skipped": [{"id": "q", "reason": "no poolable comparison", "excluded": []}]}
    new = {"questions": [_result("q", 0.8, 0.6, 1.1, 0.90, k=1, studies=["a"])], "skipped": []}
    table = diff_results(old, new)
    assert list(table["status"]) == ["now pooled"]
    assert describe_changes(table) == [
        "q: now pooled (nothing to pool before): pooled HR 0.80 [0.60, 1.10] (95% interval) from "
        "1 comparison; tau 0.20; P(HR < 1) = 0.90; 1 comparison added (a/os)"]
    back = diff_results(new, {"questions": [], "skipped": [{"id": "q"}]})
    assert list(back["status"]) == ["no longer pooled"]
    assert describe_changes(back) == ["q: nothing left to pool (was HR 0.80 [0.60, 1.10], k = 1); "
                                      "1 comparison removed (a/os)"]


def test_saved_engine_priors_level_seed_and_draws_are_reused(registry, tmp_path, monkeypatch):
    """What the saved file records is what the registry is re-pooled with (wiring, no sampling)."""
    import survmeta.pooling as pool_module

    saved = pool(load_registry(registry), question="oligo_vs_systemic", tau_prior="halfnormal(1)",
                 mu_prior="normal(0, 2)", level=0.9, seed=7).to_dict()
    q = saved["questions"][0]
    q["engine"] = saved["meta"]["engine"] = "mcmc"  # as `pool --engine mcmc --draws 300 --chains 2`
    q["diagnostics"] = {"draws": 300, "chains": 2, "warnings": []}
    path = tmp_path / "mcmc.json"
    path.write_text(json.dumps(saved), encoding="utf-8")
    calls = []
    real = pool_module.pool_question

    def recording(rows, question, **kw):
        calls.append(kw)
        return real(rows, question, **{**kw, "engine": "exact", "mcmc_options": None})

    monkeypatch.setattr(pool_module, "pool_question", recording)
    report = diff_since(registry, path)
    (kw,) = calls
    assert (kw["engine"], kw["mcmc_options"]) == ("mcmc", {"draws": 300, "chains": 2})
    assert (kw["tau_prior"], kw["mu_prior"], kw["level"], kw["seed"]) == \
        ("halfnormal(1)", "normal(0, 2)", 0.9, 7)
    assert not any("engine changed" in n for n in report.notes)
    calls.clear()
    report = diff_since(registry, path, engine="exact")
    assert calls[0]["engine"] == "exact" and calls[0]["mcmc_options"] is None
    assert any(n.startswith("engine changed: the saved results were pooled with the mcmc engine, "
                            "the registry now with the exact engine") for n in report.notes)
    row = report.table.iloc[0]
    assert (row["engine_old"], row["engine_new"]) == ("mcmc", "exact")
    assert report.sentences[0].endswith("the engine changed from mcmc to exact")


@pytest.mark.mcmc
def test_mcmc_results_are_diffed_with_mcmc(registry, tmp_path, capsys):
    saved = tmp_path / "mcmc.json"
    assert main(["pool", str(registry), "--question", "oligo_vs_systemic", "--engine", "mcmc",
                 "--draws", "300", "--chains", "2", "--save", str(saved)]) == 0
    capsys.readouterr()
    old = json.loads(saved.read_text(encoding="utf-8"))["questions"][0]
    report = diff_since(registry, saved)  # nothing edited: same engine, seed, draws -> same numbers
    row = report.table.iloc[0]
    assert row["status"] == "unchanged" and row["engine_new"] == "mcmc"
    assert row["hr_new"] == row["hr_old"] == old["hr"]["median"]
    assert row["p_new"] == old["p_hr_below_1"]
    assert main(["diff", str(registry), "--since", str(saved), "--engine", "exact"]) == 0
    out = capsys.readouterr().out
    exact = pool(load_registry(registry), question="oligo_vs_systemic")["oligo_vs_systemic"]
    assert "engine changed: the saved results were pooled with the mcmc engine" in out
    assert f"to {_fmt(exact.stats['hr'].median, *exact.stats['hr'].eti.as_tuple())}" in out
    assert "the engine changed from mcmc to exact" in out


def test_csv_format(repo, new_study, capsys):
    add_study(repo, new_study)
    assert main(["diff", str(repo), "--since", "HEAD", "--format", "csv"]) == 0
    import io

    import pandas as pd

    from survmeta.living.diff import DIFF_COLUMNS

    df = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False, na_values=[""])
    assert list(df.columns) == list(DIFF_COLUMNS)
    row = df.set_index("question").loc["oligo_vs_systemic"]
    assert (row["status"], row["added"], row["k_old"], row["k_new"]) == ("changed", "delta2025/os", 3, 4)
    direct = pool(load_registry(repo))["oligo_vs_systemic"]
    assert row["hr_new"] == direct.stats["hr"].median  # CSV keeps every digit
    assert row["hr_new_upper"] == direct.stats["hr"].eti.upper
    assert (row["engine_old"], row["engine_new"]) == ("exact", "exact")


def test_unknown_engine_is_refused(registry, tmp_path):
    with pytest.raises(SurvmetaError, match="unknown engine 'nuts'"):
        diff_since(registry, registry, engine="nuts")


# ---------------------------------------------------------------------------
# two saved files: `survmeta diff OLD.json NEW.json` (read with PoolSet.from_dict)
# ---------------------------------------------------------------------------
SAVED_V1 = REPO / "tests" / "pooling" / "data" / "saved_v1_mini.json"


def test_two_saved_files_are_compared_as_saved(registry, new_study, tmp_path, capsys):
    from survmeta.living.diff import diff_saved

    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert main(["pool", str(registry), "--no-hierarchical", "--save", str(old)]) == 0
    add_study(registry, new_study)
    assert main(["pool", str(registry), "--no-hierarchical", "--save", str(new)]) == 0
    capsys.readouterr()
    report = diff_saved(old, new)
    repooled = diff_since(registry, old)  # the registry now, pooled as the old file records
    cols = ["question", "status", "k_old", "k_new", "added", "hr_old", "hr_old_lower",
            "hr_old_upper", "hr_new", "hr_new_lower", "hr_new_upper", "tau_old", "tau_new",
            "p_old", "p_new"]
    assert report.table[cols].to_dict("records") == repooled.table[cols].to_dict("records")
    assert report.sentences == repooled.sentences and report.notes == []
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{new} compared with {old}\n")
    assert "oligo_vs_systemic: 1 comparison added (delta2025/os)" in out
    assert "rechallenge: unchanged" in out
    # a schema-1 file (written before schema_version) compares the same
    assert diff_saved(SAVED_V1, new).sentences == report.sentences
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == report.sentences


def test_two_saved_files_clear_errors(registry, tmp_path, capsys):
    saved = tmp_path / "saved.json"
    assert main(["pool", str(registry), "--no-hierarchical", "--save", str(saved)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 9, "questions": []}', encoding="utf-8")
    capsys.readouterr()
    assert main(["diff", str(saved), str(bad)]) == 2
    assert "schema version 9" in capsys.readouterr().err
    assert main(["diff", str(saved), str(saved), "--since", "HEAD"]) == 2
    assert "--since: not used when comparing two saved results files" in capsys.readouterr().err
    assert main(["diff", str(registry)]) == 2
    assert "give --since" in capsys.readouterr().err
