"""``survmeta report``: pools the registry and writes the page; user errors exit 2."""

from pathlib import Path

import pytest

from survmeta.cli import main

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"


@pytest.fixture(scope="module")
def registry_path():
    if not REGISTRY.exists():
        pytest.skip("bundled studies.toml not present")
    return REGISTRY


@pytest.mark.mcmc
def test_report_html(registry_path, tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["report", str(registry_path), "--out", str(out), "--layout", "single"])
    assert code == 0
    page = out / "report.html"
    assert f"wrote {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert 'id="fig-oligo_vs_systemic_forest"' in text
    assert "survmeta report studies.toml --out" in text  # the command, in the stamp
    assert "halfnormal(0.5)" in text
    # the default report includes the hierarchical model across questions, with its diagnostics
    assert "Hierarchical model across questions" in text
    assert "--hierarchical" in text
    # described from what ran: priors, covariates, extra error, sampler, diagnostics; its plots
    assert "pooled jointly in a hierarchical model" in text
    assert "log tau_pop ~ normal(-1.75, 0.75)" in text
    # one fit per question group; within each group every question is PFS, so the endpoint
    # covariate is constant and left out, as the paragraph says
    assert "each group fitted separately: rechallenge (" in text
    assert "Question group pfs1_prognostic_factors: its 9 questions" in text
    assert "Not linked: " in text and "immunotherapy_after_alk_tki (in no question group)" in text
    assert "adjusted for endpoint_os" not in text and "as known" in text
    assert "4 chains of 1000 draws after 1000 tuning steps each at a target acceptance rate of 0.99 (seed 20240521)" in text
    assert "Diagnostics (Vehtari 2021): largest rank-normalised R-hat" in text
    assert "hierarchical model: covariates" not in text
    for g in ("rechallenge", "pfs1_prognostic_factors"):
        assert f'id="fig-hierarchical_trace_{g}"' in text and f'id="fig-hierarchical_rank_{g}"' in text
    # a reported HR with its CI as the paper printed it
    assert "<td class=\"num\">2.33 [1.21, 4.47]</td>" in text


def test_report_md_with_prior(registry_path, tmp_path):
    out = tmp_path / "md"
    code = main(["report", str(registry_path), "--out", str(out), "--format", "md",
                 "--tau-prior", "halfcauchy(0.5)", "--question", "oligo_vs_systemic"])
    assert code == 0
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "halfcauchy(0.5)" in text
    assert "(figures/oligo_vs_systemic_forest.png)" in text
    assert (out / "figures" / "oligo_vs_systemic_forest.png").exists()


def test_missing_registry_exits_2(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_prior_exits_2(registry_path, tmp_path, capsys):
    code = main(["report", str(registry_path), "--out", str(tmp_path / "o"),
                 "--tau-prior", "nonsense(1)"])
    assert code == 2
    assert capsys.readouterr().err.strip()


def test_report_svg_and_dpi_in_the_stamp(registry_path, tmp_path):
    out = tmp_path / "svg"
    code = main(["report", str(registry_path), "--out", str(out), "--question",
                 "oligo_vs_systemic", "--no-hierarchical", "--figure-format", "svg",
                 "--dpi", "100"])
    assert code == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    assert '<figure id="fig-oligo_vs_systemic_forest"><svg role="img"' in text
    assert "<img" not in text
    assert "--figure-format svg --dpi 100" in text  # the command, in the stamp


def test_pdf_figures_need_markdown_exits_2(registry_path, tmp_path, capsys):
    code = main(["report", str(registry_path), "--out", str(tmp_path / "o"),
                 "--figure-format", "pdf"])
    assert code == 2
    assert "--format md" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("dpi", ["0", "ninety"])
def test_bad_dpi_exits_2(registry_path, tmp_path, dpi, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", str(registry_path), "--out", str(tmp_path / "o"), "--dpi", dpi])
    assert exc.value.code == 2
    assert "--dpi" in capsys.readouterr().err
