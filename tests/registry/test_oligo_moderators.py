"""The comparability fields of the ``oligo_vs_systemic`` comparisons (and the local-treatment
comparisons of Brown 2024) in the bundled ``studies.toml``, and the meta-regression they allow.

Each field is checked three ways: its value in the loaded registry, the quoted phrase in its
trailing comment in ``studies.toml`` (copied from the paper), and, for a seed paper, that the
phrase is in the seed text (``shared/seeds/``). A field the paper does not state is pinned as
absent. The meta-regression numbers come from ``tests/reference/metafor_metareg_oligo.Rout``::

    rma(yi, vi, mods = ~ year, data = dat, control = list(threshold = 1e-12, maxiter = 1000))
    rma(yi, vi, mods = ~ year, data = dat, test = "knha", control = ...)
    rma(yi, vi, mods = ~ year, data = dat, method = "DL")

on the rows of ``tests/reference/metafor_export.csv`` with ``question == "oligo_vs_systemic"``.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest

from survmeta.registry import load_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _rref import rref  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "studies.toml"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

#: Agreement with metafor: both fit the same REML equations to a 1e-12 change in tau^2.
RTOL_R = 1e-6

#: (comparison key, field, expected value, quoted phrase in the field's trailing comment,
#: seed file holding the phrase or None for a retrieved abstract).
FILLED = [
    ("heo2021/os_oligo_vs_multi", "oligo_max_sites", 2,
     "one or two sites with progression (oligo-progression)", "heo2021_sci_rep.txt"),
    ("heo2021/os_oligo_vs_multi", "time_origin", "progression", "OS after AR",
     "heo2021_sci_rep.txt"),
    ("xu2023/pfs_oligo_vs_systemic_after_ar", "oligo_max_lesions", 2,
     "disease progression in fewer than three lesions was defined as oligo-progression",
     "xu2023_j_cancer_res_clin_oncol.txt"),
    ("xu2023/pfs_oligo_vs_systemic_after_ar", "time_origin", "rechallenge",
     "PFS after ICI rechallenge", "xu2023_j_cancer_res_clin_oncol.txt"),
    ("xu2023/pfs_systemic_progression_multivariate", "oligo_max_lesions", 2,
     "disease progression in fewer than three lesions was defined as oligo-progression",
     "xu2023_j_cancer_res_clin_oncol.txt"),
    ("xu2023/pfs_systemic_progression_multivariate", "time_origin", "rechallenge",
     "PFS after ICI rechallenge", "xu2023_j_cancer_res_clin_oncol.txt"),
    ("zhou2023/os_oligo_vs_multi", "time_origin", "diagnosis",
     "OS was measured as the period from the diagnosis of lung cancer to death",
     "zhou2023_front_immunol.txt"),
    ("hosoya2021/pps_oligo_vs_non_oligo", "oligo_max_lesions", 5,
     "Oligoprogression was defined as disease progression in up to 5 individual progressive"
     " lesions", None),
    ("hosoya2021/pps_oligo_vs_non_oligo", "time_origin", "progression",
     "Among patients with AR, patterns of AR and post-progression survival (PPS) were"
     " investigated", None),
    ("hosoya2021/pps_oligo_vs_non_oligo", "line", 1,
     "NSCLC patients with PD-L1 tumor proportion scores of ≥50% who received first-line"
     " pembrolizumab", None),
    ("chai2021/os_oligo_vs_systemic", "oligo_max_sites", 2,
     "56 (61.5%) patients had shown ≤2 progression sites (oligo-progression)", None),
    ("brown2024/pfs2_radiotherapy_oligo", "line", 1,
     "patients with metastatic NSCLC who had completed first-line programmed death-(ligand) 1"
     " inhibitor therapy", None),
    ("brown2024/os_radiotherapy_oligo", "line", 1,
     "patients with metastatic NSCLC who had completed first-line programmed death-(ligand) 1"
     " inhibitor therapy", None),
]

#: Fields the source text does not state (left out of the registry), with the reason.
NOT_STATED = [
    ("heo2021/os_oligo_vs_multi", "line", "anti-PD-1/PD-L1 2011-2018, no line given"),
    ("xu2023/pfs_oligo_vs_systemic_after_ar", "line", "ICI monotherapy, no line given"),
    ("xu2023/pfs_systemic_progression_multivariate", "line", "ICI monotherapy, no line given"),
    ("zhou2023/os_oligo_vs_multi", "oligo_max_lesions", "no oligo-progression definition"),
    ("zhou2023/os_oligo_vs_multi", "oligo_max_sites", "no oligo-progression definition"),
    ("zhou2023/os_oligo_vs_multi", "line", "any line (Table 1: first line 84 of 190)"),
    ("hosoya2021/pps_oligo_vs_non_oligo", "oligo_max_sites", "defined by lesions, not sites"),
    ("cancers2020_opd/survival_opd_vs_multifocal", "oligo_max_lesions", "no definition"),
    ("cancers2020_opd/survival_opd_vs_multifocal", "oligo_max_sites", "no definition"),
    ("cancers2020_opd/survival_opd_vs_multifocal", "time_origin", "not stated"),
    ("cancers2020_opd/survival_opd_vs_multifocal", "line", "first and later lines"),
    ("chai2021/os_oligo_vs_systemic", "time_origin", "not stated"),
    ("chai2021/os_oligo_vs_systemic", "line", "first- or second-line ICIs"),
]

ATTR = {"line": "therapy_line"}


def _value(key: str, field: str):
    return getattr(load_registry(REGISTRY).comparison(key), ATTR.get(field, field))


def _field_comment(key: str, field: str) -> str | None:
    """The trailing comment of ``field = ...`` inside the comparison ``key`` of studies.toml."""
    study, comparison = key.split("/")
    table = current_study = current = None
    for line in REGISTRY.read_text(encoding="utf-8").splitlines():
        if line.startswith("[["):
            table, current = line, None
        elif line.startswith("id = "):
            if table == "[[study]]":
                current_study = line
            current = line
        elif (table == "[[study.comparison]]" and current_study == f'id = "{study}"'
              and current == f'id = "{comparison}"' and line.startswith(f"{field} = ")):
            quoted = re.search(r'  # "([^"]*)"', line)
            return quoted.group(1) if quoted else None
    return None


def _normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("key, field, value, quote, seed", FILLED,
                         ids=[f"{k}:{f}" for k, f, *_ in FILLED])
def test_filled_field_value_and_quote(key, field, value, quote, seed):
    assert _value(key, field) == value
    assert _field_comment(key, field) == quote


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed papers not found ({SEEDS})")
@pytest.mark.parametrize("key, field, value, quote, seed",
                         [row for row in FILLED if row[4] is not None],
                         ids=[f"{k}:{f}" for k, f, _, _, s in FILLED if s is not None])
def test_seed_quote_is_in_the_seed_text(key, field, value, quote, seed):
    assert _normalise(quote) in _normalise((SEEDS / seed).read_text(encoding="utf-8"))


@pytest.mark.parametrize("key, field, why", NOT_STATED, ids=[f"{k}:{f}" for k, f, _ in NOT_STATED])
def test_unstated_field_is_left_out(key, field, why):
    assert _value(key, field) is None, why


def test_every_oligo_vs_systemic_comparison_is_covered():
    reg = load_registry(REGISTRY)
    keys = {f"{s.id}/{c.id}" for s in reg.studies for c in s.comparisons
            if c.question == "oligo_vs_systemic"}
    covered = {k for k, *_ in FILLED} | {k for k, *_ in NOT_STATED}
    assert keys <= covered, sorted(keys - covered)


def test_metareg_on_the_bundled_question_matches_metafor():
    from survmeta.cli.metareg import analyse
    from survmeta.exact import rma_mods

    q, rows, _, res = analyse(REGISTRY, "oligo_vs_systemic", "year")
    assert q == "oligo_vs_systemic" and len(rows) == 4
    assert all(math.isfinite(c.estimate) and math.isfinite(c.se) for c in res.coefficients)
    r = rref("metafor_metareg_oligo")
    y, s = rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float)
    years = rows["year"].to_numpy(float)
    for key, kw in [("oligo.year.REML", {}), ("oligo.year.REML.knha", {"test": "knha"}),
                    ("oligo.year.DL", {"method": "DL"})]:
        fit = rma_mods(y, s, {"year": years}, **kw)
        assert r[f"{key}.k"] == 4
        for j, c in enumerate(fit.coefficients):
            assert c.estimate == pytest.approx(r[f"{key}.b{j}.b"], rel=RTOL_R)
            assert c.se == pytest.approx(r[f"{key}.b{j}.se"], rel=RTOL_R)
            assert c.pval == pytest.approx(r[f"{key}.b{j}.pval"], rel=RTOL_R)
        assert fit.tau2 == pytest.approx(r[f"{key}.tau2"], rel=RTOL_R, abs=1e-10)
        assert fit.QM == pytest.approx(r[f"{key}.QM"], rel=RTOL_R)


def test_counts_of_filled_fields_match_the_r_reference():
    """metafor sees the same missing values: REF nonmissing.<field> for the four pooled rows."""
    from survmeta.cli.metareg import analyse

    _, rows, _, _ = analyse(REGISTRY, "oligo_vs_systemic", "year")
    r = rref("metafor_metareg_oligo")
    for field in ("oligo_max_lesions", "oligo_max_sites", "time_origin", "line"):
        assert int(rows[field].notna().sum()) == r[f"nonmissing.{field}"], field


@pytest.mark.parametrize("mods, missing", [
    ("oligo_max_lesions", "heo2021, cancers2020_opd, chai2021 (3 of 4 comparisons"),
    ("oligo_max_sites", "xu2023, cancers2020_opd (2 of 4 comparisons"),
    ("time_origin", "cancers2020_opd, chai2021 (2 of 4 comparisons"),
    ("line", "heo2021, xu2023, cancers2020_opd, chai2021 (4 of 4 comparisons"),
])
def test_incomplete_moderator_is_a_clear_error(capsys, mods, missing):
    from survmeta.cli import main

    assert main(["metareg", str(REGISTRY), "--question", "oligo_vs_systemic",
                 "--mods", mods]) == 2
    err = capsys.readouterr().err
    assert f"moderator {mods!r}: no value for {missing}" in err
    assert "use a moderator every comparison has: year" in err
    assert "Traceback" not in err
