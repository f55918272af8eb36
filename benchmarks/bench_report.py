"""survmeta benchmark: ``survmeta report`` on a large generated registry.

Run from the repository root::

    .venv/bin/python benchmarks/bench_report.py                    # 2,000 studies / 50 questions
    .venv/bin/python benchmarks/bench_report.py --studies 200 --questions 5 --format md

Writes a seeded registry (``--seed``; the numbers are invented: log HRs drawn
around a per-question effect, CIs from an SE that falls with the study's size,
one comparison in five given as two medians with a p-value and group sizes
instead of an HR), then runs ``survmeta report`` on it in a subprocess under
``/usr/bin/time -v`` and prints the wall time, the peak resident memory of the
process and the size of what was written. docs/performance.md records the
numbers (target: under 60 s and 500 MB at 2,000 studies / 50 questions).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 20260101


def generate_registry(n_studies: int, n_questions: int, seed: int = SEED) -> str:
    """A valid registry of ``n_studies`` one-comparison studies spread over ``n_questions``.

    Parameters
    ----------
    n_studies, n_questions : int
    seed : int
        Seed of the numpy generator; the same seed gives the same text.

    Returns
    -------
    str
        The TOML text.
    """
    rng = np.random.default_rng(seed)
    out = ["schema_version = 1", ""]
    effects = rng.normal(-0.2, 0.25, n_questions)
    taus = rng.uniform(0.0, 0.3, n_questions)
    for q in range(n_questions):
        out += ["[[question]]", f'id = "q{q:02d}"', f'title = "Generated question {q}"',
                'experimental = "experimental"', 'reference = "control"', 'outcome = "OS"', ""]
    for s in range(n_studies):
        q = s % n_questions
        n_e, n_r = (int(x) for x in rng.integers(30, 400, 2))
        se = 2.0 / math.sqrt(0.6 * (n_e + n_r))
        y = rng.normal(effects[q], math.sqrt(taus[q] ** 2 + se ** 2))
        out += ["[[study]]", f'id = "s{s:04d}"', f'citation = "Author {s}. J Gen. 2020;{s}:1."',
                f"year = {2000 + s % 25}", 'design = "rct"', 'population = "generated"', "",
                "[[study.comparison]]", 'id = "c1"', f'question = "q{q:02d}"', 'endpoint = "OS"',
                'quote = "generated"', 'location = "Table 1"']
        if s % 5 == 4:
            m_r = float(rng.uniform(6, 24))
            m_e = m_r * math.exp(-y)
            z = y / se
            p = max(math.erfc(abs(z) / math.sqrt(2)), 1e-4)
            out += [f'experimental = {{ label = "experimental", n = {n_e}, median = {m_e:.1f} }}',
                    f'reference = {{ label = "control", n = {n_r}, median = {m_r:.1f} }}',
                    f'p = "{p:.4f}"',
                    'direction = "favours experimental"' if y < 0 else
                    'direction = "favours reference"']
        else:
            lo, hi = math.exp(y - 1.959964 * se), math.exp(y + 1.959964 * se)
            out += [f'experimental = {{ label = "experimental", n = {n_e} }}',
                    f'reference = {{ label = "control", n = {n_r} }}',
                    f"hr = {{ estimate = {math.exp(y):.3f}, ci = [{lo:.3f}, {hi:.3f}] }}"]
        out.append("")
    return "\n".join(out)


def _time_v(stderr: str) -> tuple[float | None, float | None, float | None]:
    """(wall seconds, CPU seconds (user + system), peak RSS in MB) from ``/usr/bin/time -v``."""
    wall = rss = cpu = None
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", stderr)
    if user and system:
        cpu = float(user.group(1)) + float(system.group(1))
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    if m:
        wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if m:
        rss = int(m.group(1)) / 1024
    return wall, cpu, rss


def _size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=2000)
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--format", choices=("html", "md"), default="html")
    ap.add_argument("--layout", choices=("auto", "single", "paged"), default="auto",
                    help="report layout (default: auto, paged at this size)")
    ap.add_argument("--hierarchical", action="store_true",
                    help="also fit the hierarchical model (PyMC; off by default: it measures "
                         "the sampler, not the report)")
    ap.add_argument("--keep", metavar="DIR", help="write the registry and report here and keep them")
    args = ap.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="survmeta-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        registry = work / "studies.toml"
        registry.write_text(generate_registry(args.studies, args.questions, args.seed),
                            encoding="utf-8")
        out = work / "report"
        if out.exists():
            shutil.rmtree(out)
        exe = Path(sys.executable).with_name("survmeta")
        cmd = [str(exe), "report", str(registry), "--out", str(out), "--format", args.format,
               "--layout", args.layout,
               "--hierarchical" if args.hierarchical else "--no-hierarchical"]
        timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
        env = dict(os.environ)
        src = str(ROOT / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "") if env.get(
            "PYTHONPATH") else src
        t0 = time.perf_counter()
        proc = subprocess.run(timer + cmd, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, sep="\n", file=sys.stderr)
            return proc.returncode
        wall, cpu, rss = _time_v(proc.stderr)
        n_files, n_bytes = _size(out)
        pages = sorted(out.rglob("*.html")) + sorted(out.rglob("*.md"))
        largest = max((p.stat().st_size for p in pages), default=0)
        print(f"registry: {args.studies} studies, {args.questions} questions, seed {args.seed}")
        print(f"survmeta report --format {args.format} --layout {args.layout}"
              f"{' --hierarchical' if args.hierarchical else ' --no-hierarchical'}")
        print(f"  wall time     {wall if wall is not None else elapsed:8.1f} s")
        if cpu is not None:
            print(f"  CPU time      {cpu:8.1f} s (user + system)")
        print(f"  peak RSS      {rss:8.0f} MB" if rss is not None else
              "  peak RSS      (no /usr/bin/time)")
        print(f"  written       {n_files} files, {n_bytes / 1e6:.1f} MB; {len(pages)} pages, "
              f"largest {largest / 1e6:.2f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
