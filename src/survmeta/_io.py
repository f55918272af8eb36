"""Small file helpers shared by the commands."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path, data: bytes, before_replace=None) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    An interrupted or failed write leaves either the old file or the new one,
    never a half-written file. The file keeps the permissions of the one it
    replaces; a new file gets the usual ``0o666`` less the umask (``mkstemp``
    alone would leave it readable by its owner only).

    ``before_replace``, if given, is called just before the rename; an
    exception from it abandons the write and leaves ``path`` untouched.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _about(exc, path) from None
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _about(exc, path) from None
        raise


def _about(exc: OSError, path: Path) -> OSError:
    """The same OS error, naming ``path`` (the user's file) instead of the temporary file.

    Messages such as "Permission denied: .studies.toml.k2j4.tmp" would point
    at a file the user never named and that no longer exists.
    """
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, str(path))


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Text twin of :func:`atomic_write_bytes` (no newline translation)."""
    atomic_write_bytes(path, text.encode(encoding))


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
