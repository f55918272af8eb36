"""The public API, package by package: exactly the names each ``__all__`` lists.

A failure here means the public API changed. Make the change on purpose: update
the list below and CHANGELOG.md; the API reference (``./run docs``, from
``docs/api``) documents each package's ``__all__`` and follows by itself.

The lists are read from each package's source (its ``__all__`` assignment), so
checking them imports nothing; resolving the names imports the packages, and
``survmeta.models`` imports PyMC.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

PUBLIC_API = {
    "survmeta": [
        "PoolResult", "PoolSet", "Problem", "RegistryError", "SingleArmResult", "SurvmetaError",
        "__version__",
        "add_study", "bayesmeta", "check", "explain", "load", "load_effects_csv", "load_registry",
        "parse_prior", "pool", "pool_question", "reconstruct", "rma", "sensitivity", "write_report",
    ],
    "survmeta.registry": [
        "Arm", "Comparison", "DirectEffect", "LogRank", "NR", "Outcome", "PValue", "Problem", "Question",
        "Registry", "RegistryError", "ReportedHR", "RiskOfBias", "Study", "check", "check_text", "load",
        "load_effects_csv", "load_registry", "load_registry_text",
    ],
    "survmeta.reconstruction": [
        "APPROXIMATE", "COLUMNS", "DEFAULT_ORDER", "Estimate", "METHODS", "NotApplicable",
        "Selection", "estimate_comparison", "explain", "reconstruct",
    ],
    "survmeta.exact": [
        "Baujat", "BayesMetaRegression", "Coefficient", "ExactPosterior", "FrequentistResult",
        "Influence", "LogMedianPool", "MedianOfMedians", "MedianPool", "MedianStudy",
        "MetaRegression", "PosteriorSummary", "ProportionFrequentist", "ProportionPool",
        "RanktestResult", "RegtestResult", "SmallStudyTests", "Tau2Interval", "TrimfillResult",
        "baujat", "bayesmeta", "bmr", "common_effect", "confint_tau2", "cumul", "influence",
        "leave1out", "median_of_medians", "moderator_matrix", "pool_medians",
        "pool_proportions", "ranktest", "regtest", "rma", "rma_glmm_proportions", "rma_mods",
        "rma_proportions", "small_study_tests", "trimfill",
    ],
    "survmeta.living": [
        "AddResult", "add_study", "describe_changes", "diff_results", "diff_since",
        "plot_sensitivity", "sensitivity", "template_text",
    ],
    "survmeta.summaries": ["INTERVAL_KINDS", "Interval", "ParameterSummary"],
    "survmeta.report": ["FIGURE_FORMATS", "FORMATS", "LAYOUTS", "is_paged", "write_report"],
    "survmeta.plotting": [
        "figure_bytes", "plot_baujat", "plot_bubble", "plot_cumulative", "plot_forest",
        "plot_funnel", "plot_funnel_contour", "plot_km", "plot_leave1out",
        "plot_median_forest", "plot_posterior", "plot_proportion_forest", "plot_rank",
        "plot_rob_summary",
        "plot_subgroup_forest", "plot_tau", "plot_trace", "plot_variants", "save_figure",
    ],
    "survmeta.models": [
        "MCMCMetaRegression", "SingleArmFit", "SingleArmSummary", "UnsupportedPriorError",
        "build_random_effects_model", "diagnose", "fit_hierarchical", "fit_log_medians",
        "fit_metareg", "fit_proportions", "fit_random_effects",
    ],
}


def _declared_all(package: str) -> list[str]:
    """The ``__all__`` of ``package``'s ``__init__.py`` (or module), evaluated from its source."""
    init = SRC.joinpath(*package.split("."), "__init__.py")
    if not init.exists():  # a public module rather than a package (survmeta.summaries)
        init = SRC.joinpath(*package.split(".")).with_suffix(".py")
    tree = ast.parse(init.read_text(encoding="utf-8"))
    found = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            found = node.value
    assert found is not None, f"{init} has no __all__"
    names = []
    for elt in found.elts:
        if isinstance(elt, ast.Starred):  # survmeta: [..., *_LAZY], the lazily imported names
            lazy = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                        and getattr(n.targets[0], "id", None) == elt.value.id)
            names += [k.value for k in lazy.keys]
        else:
            names.append(elt.value)
    return names


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_all_lists_the_public_api(package):
    declared = _declared_all(package)
    assert len(declared) == len(set(declared)), f"{package}.__all__ lists a name twice"
    assert sorted(declared) == sorted(PUBLIC_API[package])


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_every_public_name_resolves_and_is_documented(package):
    """Each name exists, and each public function or class has a docstring (the API reference)."""
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(PUBLIC_API[package])
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{package}.{name} has no docstring"
