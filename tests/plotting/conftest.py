"""Figures are drawn with the Agg backend; synthetic and real pooled results as fixtures."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

import synthetic  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "studies.toml"


@pytest.fixture(scope="session")
def result30():
    """Synthetic 30-study question (numbers synthetic by construction)."""
    return synthetic.synthetic_result(30)


@pytest.fixture(scope="session")
def result1():
    """Synthetic single-study question."""
    return synthetic.synthetic_result(1, seed=5)


@pytest.fixture(scope="session")
def result60():
    return synthetic.synthetic_result(60, seed=3)


@pytest.fixture(scope="session")
def result_mcmc():
    """Synthetic result shaped like an MCMC fit (4 chains)."""
    return synthetic.synthetic_result(8, engine="mcmc")


@pytest.fixture(scope="session")
def real_poolset():
    """The bundled registry pooled with the exact engine."""
    if not REGISTRY.exists():
        pytest.skip("bundled studies.toml not present")
    from survmeta.pooling import pool

    return pool(REGISTRY)


@pytest.fixture(scope="session")
def real_registry():
    """The bundled registry (for the HRs as the papers printed them)."""
    if not REGISTRY.exists():
        pytest.skip("bundled studies.toml not present")
    from survmeta.registry import load_registry

    return load_registry(REGISTRY)
