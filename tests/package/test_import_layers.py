"""The pure core (registry, reconstruction, priors, exact engine) imports without PyMC.

The brief requires that these layers import and test in milliseconds without
PyMC or PyTensor; a fresh interpreter shows what an import really pulls in.
"""

import subprocess
import sys

import pytest

CORE = [
    "survmeta",
    "survmeta.registry",
    "survmeta.reconstruction",
    "survmeta.priors",
    "survmeta.exact",
    "survmeta.results",
    "survmeta.pooling",
    "survmeta.grade",
]


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_pymc(module):
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pymc', 'pytensor'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


def test_public_api_names_resolve():
    import survmeta

    for name in ["load_registry", "reconstruct", "pool", "bayesmeta", "parse_prior", "PoolResult"]:
        assert callable(getattr(survmeta, name)), name


def test_pool_and_reconstruct_are_functions_with_their_signatures(tmp_path):
    """Importing the implementing modules leaves ``sm.pool`` / ``sm.reconstruct`` plain functions."""
    import inspect
    import types

    import survmeta
    import survmeta.pooling  # noqa: F401
    import survmeta.reconstruction  # noqa: F401

    for name in ("pool", "reconstruct"):
        assert isinstance(getattr(survmeta, name), types.FunctionType), name
    assert "source" in inspect.signature(survmeta.pool).parameters
    assert "question" in inspect.signature(survmeta.pool).parameters
    assert not any(isinstance(v, types.ModuleType) and callable(v) for v in vars(survmeta).values())

    csv = tmp_path / "e.csv"
    csv.write_text("study,estimate,se\na,-0.5,0.2\nb,-0.1,0.3\n")
    results = survmeta.pool(csv)
    assert results["effects"].k == 2
