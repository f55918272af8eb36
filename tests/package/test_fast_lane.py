"""The fast lane (``./run tests -m "not mcmc"``) collects the pure-core tests without PyMC.

``tests/conftest.py`` fails a test that samples without the ``mcmc`` marker; this
checks the other half: collecting the pure-core test packages in the fast lane
imports neither PyMC nor PyTensor (a test module importing them at the top would,
and would cost the lane the seconds PyMC takes to import). A fresh interpreter
shows what the collection really pulls in.
"""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: test packages of the pure numpy/scipy core (registry, reconstruction, priors, exact engine)
PURE_CORE_TESTS = ["tests/exact", "tests/registry", "tests/reconstruction", "tests/priors", "tests/km"]

_COLLECT = """
import contextlib, io, sys
import pytest
with contextlib.redirect_stdout(io.StringIO()):
    code = pytest.main(["-q", "--collect-only", "-m", "not mcmc", "-p", "no:cacheprovider",
                        "-p", "no:xdist", *sys.argv[1:]])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pymc", "pytensor", "nutpie"})
print(int(code), ",".join(heavy))
"""


def test_fast_lane_collects_the_pure_core_tests_without_pymc():
    out = subprocess.run([sys.executable, "-c", _COLLECT, *PURE_CORE_TESTS], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    code, _, heavy = out.stdout.strip().rpartition("\n")[2].partition(" ")
    assert code == "0", out.stdout[-2000:]
    assert heavy == "", f"collecting {' '.join(PURE_CORE_TESTS)} with -m 'not mcmc' imports {heavy}"
