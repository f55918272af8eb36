"""survmeta benchmark: exact engine, MCMC efficiency, main-job wall time.

Run from the repository root::

    .venv/bin/python benchmarks/bench.py            # everything
    .venv/bin/python benchmarks/bench.py --quick    # fewer repeats, no cold job

Prints three tables (see docs/performance.md for recorded numbers and targets):

1. exact engine (quadrature over tau) time for k = 6, 65 and 1000 studies,
   and (1b, alone with ``--pool``) ``survmeta.pool()`` of one question with the
   exact engine and default outputs at k = 13 and 100;
2. MCMC wall time, ESS/s of mu and tau, and divergences of the marginal
   random-effects model against a naive centred PyMC model, on Crins et al.
   2014, eight schools and dat.bcg;
3. wall time of ``survmeta pool studies.toml`` with a fresh PyTensor compile
   cache (cold) and with the cache filled (warm).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 20260101

# ---------------------------------------------------------------- data sets
# Crins et al. (2014), acute rejection counts (bayesmeta's CrinsEtAl2014 data set);
# log odds ratios with 0.5 added to the cells of tables with a zero cell.
CRINS = dict(a=[14, 16, 3, 9, 4, 0], n1=[61, 28, 18, 54, 36, 50],
             c=[15, 19, 8, 29, 11, 3], n2=[20, 28, 12, 54, 36, 34])
# Eight schools (Rubin 1981; Gelman et al., Bayesian Data Analysis, Table 5.2).
SCHOOLS_Y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]
SCHOOLS_SE = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]
# dat.bcg (metafor; Colditz et al. 1994): tpos, tneg, cpos, cneg.
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
       (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619),
       (505, 87886, 499, 87892), (29, 7470, 45, 7232), (17, 1699, 65, 1600),
       (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


def crins():
    a, n1, c, n2 = (np.asarray(CRINS[k], float) for k in ("a", "n1", "c", "n2"))
    b, d = n1 - a, n2 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (x + 0.5 * zero for x in (a, b, c, d))
    return np.log(a * d / (b * c)), np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)


def bcg():
    """Log risk ratios and their SEs (metafor's escalc(measure="RR") formulas)."""
    t = np.asarray(BCG, float)
    tpos, tneg, cpos, cneg = t.T
    y = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    v = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return y, np.sqrt(v)


DATASETS = {
    # name: (y, se, tau prior, mu prior)
    "Crins 2014 (k=6)": (*crins(), "halfnormal(0.5)", "normal(0, 4)"),
    "eight schools (k=8)": (np.array(SCHOOLS_Y), np.array(SCHOOLS_SE), "halfnormal(10)", "normal(0, 100)"),
    "dat.bcg (k=13)": (*bcg(), "halfnormal(0.5)", "normal(0, 4)"),
}


# ---------------------------------------------------------------- helpers
def table(title, header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def machine():
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
           f"Python {platform.python_version()}, {platform.system()}"


# ---------------------------------------------------------------- 1. exact engine
def bench_exact(repeats):
    try:
        from survmeta.exact import bayesmeta
    except ImportError as exc:
        print(f"\nexact engine: skipped ({exc})")
        return
    rng = np.random.default_rng(SEED)
    rows = []
    for k in (6, 65, 1000):
        se = rng.uniform(0.08, 0.4, k)
        y = rng.normal(-0.2, np.sqrt(se**2 + 0.15**2))
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            post = bayesmeta(y, se, tau_prior="halfnormal(0.5)", mu_prior="normal(0, 4)")
            post.mean("mu"), post.mean("tau"), post.eti("mu"), post.eti("tau")
            times.append(time.perf_counter() - t0)
        rows.append((k, f"{1000 * np.median(times):.1f}", f"{1000 * min(times):.1f}",
                     "yes" if np.median(times) < 0.05 or k > 100 else "NO"))
    table("1. exact engine: bayesmeta() + mean and 95% ETI of mu and tau "
          f"(median / min of {repeats} runs)",
          ["k", "median ms", "min ms", "< 50 ms target (k <= 100)"], rows)


# ---------------------------------------------------------------- 1b. pool()
def _effects_registry(k, rng, directory):
    import survmeta as sm

    se = rng.uniform(0.08, 0.4, k)
    y = rng.normal(-0.2, np.sqrt(se**2 + 0.15**2))
    path = Path(directory) / f"effects_k{k}.csv"
    path.write_text("study,estimate,se\n"
                    + "".join(f"study{i + 1},{a:.6f},{b:.6f}\n" for i, (a, b) in enumerate(zip(y, se))))
    return sm.load_effects_csv(path)


def bench_pool(repeats):
    """``survmeta.pool()`` of one question, exact engine, default outputs (warm)."""
    try:
        import survmeta as sm
    except ImportError as exc:
        print(f"\npool(): skipped ({exc})")
        return
    rng = np.random.default_rng(SEED)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, target in ((13, 20.0), (100, 100.0)):
            reg = _effects_registry(k, rng, tmp)
            sm.pool(reg)  # warm: imports and first-call set-up
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                sm.pool(reg)
                times.append(time.perf_counter() - t0)
            med = 1000 * float(np.median(times))
            rows.append((k, f"{med:.1f}", f"{1000 * min(times):.1f}", f"< {target:.0f}",
                         "yes" if med < target else "NO"))
    table(f"1b. pool() of one question, exact engine, default outputs, effects CSV "
          f"(warm; median / min of {repeats} calls)",
          ["k", "median ms", "min ms", "target ms", "met"], rows)


# ---------------------------------------------------------------- 2. MCMC
def _ess_per_s(idata, seconds):
    import arviz as az

    ess = az.ess(idata, var_names=["mu", "tau"], method="bulk")
    return {v: float(ess[v].values) / seconds for v in ("mu", "tau")}


def _samplers():
    """NUTS implementations to time: PyMC's, and nutpie's when it is installed."""
    import importlib.util

    if importlib.util.find_spec("nutpie") is None:
        print("\n(nutpie is not installed: only PyMC's sampler is timed; "
              "`.venv/bin/pip install -e '.[nutpie]'` adds it)")
        return ("pymc",)
    return ("pymc", "nutpie")


def bench_mcmc(draws, tune):
    from survmeta.models import fit_random_effects

    samplers = _samplers()
    rows, ratios = [], []
    for name, (y, se, tau_prior, mu_prior) in DATASETS.items():
        result = {}
        for par in ("marginal", "centred"):
            for sampler in samplers:
                kw = dict(tau_prior=tau_prior, mu_prior=mu_prior, parametrization=par,
                          draws=draws, tune=tune, chains=2, cores=1, random_seed=SEED,
                          nuts_sampler=sampler)
                t0 = time.perf_counter()
                fit_random_effects(y, se, **(kw | {"draws": 100, "tune": 100}))  # warm the cache
                first = time.perf_counter() - t0
                t0 = time.perf_counter()
                idata = fit_random_effects(y, se, **kw)
                seconds = time.perf_counter() - t0
                sampling = float(idata["posterior"].attrs.get("sampling_time", np.nan))
                eps, eps_s = _ess_per_s(idata, seconds), _ess_per_s(idata, sampling)
                div = int(idata["sample_stats"]["diverging"].sum())
                result[par, sampler] = (eps, eps_s, div)
                rows.append((name, par, sampler, f"{first:.2f}", f"{seconds:.2f}",
                             f"{sampling:.2f}", f"{eps['mu']:.0f}", f"{eps['tau']:.0f}", div))

        def ratio(a, b, i=0):
            (m, c) = (result[a][i], result[b][i])
            return min(m["mu"] / c["mu"], m["tau"] / c["tau"])

        naive = ("centred", "pymc")  # what `pm.sample()` gives on the textbook model
        for sampler in samplers:
            mine = ("marginal", sampler)
            r = ratio(mine, naive)
            ok = r >= 5 and result[mine][2] == 0
            ratios.append((name, f"marginal [{sampler}] / centred [pymc]", f"{r:.1f}x",
                           f"{ratio(mine, naive, 1):.1f}x", result[mine][2],
                           "target met" if ok else "TARGET MISSED"))
        if "nutpie" in samplers:  # same sampler on both sides: the parametrization alone
            r = ratio(("marginal", "nutpie"), ("centred", "nutpie"))
            ratios.append((name, "marginal [nutpie] / centred [nutpie]", f"{r:.1f}x",
                           f"{ratio(('marginal', 'nutpie'), ('centred', 'nutpie'), 1):.1f}x",
                           result["marginal", "nutpie"][2], "(for comparison)"))
    table(f"2a. MCMC: {draws} draws + {tune} tuning x 2 chains, 1 core; 'first call' = a "
          "100-draw fit that compiles the model (nutpie: Numba, once per process and data "
          "shape; pymc: PyTensor C, cached on disk); 'wall' = the whole fit call after it, "
          "'sampling' = the NUTS loop only; ESS = bulk ESS",
          ["data", "model", "sampler", "first call s", "wall s", "sampling s", "ESS/wall-s mu",
           "ESS/wall-s tau", "divergences"], rows)
    table("2b. ESS/s ratios (min over mu and tau); target: survmeta's model >= 5x the naive "
          "centred model as `pm.sample()` runs it, with zero divergences",
          ["data", "ratio", "wall", "sampling", "divergences", "verdict"], ratios)


# ---------------------------------------------------------------- 3. main job
def _pool_command():
    exe = Path(sys.executable).with_name("survmeta")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "survmeta.cli"]


def _run_job(env):
    t0 = time.perf_counter()
    proc = subprocess.run(_pool_command() + ["pool", "studies.toml"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - t0, proc.returncode, proc.stderr.strip().splitlines()[-1:]


def bench_job(cold):
    help_ = subprocess.run(_pool_command() + ["pool", "--help"], cwd=ROOT, capture_output=True,
                           text=True)
    if help_.returncode != 0 or not (ROOT / "studies.toml").exists():
        print("\n3. main job: skipped (`survmeta pool` or studies.toml not available)")
        return
    rows = []
    compiledir = tempfile.mkdtemp(prefix="survmeta-bench-")
    try:
        env = os.environ | {"PYTENSOR_FLAGS": f"compiledir={compiledir}"}
        if cold:
            seconds, rc, err = _run_job(env)
            rows.append(("cold (fresh compile cache)", f"{seconds:.1f}", rc, " ".join(err)))
        seconds, rc, err = _run_job(env)
        rows.append(("warm", f"{seconds:.1f}", rc, " ".join(err)))
    finally:
        shutil.rmtree(compiledir, ignore_errors=True)
    table("3. main job: `survmeta pool studies.toml` (target: warm < 20 s)",
          ["run", "wall s", "exit", "last stderr line"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no cold job")
    parser.add_argument("--pool", action="store_true",
                        help="only the pool() table (exact engine, k = 13 and 100)")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--tune", type=int, default=1000)
    args = parser.parse_args(argv)
    print(f"survmeta benchmark, {time.strftime('%Y-%m-%d')}, {machine()}")
    if args.pool:
        bench_pool(repeats=5)
        return
    bench_exact(repeats=3 if args.quick else 7)
    bench_pool(repeats=5)
    bench_mcmc(args.draws, args.tune)
    bench_job(cold=not args.quick)


if __name__ == "__main__":
    main()
