"""Merge a study (or a comparison) into a registry without touching anything else.

``add_study`` appends the text of a ``[[study]]`` block to the registry, or
splices ``[[study.comparison]]`` blocks into the end of an existing study.
The registry's own text is never re-rendered: every byte of it stays where it
was, and the new block keeps its own comments and layout. The merged text is
parsed with tomlkit and compared with the intended document (the original
plus the new tables); if a plain splice would not give exactly that (an
unusual layout), the tables are appended through tomlkit instead. The result
is validated like any registry, and only a clean result replaces the file, by
writing a temporary file in the same folder and renaming it over the original.
A refused add leaves the registry byte-for-byte as it was.

Safety
------
* The read-check-write runs under an advisory lock (:mod:`filelock`,
  ``.<name>.lock`` beside the registry): concurrent adds are serialised, and
  each merges into the text the previous one wrote, so none is lost.
* A read-only registry is refused (nothing written).
* A symbolic link is followed: the real file is changed, the link stays.
* A file with several hard links is written in place (after the merged text
  has been validated and written to a temporary copy), so every link sees
  the change; otherwise the rename is atomic.
* The temporary file is removed on every exit path; one left by an add that
  was killed is removed by the next add (under the lock).

Block forms
-----------
* one or more ``[[study]]`` tables, each with its ``[[study.comparison]]``
  tables: new studies, appended at the end of the registry;
* ``[[study.comparison]]`` (or ``[[comparison]]``) tables only: new
  comparisons of the existing study named by ``study=`` (``--study``).
"""

from __future__ import annotations

import copy
import glob
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import tomlkit

from survmeta._io import atomic_write_bytes
from survmeta.errors import Problem, RegistryError, SurvmetaError
from survmeta.registry.load import parse_toml, syntax_problem

__all__ = ["AddResult", "add_study", "merge_text"]

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\]#]+?)[ \t]*\]\]?[ \t]*(#.*)?$")


@dataclass
class AddResult:
    """What an add did (or would do, with ``dry_run``).

    Attributes
    ----------
    path : pathlib.Path
        The registry.
    studies : list of str
        Ids of the studies added.
    comparisons : list of str
        ``"study/comparison"`` keys of every comparison added.
    warnings : list of Problem
        Validation warnings of the merged registry (they do not refuse an add).
    text : str
        The merged registry text.
    written : bool
        False for a dry run.
    """

    path: Path
    studies: list[str]
    comparisons: list[str]
    warnings: list[Problem] = field(default_factory=list)
    text: str = ""
    written: bool = False
    target: Path | None = None
    links: int = 1
    notes: list[str] = field(default_factory=list)
    #: Lines of the merged text the new tables occupy (1-based, inclusive).
    block_lines: tuple[int, int] = (0, 0)
    #: ``(key, reason)`` of every added comparison that gives no estimate (not pooled).
    not_pooled: list = field(default_factory=list)
    #: ``"study/outcome"`` keys of the single-group outcomes (``[[study.outcome]]``) added.
    outcomes: list = field(default_factory=list)

    def block_text(self) -> str:
        """The new tables as they stand in the merged registry."""
        lines = self.text.split("\n")
        first, last = self.block_lines
        return "\n".join(lines[first - 1:last]) + "\n"

    def describe(self) -> str:
        """One sentence for the command line, naming the file changed."""
        what = []
        if self.studies:
            what.append(f"study {', '.join(self.studies)}")
        if self.comparisons or not self.outcomes:
            what.append(f"{len(self.comparisons)} comparison"
                        f"{'s' if len(self.comparisons) != 1 else ''}"
                        + (f" ({', '.join(self.comparisons)})" if self.comparisons else ""))
        if self.outcomes:
            what.append(f"{len(self.outcomes)} single-group outcome"
                        f"{'s' if len(self.outcomes) != 1 else ''} ({', '.join(self.outcomes)})")
        verb = "added" if self.written else "would add"
        where = str(self.path)
        if self.target is not None and self.target != Path(os.path.abspath(self.path)):
            where += f" (a link to {self.target}, the file {'changed' if self.written else 'to change'})"
        if self.links > 1:
            where += (f" (written in place: all {self.links} hard links to it see the change)"
                      if self.written else f" (has {self.links} hard links: written in place)")
        if len(what) == 3:
            return f"{where}: {verb} {what[0]} with {what[1]} and {what[2]}"
        return f"{where}: {verb} {' with '.join(what)}"


