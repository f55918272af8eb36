"""Argument types shared by the commands (no heavy imports: the CLI starts fast)."""

from __future__ import annotations


def nonempty_path(text: str) -> str:
    """argparse ``type`` for a file or folder option: an empty string is refused.

    ``--out ""`` would otherwise mean the current folder (``Path("")`` is
    ``.``), writing where nobody asked.
    """
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty: give a file or folder name")
    return text


def add_sampler_arguments(p) -> None:
    """The PyMC sampler options (``--draws``, ``--tune``, ``--chains``, ``--target-accept``,
    ``--sampler``) of the commands that may sample; read back by :func:`mcmc_options`.
    Unset options leave the models' defaults (:mod:`survmeta.settings`)."""
    from survmeta.settings import (
        MCMC_CHAINS,
        MCMC_DRAWS,
        MCMC_TUNE,
        NUTS_SAMPLER,
        TARGET_ACCEPT,
        TARGET_ACCEPT_HIERARCHICAL,
    )

    p.add_argument("--draws", type=int, default=None,
                   help=f"MCMC draws per chain (default: {MCMC_DRAWS})")
    p.add_argument("--tune", type=int, default=None,
                   help=f"MCMC tuning steps per chain (default: {MCMC_TUNE})")
    p.add_argument("--chains", type=int, default=None,
                   help=f"MCMC chains (default: {MCMC_CHAINS})")
    p.add_argument("--target-accept", type=float, default=None,
                   help="NUTS target acceptance rate; raise it (e.g. 0.995) if divergences are "
                        f"reported (default: {TARGET_ACCEPT} per question, "
                        f"{TARGET_ACCEPT_HIERARCHICAL} hierarchical)")
    p.add_argument("--sampler", choices=("pymc", "nutpie"), default=None,
                   help=f"NUTS implementation: pymc or nutpie (default: {NUTS_SAMPLER}; nutpie "
                        "is an optional package that "
                        "compiles for seconds once, then samples small models in milliseconds)")


def mcmc_options(args) -> dict:
    """Sampler options given on the command line (:func:`add_sampler_arguments`), checked;
    the models' defaults for those not given.

    Raises
    ------
    SurvmetaError
        A non-positive number of draws or chains, a negative number of tuning steps, or a
        target acceptance rate outside (0, 1).
    """
    from survmeta.errors import SurvmetaError

    opts = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
            "target_accept": args.target_accept}
    for name, value in opts.items():
        if value is None:
            continue
        bad = value < 0 if name == "tune" else value <= 0
        if bad:
            what = "must not be negative" if name == "tune" else "must be positive"
            raise SurvmetaError(f"--{name.replace('_', '-')} {what}, got {value}")
    if args.target_accept is not None and not args.target_accept < 1:
        raise SurvmetaError(f"--target-accept must be below 1, got {args.target_accept}")
    out = {k: v for k, v in opts.items() if v is not None}
    if args.sampler is not None:  # a missing nutpie is reported by the models layer
        out["nuts_sampler"] = args.sampler
    return out


def sampler_argv(args) -> list[str]:
    """The sampler options that were given, as a reader would retype them."""
    out: list[str] = []
    for name in ("draws", "tune", "chains", "target_accept", "sampler"):
        value = getattr(args, name, None)
        if value is not None:
            out += [f"--{name.replace('_', '-')}", f"{value:g}" if isinstance(value, float)
                    else str(value)]
    return out
