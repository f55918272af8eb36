"""Reproducibility stamp: package versions, seed, engine, priors, hash of the registry."""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
from importlib import metadata
from pathlib import Path

#: Distributions whose versions the stamp records (looked up without importing them).
PACKAGES = ("survmeta", "numpy", "scipy", "pandas", "xarray", "matplotlib", "pymc", "arviz",
            "arviz-plots")


def package_versions(packages=PACKAGES) -> dict[str, str]:
    """Installed version of each distribution (``"not installed"`` when absent)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def sha256_file(path) -> str | None:
    """Hex SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def registry_path(poolset, registry=None, path=None) -> Path | None:
    """The registry file behind a report: explicit, from the Registry, or from the PoolSet."""
    for cand in (path, getattr(registry, "path", None),
                 (getattr(poolset, "meta", None) or {}).get("source")):
        if cand:
            return Path(cand)
    return None


def make_stamp(poolset, registry=None, path=None, command: str | None = None,
               now: _dt.datetime | None = None) -> dict:
    """Everything needed to re-run and check a report.

    Parameters
    ----------
    poolset : survmeta.results.PoolSet
        The results reported.
    registry : survmeta.registry.records.Registry, optional
        The registry (its ``path`` is hashed).
    path : str or os.PathLike, optional
        The registry file, when it is not on ``registry``.
    command : str, optional
        The command line that produced the report.
    now : datetime, optional
        Time stamp (default: now, UTC).

    Returns
    -------
    dict
        ``generated``, ``registry`` (file name), ``registry_sha256``, ``engine``,
        ``seed``, ``level``, ``priors``, ``command``, ``versions``.
    """
    results = list(poolset.values())
    p = registry_path(poolset, registry, path)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    seeds = sorted({r.seed for r in results if r.seed is not None})
    meta = getattr(poolset, "meta", {}) or {}
    if not seeds and meta.get("seed") is not None:
        seeds = [meta["seed"]]
    priors = sorted({f"mu ~ {r.prior_text('mu')}, tau ~ {r.prior_text('tau')}" for r in results})
    return {
        "generated": now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "registry": p.name if p else None,
        "registry_sha256": sha256_file(p) if p else None,
        "engine": ", ".join(sorted({r.engine for r in results})) or meta.get("engine"),
        "seed": ", ".join(str(s) for s in seeds) if seeds else None,
        "level": results[0].level if results else meta.get("level"),
        "priors": "; ".join(priors) if priors else None,
        "command": command,
        "versions": package_versions(),
    }
