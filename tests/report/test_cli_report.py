"""``survmeta report``: pools the registry and writes the page; user errors exit 2."""

import inspect
from pathlib import Path

import pytest

import synthetic
from survmeta.cli import main
from survmeta.report.methods_text import hierarchical_paragraph
from survmeta.settings import (
    DEFAULT_SEED,
    MCMC_CHAINS,
    MCMC_DRAWS,
    MCMC_TUNE,
    TARGET_ACCEPT_HIERARCHICAL,
)

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"

#: The sampler settings the default report's hierarchical fit runs with (survmeta.settings).
DEFAULT_SAMPLER = {"draws": MCMC_DRAWS, "tune": MCMC_TUNE, "chains": MCMC_CHAINS,
                   "target_accept": TARGET_ACCEPT_HIERARCHICAL}
#: A short run in their place for the page test: what it checks is the page (sections, the
#: methods text as run, figures), not the posterior, so 2 chains of 200 draws after 200 tuning
#: steps do; test_report_html checks that the report asks for the defaults and
#: test_default_sampler_sentence how the methods text gives them.
SHORT_SAMPLER = {"draws": 200, "tune": 200, "chains": 2}


@pytest.fixture(scope="module")
def registry_path():
    if not REGISTRY.exists():
        pytest.skip("bundled studies.toml not present")
    return REGISTRY


@pytest.fixture
def short_hierarchical_fit(monkeypatch):
    """``survmeta.models.fit_hierarchical`` run with :data:`SHORT_SAMPLER`; returns the list of
    the keyword arguments each call received from the report, and the original function."""
    import survmeta.models as models

    original = models.fit_hierarchical
    calls: list[dict] = []

    def short(*args, **kwargs):
        calls.append(dict(kwargs))
        return original(*args, **{**kwargs, **SHORT_SAMPLER})

    monkeypatch.setattr(models, "fit_hierarchical", short)
    return calls, original


def test_default_sampler_sentence():
    """The methods text of a hierarchical fit run with the default settings, as the default
    report runs it (test_report_html checks that it passes none); synthetic draws, so no
    sampler runs."""
    ps = synthetic.synthetic_poolset()
    hier = synthetic.synthetic_hierarchical(list(ps.values()), chains=MCMC_CHAINS,
                                            draws=MCMC_DRAWS)
    attrs = next(iter(hier.values())).posterior["posterior"].attrs
    attrs.update(survmeta_tune=MCMC_TUNE, survmeta_target_accept=TARGET_ACCEPT_HIERARCHICAL,
                 survmeta_random_seed=DEFAULT_SEED)
    text, _ = hierarchical_paragraph(hier)
    assert ("4 chains of 1000 draws after 1000 tuning steps each at a target acceptance rate "
            "of 0.99 (seed 20240521)") in text


@pytest.mark.mcmc
def test_report_html(registry_path, tmp_path, capsys, short_hierarchical_fit):
    calls, original = short_hierarchical_fit
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
    # one fit per question group, each at the default sampler settings (none passed), here
    # replaced by the short run; the methods text gives what ran
    assert len(calls) >= 2 and all(not set(c) & set(DEFAULT_SAMPLER) for c in calls)
    defaults = {k: v.default for k, v in inspect.signature(original).parameters.items()
                if k in DEFAULT_SAMPLER}
    assert defaults == DEFAULT_SAMPLER == {"draws": 1000, "tune": 1000, "chains": 4,
                                           "target_accept": 0.99}
    assert DEFAULT_SEED == 20240521
    assert "2 chains of 200 draws after 200 tuning steps each at a target acceptance rate of 0.99 (seed 20240521)" in text
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
