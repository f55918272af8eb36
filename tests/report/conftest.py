"""Report tests share the synthetic results of the figure tests."""

import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

_HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("synthetic", _HERE.parent / "plotting" / "synthetic.py")
synthetic = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("synthetic", synthetic)
_spec.loader.exec_module(synthetic)

REPO = _HERE.resolve().parents[1]
REGISTRY = REPO / "studies.toml"


@pytest.fixture(scope="session")
def synthetic_poolset():
    """Two synthetic questions (30 studies, 1 study) and one that could not be pooled."""
    return synthetic.synthetic_poolset()


@pytest.fixture(scope="session")
def real_registry():
    if not REGISTRY.exists():
        pytest.skip("bundled studies.toml not present")
    from survmeta.registry import load_registry

    return load_registry(REGISTRY)


@pytest.fixture(scope="session")
def real_poolset(real_registry):
    from survmeta.pooling import pool

    return pool(real_registry)


@pytest.fixture(scope="session")
def real_report_page(real_poolset, real_registry, tmp_path_factory):
    """The bundled registry's report as one HTML page with PNG figures (the defaults), written
    once for the tests that only read it."""
    from survmeta.report import write_report

    return write_report(real_poolset, real_registry, tmp_path_factory.mktemp("real_report"),
                        fmt="html", registry_file=real_registry.path, layout="single")