@dataclass
class _Block:
    """The new tables, parsed, with where they came from."""

    text: str  # normalised: "\n" newlines, no leading/trailing blank lines
    name: str  # file name (or "<block>") for messages
    first_line: int  # line of the from-file that text line 1 is
    mode: str  # "study" or "comparison"
    tables: list  # plain dicts of the new studies or comparisons
    id_lines: list  # from-file line of each table's id


@dataclass
class _Splice:
    text: str
    start: int  # first line of the block in the merged text (1-based)
    count: int  # lines of the block
    added: int  # lines added in all (block + separators)
    exact_lines: bool  # False when tomlkit re-rendered the new tables


# ---------------------------------------------------------------------------
# reading the block
# ---------------------------------------------------------------------------
def _read_block_source(block) -> tuple[str, str]:
    """(text, name) of a block given as text or as a path."""
    if isinstance(block, os.PathLike) or (
        isinstance(block, str) and "\n" not in block and "=" not in block and block.strip()
    ):
        path = Path(block)
        try:
            return path.read_text(encoding="utf-8-sig"), str(block)
        except FileNotFoundError:
            raise SurvmetaError(f"{block}: no such file") from None
        except UnicodeDecodeError as exc:
            raise SurvmetaError(f"{block}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise SurvmetaError(f"{block}: cannot read: {exc.strerror or exc}") from None
    if isinstance(block, str):
        return block, "<block>"
    raise SurvmetaError(f"cannot add a {type(block).__name__}: give TOML text or a file path")


def _normalise(text: str) -> tuple[str, int]:
    """Text with "\\n" newlines and no blank lines around it, and its first line's number."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    last = len(lines)
    while last > first and not lines[last - 1].strip():
        last -= 1
    return "\n".join(lines[first:last]) + "\n", first + 1


def _parse_block(block) -> _Block:
    raw, name = _read_block_source(block)
    text, first = _normalise(raw)
    if not text.strip():
        raise RegistryError([Problem("nothing to add: the file holds no table", path=name)])
    try:
        data = parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError([syntax_problem(exc, text, name, first)]) from None
    from survmeta.registry.lines import index_lines

    index = index_lines(text)

    def line_of(loc):
        ln = index.line(loc)
        return None if ln is None else ln + first - 1

    extra = [k for k in data if k not in ("study", "comparison")]
    if extra:
        key = extra[0]
        raise RegistryError([Problem(
            f'unexpected top-level key "{key}": a block to add holds [[study]] tables, or '
            "[[study.comparison]] tables for an existing study (see `survmeta template`)",
            path=name, line=line_of((key,)), field=key)])
    study = data.get("study")
    if isinstance(study, list) and "comparison" not in data:
        return _Block(text, name, first, "study", study,
                      [line_of(("study", i, "id")) for i in range(len(study))])
    comps, loc = None, None
    if isinstance(study, dict) and set(study) == {"comparison"} and "comparison" not in data:
        comps, loc = study["comparison"], ("study", "comparison")
    elif study is None and "comparison" in data:
        comps, loc = data["comparison"], ("comparison",)
    if not isinstance(comps, list) or not all(isinstance(c, dict) for c in comps):
        raise RegistryError([Problem(
            "a block to add holds [[study]] tables (a new study) or [[study.comparison]] "
            "tables only (new comparisons of an existing study)", path=name, line=first)])
    return _Block(text, name, first, "comparison", comps,
                  [line_of(loc + (i, "id")) for i in range(len(comps))])


# ---------------------------------------------------------------------------
# splicing
# ---------------------------------------------------------------------------
def _header_name(line: str) -> tuple[bool, str] | None:
    """(is_array, dotted name without spaces or quotes) of a table header line."""
    m = _HEADER.match(line.rstrip("\r\n"))
    if not m:
        return None
    name = re.sub(r"[\s\"']", "", m.group(2))
    return m.group(1) == "[[", name


def _study_span(lines: list[str], index: int) -> tuple[int, int]:
    """Line range [start, end) of the ``index``-th ``[[study]]`` table, with its sub-tables."""
    seen, start = -1, None
    for i, line in enumerate(lines):
        head = _header_name(line)
        if head is None:
            continue
        is_array, name = head
        if start is None:
            if is_array and name == "study":
                seen += 1
                if seen == index:
                    start = i
        elif not name.startswith("study."):
            return start, i
    if start is None:
        raise SurvmetaError("could not find the study's table in the registry text")
    return start, len(lines)


def _content_end(lines: list[str], start: int, end: int) -> int:
    """End of a table's content: trailing blank lines and comment lines stay after it."""
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _as_registry_headers(text: str) -> str:
    """``[[comparison]]``/``[comparison.x]`` headers rewritten under ``study.``."""
    out = []
    for line in text.split("\n"):
        head = _header_name(line)
        if head is not None and (head[1] == "comparison" or head[1].startswith("comparison.")):
            line = re.sub(r"^([ \t]*\[\[?[ \t]*)", r"\1study.", line, count=1)
        out.append(line)
    return "\n".join(out)


def _splice(original: str, block: _Block, study_index: int | None) -> tuple[str, int, int]:
    """Insert the block text; returns (text, first block line, lines added)."""
    newline = "\r\n" if "\r\n" in original else "\n"
    body = _as_registry_headers(block.text) if block.mode == "comparison" else block.text
    body_lines = body.split("\n")[:-1]
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    if block.mode == "study":
        at = len(lines)
        before = [] if not lines or not lines[-1].strip() else [newline]
        after: list[str] = []
    else:
        start, end = _study_span(lines, study_index)
        at = _content_end(lines, start, end)
        before = [newline]
        follows = lines[at] if at < len(lines) else ""
        after = [newline] if follows.strip() else []
    inserted = before + [ln + newline for ln in body_lines] + after
    text = "".join(lines[:at] + inserted + lines[at:])
    return text, at + len(before) + 1, len(inserted)


def _expected(original_doc, block: _Block, study_index: int | None) -> dict:
    expected = copy.deepcopy(original_doc)
    if block.mode == "study":
        expected.setdefault("study", []).extend(copy.deepcopy(block.tables))
    else:
        expected["study"][study_index].setdefault("comparison", []).extend(copy.deepcopy(block.tables))
    return expected


def _render_with_tomlkit(original: str, block: _Block, study_index: int | None) -> str:
    doc = tomlkit.parse(original)
    new = tomlkit.parse(block.text)
    if block.mode == "study":
        for table in new["study"]:
            doc["study"].append(table)
    else:
        comps = new["study"]["comparison"] if "study" in new else new["comparison"]
        target = doc["study"][study_index]
        if "comparison" in target:
            for table in comps:
                target["comparison"].append(table)
        else:
            target["comparison"] = comps
    return doc.as_string()


def merge_text(original: str, block, study: str | None = None,
               registry_name: str = "<registry>") -> tuple[str, _Block, _Splice]:
    """Merge a block into registry text (no validation, nothing written).

    Parameters
    ----------
    original : str
        The registry text.
    block : str or path-like
        TOML text, or the path of a file holding it.
    study : str, optional
        Study that new comparisons belong to.
    registry_name : str
        Name of the registry in messages.

    Returns
    -------
    (text, block, splice)
        The merged text; the parsed block; where the block went.

    Raises
    ------
    RegistryError
        When the block cannot be merged (syntax, form, duplicate or unknown id).
    """
    blk = _parse_block(block)
    try:
        original_doc = parse_toml(original)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError([syntax_problem(exc, original, registry_name)]) from None
    study_index = _check_ids(original_doc, blk, study, registry_name, original)
    text, start, added = _splice(original, blk, study_index)
    expected = _expected(original_doc, blk, study_index)
    if _parses_to(text, expected):
        count = len(blk.text.split("\n")) - 1
        return text, blk, _Splice(text, start, count, added, True)
    text = _render_with_tomlkit(original, blk, study_index)
    if not _parses_to(text, expected):  # pragma: no cover - tomlkit would have to misrender
        raise SurvmetaError(f"{registry_name}: could not merge the new tables without changing "
                            "the rest of the registry; add them by hand")
    added = len(text.splitlines()) - len(original.splitlines())
    return text, blk, _Splice(text, len(original.splitlines()) + 1, added, added, False)


def _parses_to(text: str, expected: dict) -> bool:
    try:
        return parse_toml(text) == expected
    except tomllib.TOMLDecodeError:
        return False


def _registry_line(original: str, pattern: str) -> int | None:
    for i, line in enumerate(original.splitlines(), start=1):
        if re.match(pattern, line):
            return i
    return None


def _check_ids(doc: dict, blk: _Block, study: str | None, registry_name: str,
               original: str) -> int | None:
    """Refuse duplicate or unknown ids early, naming the block's lines."""
    from survmeta.registry.lines import index_lines
    from survmeta.registry.schema import did_you_mean

    studies = doc.get("study", []) if isinstance(doc.get("study"), list) else []
    ids = [s.get("id") for s in studies if isinstance(s, dict)]
    index = index_lines(original)
    problems = []
    if blk.mode == "study":
        if study is not None:
            raise RegistryError([Problem(
                f"--study {study} adds comparisons to an existing study, but this file holds "
                "[[study]] tables (a new study); leave out --study, or keep only the "
                "[[study.comparison]] tables", path=blk.name, line=blk.first_line)])
        seen = {}
        for table, line in zip(blk.tables, blk.id_lines):
            sid = table.get("id")
            if sid in ids:
                where = index.line(("study", ids.index(sid)))
                problems.append(Problem(
                    f'duplicate study id "{sid}": the registry already has it'
                    + (f" ({registry_name}, line {where})" if where else "")
                    + "; to add comparisons to it, keep only the [[study.comparison]] tables "
                    f"and pass --study {sid}",
                    path=blk.name, line=line, study=sid, field="id"))
            elif isinstance(sid, str) and sid in seen:
                problems.append(Problem(f'duplicate study id "{sid}" (first used on line {seen[sid]})',
                                        path=blk.name, line=line, study=sid, field="id"))
            seen.setdefault(sid, line)
        if problems:
            raise RegistryError(problems)
        return None
    if study is None:
        raise RegistryError([Problem(
            "this file holds comparisons only: name the study they belong to with --study ID"
            + (f" (studies: {', '.join(map(str, ids))})" if ids else ""),
            path=blk.name, line=blk.first_line)])
    if study not in ids:
        raise RegistryError([Problem(f'no study "{study}" in the registry{did_you_mean(study, ids)}',
                                     path=registry_name, study=study)])
    i = ids.index(study)
    existing = [c.get("id") for c in studies[i].get("comparison", []) if isinstance(c, dict)]
    for table, line in zip(blk.tables, blk.id_lines):
        cid = table.get("id")
        if cid in existing:
            problems.append(Problem(f'duplicate comparison id "{cid}": study {study} already has it',
                                    path=blk.name, line=line, study=study, comparison=cid, field="id"))
        existing.append(cid)
    if problems:
        raise RegistryError(problems)
    return i


# ---------------------------------------------------------------------------
# validation and the write
# ---------------------------------------------------------------------------
def _map_problem(p: Problem, splice: _Splice, blk: _Block, registry_name: str) -> Problem:
    """Point a problem of the merged text at the block's file or at the registry."""
    if p.line is None:
        return replace(p, path=registry_name)
    if splice.start <= p.line < splice.start + splice.count:
        if splice.exact_lines:
            return replace(p, path=blk.name, line=p.line - splice.start + blk.first_line)
        return replace(p, path=blk.name, line=None)
    if p.line >= splice.start + splice.count:
        return replace(p, path=registry_name, line=p.line - splice.added)
    return replace(p, path=registry_name)


def _validate(text: str, splice: _Splice, blk: _Block, registry_name: str) -> list[Problem]:
    from survmeta.registry import check_text

    problems = [_map_problem(p, splice, blk, registry_name) for p in check_text(text, registry_name)]
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise RegistryError(problems)
    return problems


#: Seconds an add waits for another add of the same registry to finish.
LOCK_TIMEOUT = 60.0


def _lock_path(target: Path) -> Path:
    """The advisory lock file of a registry: ``.<name>.lock`` beside the real file."""
    return target.with_name(f".{target.name}.lock")


def _stale_temporaries(target: Path) -> list[Path]:
    """Temporary files an interrupted add of ``target`` left (``.<name>.*.tmp``)."""
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp"))


def _refuse_read_only(target: Path, name: str) -> None:
    """A registry nobody may write is not replaced behind its owner's back."""
    mode = target.stat().st_mode
    if not mode & 0o222 or not os.access(target, os.W_OK):
        shown = name if str(target) == os.path.abspath(name) else f"{name} (-> {target})"
        raise SurvmetaError(f"{shown}: the file is read-only; nothing written (make it writable, "
                            "e.g. chmod u+w, to add to it)")


def _write_in_place(target: Path, data: bytes, original: bytes) -> None:
    """Overwrite ``target`` itself, keeping its inode (and so every hard link to it).

    The new content is first written and synced to a temporary copy (the
    validated text, on disk), then into the file; if writing the file fails,
    the original bytes are put back. The copy is removed on every exit path.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.inplace.tmp")
    try:
        atomic_write_bytes(tmp, data)
        try:
            with open(target, "r+b") as fh:
                fh.seek(0)
                fh.write(data)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            with open(target, "r+b") as fh:
                fh.seek(0)
                fh.write(original)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            raise
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _write(target: Path, data: bytes, expected_before: bytes, name: str) -> int:
    """Write the merged registry to ``target``; returns its number of hard links.

    One link: a temporary file in the same folder renamed over it (atomic).
    Several: written in place (:func:`_write_in_place`), since a rename would
    leave the other links holding the old text.
    """
    if target.read_bytes() != expected_before:
        raise SurvmetaError(f"{name}: changed while the study was being added; nothing written, "
                            "run the add again")
    links = target.stat().st_nlink
    if links > 1:
        _write_in_place(target, data, expected_before)
    else:
        atomic_write_bytes(target, data)
    return links


def add_study(path, block, study: str | None = None, dry_run: bool = False) -> AddResult:
    """Merge a study block (or comparisons of an existing study) into a registry.

    Parameters
    ----------
    path : str or path-like
        The registry (``studies.toml``).
    block : str or path-like
        TOML text holding ``[[study]]`` tables (with their comparisons), or
        ``[[study.comparison]]`` tables; or the path of a file holding it
        (e.g. one written from ``survmeta template``).
    study : str, optional
        Id of the existing study the comparisons are added to (required for a
        comparisons-only block, refused for a ``[[study]]`` block).
    dry_run : bool
        Validate and return the merged text without writing.

    Returns
    -------
    AddResult

    Raises
    ------
    RegistryError
        For a syntax error, a duplicate id, an unknown study or question, or
        any validation error of the merged registry; problems in the new
        tables name the block's file and lines. The registry is not changed.
    SurvmetaError
        When a file cannot be read.

    Examples
    --------
    >>> add_study("studies.toml", "new_study.toml")                 # doctest: +SKIP
    >>> add_study("studies.toml", "pfs.toml", study="heo2021")      # doctest: +SKIP
    """
    path = Path(path)
    name = str(path)
    target = Path(os.path.realpath(path))  # a symlinked registry: the real file is changed
    if not target.is_file():
        if target.is_dir():
            raise SurvmetaError(f"{name}: is a directory, not a registry file")
        raise SurvmetaError(f"{name}: no such file")
    if dry_run:
        return _add(path, name, target, block, study, dry_run=True)
    _refuse_read_only(target, name)
    from filelock import FileLock, Timeout

    lock = FileLock(str(_lock_path(target)), timeout=LOCK_TIMEOUT)
    try:
        with lock:
            return _add(path, name, target, block, study, dry_run=False)
    except Timeout:
        raise SurvmetaError(f"{name}: another add has held its lock ({_lock_path(target)}) for "
                            f"{LOCK_TIMEOUT:g} s; nothing written, try again") from None
    except PermissionError as exc:
        if exc.filename == str(_lock_path(target)):
            raise SurvmetaError(f"{name}: cannot create the lock file {exc.filename} "
                                f"({exc.strerror}); nothing written") from None
        raise


def _without_estimate(text: str, name: str, keys: list[str]) -> list[tuple[str, str]]:
    """``(key, reason)`` for each of ``keys`` that the merged registry does not pool.

    Reconstructed as ``survmeta pool`` would (default method order): a comparison marked not
    poolable, one no method can estimate, a subgroup whose parent stands for it.
    """
    from survmeta.pooling import select_rows
    from survmeta.reconstruction import reconstruct
    from survmeta.registry.load import load_registry_text

    try:
        effects = reconstruct(load_registry_text(text, name))
    except SurvmetaError as exc:
        return [(k, f"cannot be reconstructed: {exc}") for k in keys]
    out = []
    for q in dict.fromkeys(effects["question"]):
        _, excluded, _ = select_rows(effects, q)
        out += [(k, r) for k, r in zip(excluded["key"], excluded["reason"]) if k in keys]
    return out


def _add(path: Path, name: str, target: Path, block, study: str | None,
         dry_run: bool) -> AddResult:
    """Read, merge, validate and (unless ``dry_run``) write; under the lock when writing."""
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise SurvmetaError(f"{name}: cannot read: {exc.strerror or exc}") from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        original = raw[3 if bom else 0:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SurvmetaError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    text, blk, splice = merge_text(original, block, study=study, registry_name=name)
    warnings = _validate(text, splice, blk, name)
    sid = study if blk.mode == "comparison" else None
    studies = [] if sid else [str(t.get("id")) for t in blk.tables]
    comparisons = (
        [f"{sid}/{c.get('id')}" for c in blk.tables] if sid
        else [f"{t.get('id')}/{c.get('id')}" for t in blk.tables for c in t.get("comparison", [])]
    )
    outcomes = [] if sid else [
        f"{t.get('id')}/{o.get('id')}" if o.get("id") else str(t.get("id"))
        for t in blk.tables for o in t.get("outcome", [])]
    result = AddResult(path, studies, comparisons, warnings, text, written=False, target=target,
                       outcomes=outcomes,
                       links=target.stat().st_nlink,
                       block_lines=(splice.start, splice.start + splice.count - 1),
                       not_pooled=_without_estimate(text, name, comparisons))
    if not dry_run:
        for stale in _stale_temporaries(target):  # under the lock, no add is writing them
            stale.unlink(missing_ok=True)
            result.notes.append(f"removed {stale}, left by an interrupted add")
        data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
        result.links = _write(target, data, raw, name)
        result.written = True
    return result
