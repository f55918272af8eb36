"""``add`` under concurrent writers, read-only files, links and interruptions (issue 15)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from survmeta.errors import SurvmetaError
from survmeta.living import add as add_module
from survmeta.living.add import add_study

from .conftest import BASE

SRC = Path(__file__).resolve().parents[2] / "src"


def study_block(sid: str, year: int = 2022) -> str:
    """A new study for the BASE registry (invented numbers)."""
    return textwrap.dedent(f'''\
        [[study]]
        id = "{sid}"
        citation = "Author {sid}. J Test. {year};1:1."
        year = {year}
        design = "rct"
        population = "adults"

        [[study.comparison]]
        id = "c1"
        question = "q1"
        endpoint = "OS"
        quote = "HR 0.70 (0.50-0.98)"
        location = "Table 1"
        experimental = {{ label = "drug", n = 40 }}
        reference = {{ label = "placebo", n = 40 }}
        hr = {{ estimate = 0.70, ci = [0.50, 0.98] }}
        ''')


def study_ids(path: Path) -> list[str]:
    return [s["id"] for s in tomllib.loads(path.read_text(encoding="utf-8"))["study"]]


def hidden(folder: Path, registry: Path) -> list[str]:
    """Hidden files other than the advisory lock."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.startswith(".") and p.name != f".{registry.name}.lock")


_WORKER = textwrap.dedent('''\
    import sys, time
    from pathlib import Path
    from survmeta.living.add import add_study
    registry, go, prefix = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    block = Path(sys.argv[4]).read_text()
    while not go.exists():
        time.sleep(0.005)
    for i in range(3):
        add_study(registry, block.replace("@ID@", f"{prefix}{i}"))
    ''')


def test_two_concurrent_processes_lose_no_study(write, tmp_path):
    registry = write(BASE)
    go = tmp_path / "go"
    block = tmp_path / "block.txt"
    block.write_text(study_block("@ID@"))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(registry), str(go), prefix,
                               str(block)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
             for prefix in ("alpha", "beta")]
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    ids = study_ids(registry)
    assert sorted(ids[2:]) == [f"{p}{i}" for p in ("alpha", "beta") for i in range(3)]
    assert ids[:2] == ["s1", "s2"]
    assert registry.read_text(encoding="utf-8").startswith(BASE)  # the old text untouched
    assert hidden(tmp_path, registry) == []


def test_a_read_only_registry_is_refused(write, tmp_path):
    registry = write(BASE)
    registry.chmod(0o444)
    try:
        with pytest.raises(SurvmetaError, match="the file is read-only; nothing written"):
            add_study(registry, study_block("s3"))
        assert registry.read_text(encoding="utf-8") == BASE
        assert (registry.stat().st_mode & 0o777) == 0o444
    finally:
        registry.chmod(0o644)


def test_a_dry_run_of_a_read_only_registry_is_fine(write):
    registry = write(BASE)
    registry.chmod(0o444)
    try:
        result = add_study(registry, study_block("s3"), dry_run=True)
        assert not result.written and "s3" in result.text
    finally:
        registry.chmod(0o644)


def test_a_symlinked_registry_changes_the_real_file(write, tmp_path, run):
    real = write(BASE, "real.toml")
    link = tmp_path / "studies.toml"
    link.symlink_to(real)
    (tmp_path / "new.toml").write_text(study_block("s3"))
    code, out, err = run("add", link, "--from", tmp_path / "new.toml")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert study_ids(real) == ["s1", "s2", "s3"]
    assert f"(a link to {real.resolve()}, the file changed): added study s3" in out


def test_hard_links_all_see_the_added_study(write, tmp_path, run):
    first = write(BASE, "studies.toml")
    second = tmp_path / "copy.toml"
    os.link(first, second)
    inode = first.stat().st_ino
    (tmp_path / "new.toml").write_text(study_block("s3"))
    code, out, err = run("add", first, "--from", tmp_path / "new.toml")
    assert code == 0, err
    assert first.stat().st_ino == inode and first.stat().st_nlink == 2
    assert study_ids(second) == ["s1", "s2", "s3"]
    assert "written in place: all 2 hard links to it see the change" in out
    assert hidden(tmp_path, first) == []


def test_a_failed_in_place_write_restores_the_file(write, tmp_path, monkeypatch):
    first = write(BASE, "studies.toml")
    os.link(first, tmp_path / "copy.toml")
    real_open = open
    calls = []

    def failing_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        if mode == "r+b" and not calls:
            calls.append(file)
            fh.close()
            raise OSError(28, "No space left on device", str(file))
        return fh

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OSError):
        add_study(first, study_block("s3"))
    monkeypatch.undo()
    assert first.read_text(encoding="utf-8") == BASE
    assert hidden(tmp_path, first) == []


def test_the_temporary_file_is_removed_when_the_write_fails(write, tmp_path, monkeypatch):
    registry = write(BASE)

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError) as exc:
        add_study(registry, study_block("s3"))
    assert exc.value.filename == str(registry)
    assert registry.read_text(encoding="utf-8") == BASE
    assert hidden(tmp_path, registry) == []


def test_a_temporary_file_left_by_a_killed_add_is_removed_and_reported(write, tmp_path, run):
    registry = write(BASE)
    stale = tmp_path / ".studies.toml.k2j4x9.tmp"
    stale.write_text("half a registry")
    (tmp_path / "new.toml").write_text(study_block("s3"))
    code, _, err = run("add", registry, "--from", tmp_path / "new.toml")
    assert code == 0
    assert not stale.exists()
    assert f"removed {stale}, left by an interrupted add" in err


def test_the_command_names_the_file_it_changed(write, tmp_path, run):
    registry = write(BASE)
    (tmp_path / "new.toml").write_text(study_block("s3"))
    code, out, _ = run("add", registry, "--from", tmp_path / "new.toml")
    assert code == 0
    assert out == f"{registry}: added study s3 with 1 comparison (s3/c1)\n"


def test_an_add_waits_for_the_lock_and_then_gives_up_clearly(write, monkeypatch):
    from filelock import FileLock

    registry = write(BASE)
    monkeypatch.setattr(add_module, "LOCK_TIMEOUT", 0.2)
    with FileLock(str(registry.with_name(".studies.toml.lock"))):
        with pytest.raises(SurvmetaError, match="another add has held its lock"):
            add_study(registry, study_block("s3"))
    assert registry.read_text(encoding="utf-8") == BASE


def test_sigterm_during_an_add_unwinds(monkeypatch):
    from survmeta.cli.add import _terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with _terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0) if hasattr(signal, "sigtimedwait") else None
    assert signal.getsignal(signal.SIGTERM) == before
