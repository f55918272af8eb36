"""The bundled registry (``studies.toml``) against the seed papers it was extracted from.

These tests read the TOML with :mod:`tomllib` only, so they check the extraction itself
(quotes, numbers, sources, ids) independently of the loader. The seed papers live in
``shared/seeds/`` next to the repository (the repository's parent folder).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "studies.toml"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

SEED_FILES = (
    "heo2021_sci_rep.txt",
    "xu2023_j_cancer_res_clin_oncol.txt",
    "passaro2022_j_clin_oncol.txt",
    "alk_tki_2025_transl_lung_cancer_res.txt",
    "zhou2023_front_immunol.txt",
)

needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(),
    reason=f"seed papers not found (expected shared/seeds/ next to the repository: {SEEDS})",
)

_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d])")
_ELLIPSIS = re.compile(r"\.\.\.|…")


def _registry() -> dict:
    with REGISTRY.open("rb") as fh:
        return tomllib.load(fh)


def _normalise(text: str) -> str:
    """Collapse every run of whitespace (spaces, tabs, newlines) into one space."""
    return " ".join(text.split())


def _comparisons() -> list[tuple[dict, dict]]:
    return [(s, c) for s in _registry()["study"] for c in s.get("comparison", [])]


def _comparison_ids() -> list[str]:
    return [f"{s['id']}/{c['id']}" for s, c in _comparisons()]


def _numbers_in(text: str) -> set[float]:
    return {float(t) for t in _NUMBER.findall(text)}


def _derived_fields(comparison: dict) -> set[str]:
    return {entry.split(":", 1)[0].strip() for entry in comparison.get("derived", [])}


def _printed_values(comparison: dict) -> list[tuple[str, float]]:
    """(field path, number) for every number the comparison says the paper printed."""
    out: list[tuple[str, float]] = []

    def add_p(path: str, text: str) -> None:
        for token in _NUMBER.findall(str(text)):
            out.append((path, float(token)))

    for side in ("experimental", "reference"):
        arm = comparison[side]
        for key in ("n", "events", "median", "expected"):
            if isinstance(arm.get(key), (int, float)):
                out.append((f"{side}.{key}", float(arm[key])))
        for bound in arm.get("ci", []):
            if isinstance(bound, (int, float)):
                out.append((f"{side}.ci", float(bound)))
    if "p" in comparison:
        add_p("p", comparison["p"])
    hr = comparison.get("hr")
    if hr is not None:
        out.append(("hr.estimate", float(hr["estimate"])))
        for bound in hr.get("ci", []):
            if isinstance(bound, (int, float)):
                out.append(("hr.ci", float(bound)))
        if "p" in hr:
            add_p("hr.p", hr["p"])
    if "chisq" in comparison:
        out.append(("chisq", float(comparison["chisq"])))
    for table in ("logrank", "effect"):
        for key, value in comparison.get(table, {}).items():
            out.append((f"{table}.{key}", float(value)))
    return out


def _excused(path: str, derived: set[str]) -> bool:
    """A field is excused when it, or a parent of it, is listed in ``derived``."""
    parts = path.split(".")
    return any(".".join(parts[:i]) in derived for i in range(1, len(parts) + 1))


def test_registry_parses_with_schema_version_1():
    data = _registry()
    assert data["schema_version"] == 1
    assert data["question"] and data["study"]


def test_ids_unique():
    data = _registry()
    qids = [q["id"] for q in data["question"]]
    assert len(qids) == len(set(qids)), "duplicate question ids"
    sids = [s["id"] for s in data["study"]]
    assert len(sids) == len(set(sids)), "duplicate study ids"
    for study in data["study"]:
        cids = [c["id"] for c in study.get("comparison", [])]
        assert len(cids) == len(set(cids)), f"duplicate comparison ids in {study['id']}"


def test_references_resolve():
    data = _registry()
    qids = {q["id"] for q in data["question"]}
    for study in data["study"]:
        cids = {c["id"] for c in study.get("comparison", [])}
        for c in study.get("comparison", []):
            assert c["question"] in qids, f"{study['id']}/{c['id']}: unknown question"
            if "subgroup_of" in c:
                assert c["subgroup_of"] in cids - {c["id"]}, (
                    f"{study['id']}/{c['id']}: subgroup_of names no other comparison of the study"
                )


def test_every_question_is_used():
    data = _registry()
    used = {c["question"] for _, c in _comparisons()}
    used |= {o["question"] for s in data["study"] for o in s.get("outcome", [])}
    unused = [q["id"] for q in data["question"] if q["id"] not in used]
    assert not unused, f"questions without a comparison or single-group outcome: {unused}"


def test_status_and_direction_vocabulary():
    for study, c in _comparisons():
        key = f"{study['id']}/{c['id']}"
        if "status" in c:
            assert c["status"].startswith("not poolable: ") and len(c["status"]) > 20, key
        if "direction" in c:
            assert c["direction"] in ("favours experimental", "favours reference"), key


@pytest.mark.parametrize("key", _comparison_ids())
def test_derived_names_a_field_that_is_set(key):
    study_id, _, comparison_id = key.partition("/")
    study, c = next((s, c) for s, c in _comparisons() if (s["id"], c["id"]) == (study_id, comparison_id))
    for field in _derived_fields(c):
        node = c
        for part in field.split("."):
            assert isinstance(node, dict) and part in node, f"{key}: derived names unset field {field!r}"
            node = node[part]


def test_every_study_source_exists_and_each_seed_is_used_once():
    sources = [s["source"] for s in _registry()["study"] if "source" in s]
    assert sorted(sources) == sorted(SEED_FILES), "each seed file is used by exactly one study"


def test_published_studies_name_the_retrieved_text():
    """Studies beyond the seeds (no ``source`` file) say where their quotes were read."""
    for study in _registry()["study"]:
        if "source" not in study:
            assert re.search(r"Source: [^ ]+ on https?://", study.get("notes", "")), study["id"]


@needs_seeds
def test_source_files_exist():
    for study in _registry()["study"]:
        if "source" not in study:
            continue
        assert (SEEDS / study["source"]).is_file(), f"{study['id']}: missing {study['source']}"


def _seed_comparison_ids() -> list[str]:
    return [f"{s['id']}/{c['id']}" for s, c in _comparisons() if "source" in s]


@needs_seeds
@pytest.mark.parametrize("key", _seed_comparison_ids())
def test_quote_is_in_the_seed_file(key):
    study_id, _, comparison_id = key.partition("/")
    study, c = next((s, c) for s, c in _comparisons() if (s["id"], c["id"]) == (study_id, comparison_id))
    seed = _normalise((SEEDS / study["source"]).read_text(encoding="utf-8"))
    fragments = [_normalise(f) for f in _ELLIPSIS.split(c["quote"])]
    fragments = [f for f in fragments if f]
    assert fragments, f"{key}: empty quote"
    missing = [f for f in fragments if f not in seed]
    assert not missing, f"{key}: quote fragment(s) not in {study['source']}: {missing}"


@pytest.mark.parametrize("key", _comparison_ids())
def test_every_number_is_in_the_quote_or_derived(key):
    study_id, _, comparison_id = key.partition("/")
    _, c = next((s, c) for s, c in _comparisons() if (s["id"], c["id"]) == (study_id, comparison_id))
    quoted = _numbers_in(_normalise(c["quote"]))
    derived = _derived_fields(c)
    missing = [
        (path, value)
        for path, value in _printed_values(c)
        if value not in quoted and not _excused(path, derived)
    ]
    assert not missing, f"{key}: numbers neither quoted nor derived: {missing}"


def test_bundled_registry_checks_clean():
    try:
        from survmeta.registry import check
    except ImportError as exc:  # the loader is developed separately
        pytest.skip(f"survmeta.registry.check not available: {exc}")
    problems = check(REGISTRY)
    errors = [p.format() for p in problems if p.severity == "error"]
    warnings = [p.format() for p in problems if p.severity != "error"]
    assert not errors, "\n".join(errors)
    assert not warnings, "\n".join(warnings)
