"""survmeta add / template: byte-preserving merges, refusals leave the file as it was."""

from __future__ import annotations

import difflib
import tomllib

import pytest

from survmeta.cli import main
from survmeta.errors import RegistryError, SurvmetaError
from survmeta.living import add_study, template_text
from survmeta.registry import load_registry

from living_blocks import NEW_STUDY

COMPARISON = """\
[[study.comparison]]
id = "os"
question = "oligo_vs_systemic"   # kept comment
endpoint = "OS"
quote = "HR 0.62 (95% CI 0.40-0.96)"
location = "Results"
experimental = { label = "oligo", n = 40 }
reference = { label = "systemic", n = 50 }

[study.comparison.hr]
estimate = 0.62
ci = [0.40, 0.96]
"""


def only_inserts(before: str, after: str) -> bool:
    ops = difflib.SequenceMatcher(None, before.splitlines(True), after.splitlines(True),
                                  autojunk=False).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in ops)


def test_new_study_is_appended_and_the_original_is_a_prefix(registry, new_study):
    before = registry.read_text(encoding="utf-8")
    result = add_study(registry, new_study)
    after = registry.read_text(encoding="utf-8")
    assert after.startswith(before)
    assert "# a study published after the last update" in after[len(before):]
    assert result.studies == ["delta2025"] and result.comparisons == ["delta2025/os"]
    reg = load_registry(registry)
    assert [s.id for s in reg.studies][-1] == "delta2025"
    assert reg.comparison("delta2025/os").hr.estimate == 0.45


def test_comparison_goes_into_the_named_study_and_only_adds_lines(registry):
    before = registry.read_text(encoding="utf-8")
    add_study(registry, COMPARISON, study="beta2021")
    after = registry.read_text(encoding="utf-8")
    assert only_inserts(before, after)
    reg = load_registry(registry)
    assert [c.id for c in reg.study("beta2021").comparisons] == ["pfs", "rechal", "os"]
    assert reg.comparison("beta2021/os").hr.ci == (0.40, 0.96)
    # the next study is untouched and still follows
    assert [s.id for s in reg.studies] == ["alpha2019", "beta2021", "gamma2023"]


def test_top_level_comparison_tables_are_accepted(registry):
    block = (COMPARISON.replace("[[study.comparison]]", "[[comparison]]")
             .replace("[study.comparison.hr]", "[comparison.hr]").replace('id = "os"', 'id = "os2"'))
    add_study(registry, block, study="gamma2023")
    reg = load_registry(registry)
    assert [c.id for c in reg.study("gamma2023").comparisons] == ["os", "rechal", "os2"]
    assert reg.comparison("gamma2023/os2").hr.estimate == 0.62


def test_crlf_registry_keeps_its_line_endings(registry, new_study):
    crlf = registry.read_bytes().replace(b"\n", b"\r\n")
    registry.write_bytes(crlf)
    add_study(registry, new_study)
    after = registry.read_bytes()
    assert after.startswith(crlf)
    assert b"\n" not in after.replace(b"\r\n", b"")


def _refused(registry, block, study=None):
    before = registry.read_bytes()
    with pytest.raises(RegistryError) as err:
        add_study(registry, block, study=study)
    assert registry.read_bytes() == before, "a refused add must leave the registry byte-identical"
    # no temporary file left; the advisory lock file (.studies.toml.lock) stays by design
    assert sorted(p.name for p in registry.parent.iterdir()
                  if p.name.startswith(".") and p.name != f".{registry.name}.lock") == []
    return err.value


def test_duplicate_study_id_is_refused_naming_the_block_line(registry, tmp_path):
    block = tmp_path / "dup.toml"
    block.write_text(NEW_STUDY.replace('"delta2025"', '"beta2021"'), encoding="utf-8")
    err = _refused(registry, block)
    (p,) = err.problems
    assert p.path == str(block) and p.line == 3 and p.field == "id"
    assert 'duplicate study id "beta2021"' in p.message


def test_unknown_question_is_refused_with_the_validator_message(registry, tmp_path):
    block = tmp_path / "typo.toml"
    block.write_text(NEW_STUDY.replace('question = "oligo_vs_systemic"', 'question = "oligo_vs_systemc"'),
                     encoding="utf-8")
    err = _refused(registry, block)
    errors = [p for p in err.problems if p.severity == "error"]
    assert len(errors) == 1
    assert errors[0].path == str(block) and errors[0].line == 11 and errors[0].field == "question"
    assert 'did you mean "oligo_vs_systemic"' in errors[0].message


