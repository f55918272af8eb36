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
    "survmeta.reconstruct",
    "survmeta.priors",
    "survmeta.exact",
    "survmeta.results",
    "survmeta.pool",
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


def test_pool_and_reconstruct_stay_callable_after_submodule_import(tmp_path):
    """`import survmeta.pool` rebinds survmeta.pool to the module; it must still pool."""
    import survmeta
    import survmeta.pool  # noqa: F401
    import survmeta.reconstruct  # noqa: F401

    csv = tmp_path / "e.csv"
    csv.write_text("study,estimate,se\na,-0.5,0.2\nb,-0.1,0.3\n")
    results = survmeta.pool(csv)
    assert results["effects"].k == 2
