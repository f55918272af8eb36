"""Shared test configuration.

Every test that samples with PyMC or nutpie carries the ``mcmc`` marker, so
``-m "not mcmc"`` is a lane without MCMC. The guard below keeps that true: a
test without the marker that calls ``pymc.sample`` or ``nutpie.sample`` fails,
naming the test. It wraps the samplers when (and only if) they are imported,
so the fast lane still never imports PyMC for the pure core.
"""

import functools
import importlib.abc
import importlib.machinery
import os
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

#: modules whose ``sample`` runs MCMC
_SAMPLERS = ("pymc", "nutpie")
#: the running test, while it has no mcmc marker; the samplers it called
_unmarked: dict = {"nodeid": None, "calls": []}


def _guarded(module_name: str, sample):
    @functools.wraps(sample)
    def sample_if_marked(*args, **kwargs):
        if _unmarked["nodeid"] is not None:
            _unmarked["calls"].append(f"{module_name}.sample")
        return sample(*args, **kwargs)

    sample_if_marked._mcmc_guard = True
    return sample_if_marked


def _guard(module) -> None:
    sample = getattr(module, "sample", None)
    if sample is not None and not getattr(sample, "_mcmc_guard", False):
        module.sample = _guarded(module.__name__, sample)


class _GuardOnImport(importlib.abc.MetaPathFinder):
    """Wraps ``sample`` of a sampler module right after the module is first imported."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _SAMPLERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_guard(module):
            exec_module(module)
            _guard(module)

        spec.loader.exec_module = exec_and_guard
        return spec


def pytest_configure(config):
    for name in _SAMPLERS:
        if name in sys.modules:
            _guard(sys.modules[name])
    sys.meta_path.insert(0, _GuardOnImport())


def _check_sampling(item):
    """Run one phase of ``item``; fail it if it sampled without the mcmc marker."""
    marked = item.get_closest_marker("mcmc") is not None
    _unmarked["nodeid"], _unmarked["calls"] = (None if marked else item.nodeid), []
    try:
        result = yield
    finally:
        calls, _unmarked["nodeid"] = _unmarked["calls"], None
    if calls:
        pytest.fail(f"{item.nodeid} samples ({', '.join(sorted(set(calls)))}) but has no "
                    "mcmc marker: mark it @pytest.mark.mcmc (or avoid the sampling)", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    # a fixture that samples runs in the setup of the first test that asks for it
    return (yield from _check_sampling(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _check_sampling(item))