def test_validation_error_is_refused_and_file_is_byte_identical(registry, tmp_path):
    block = tmp_path / "bad.toml"
    block.write_text(NEW_STUDY.replace("ci = [0.25, 0.81]", "ci = [0.81, 0.25]"), encoding="utf-8")
    err = _refused(registry, block)
    assert any(p.field == "hr.ci" and p.path == str(block) and p.line == 17 for p in err.problems)


def test_syntax_error_in_the_block_names_its_line(registry, tmp_path):
    block = tmp_path / "syntax.toml"
    block.write_text(NEW_STUDY.replace('year = 2025', 'year = = 2025'), encoding="utf-8")
    err = _refused(registry, block)
    assert err.problems[0].line == 5 and "TOML syntax error" in err.problems[0].message


def test_duplicate_comparison_and_unknown_study_are_refused(registry):
    err = _refused(registry, COMPARISON.replace('id = "os"', 'id = "pfs"'), study="beta2021")
    assert "duplicate comparison id" in err.problems[0].message
    err = _refused(registry, COMPARISON, study="beta2020")
    assert 'did you mean "beta2021"' in err.problems[0].message
    err = _refused(registry, COMPARISON)
    assert "--study" in err.problems[0].message
    err = _refused(registry, NEW_STUDY, study="beta2021")
    assert "[[study]]" in err.problems[0].message


def test_missing_block_file_is_an_error_not_a_traceback(registry, tmp_path):
    with pytest.raises(SurvmetaError, match="no such file"):
        add_study(registry, tmp_path / "absent.toml")


def test_dry_run_writes_nothing(registry, new_study):
    before = registry.read_bytes()
    result = add_study(registry, new_study, dry_run=True)
    assert registry.read_bytes() == before and not result.written
    assert "delta2025" in result.text


def test_template_is_toml_and_an_unfilled_one_is_refused(registry, tmp_path, capsys):
    assert main(["template", "--question", "oligo_vs_systemic", "--registry", str(registry)]) == 0
    text = capsys.readouterr().out
    data = tomllib.loads(text)
    assert data["study"][0]["comparison"][0]["question"] == "oligo_vs_systemic"
    block = tmp_path / "blank.toml"
    block.write_text(text, encoding="utf-8")
    before = registry.read_bytes()
    assert main(["add", str(registry), "--from", str(block)]) == 2
    err = capsys.readouterr().err
    assert f"{block}:7: study" in err and "must not be empty" in err
    assert "the registry was not changed" in err
    assert registry.read_bytes() == before


def test_filled_comparison_template_can_be_added(registry, tmp_path, capsys):
    text = template_text("oligo_vs_systemic", comparison_only=True)
    filled = (text.replace('id = ""', 'id = "os2"', 1).replace('endpoint = ""', 'endpoint = "OS"')
              .replace('quote = ""', 'quote = "HR 0.7 (0.5-0.98)"')
              .replace('location = ""', 'location = "Abstract"')
              .replace('experimental = { label = "" }', 'experimental = { label = "oligo" }')
              .replace('reference = { label = "" }', 'reference = { label = "systemic" }')
              .replace("# hr = { estimate = 0.5, ci = [0.3, 0.8], level = 0.95, adjusted = true }",
                       "hr = { estimate = 0.7, ci = [0.5, 0.98] }"))
    block = tmp_path / "comparison.toml"
    block.write_text(filled, encoding="utf-8")
    assert main(["add", str(registry), "--from", str(block), "--study", "alpha2019"]) == 0
    assert "added 1 comparison (alpha2019/os2)" in capsys.readouterr().out
    assert load_registry(registry).comparison("alpha2019/os2").hr.estimate == 0.7


def test_template_rejects_an_unknown_question(registry, capsys):
    assert main(["template", "--question", "oligo", "--registry", str(registry)]) == 2
    assert "unknown question" in capsys.readouterr().err


def test_template_refuses_a_registry_it_cannot_read(tmp_path, capsys):
    missing = tmp_path / "nonexistent.toml"
    assert main(["template", "--registry", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"survmeta template: error: --registry {missing}: no such file\n"
    broken = tmp_path / "broken.toml"
    broken.write_text("[[question]\nid = 'x'\n", encoding="utf-8")
    assert main(["template", "--registry", str(broken)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"--registry {broken}: cannot read the question ids" in captured.err


def test_template_without_a_registry_uses_studies_toml_only_if_present(tmp_path, monkeypatch,
                                                                       capsys, registry):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)  # no studies.toml here: the default is optional
    assert main(["template", "--question", "anything"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["study"][0]["comparison"][0]["question"] == "anything"
    monkeypatch.chdir(registry.parent)  # the default studies.toml is read when present
    assert main(["template", "--question", "oligo"]) == 2
    assert 'unknown question "oligo" in studies.toml' in capsys.readouterr().err
