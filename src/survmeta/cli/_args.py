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
