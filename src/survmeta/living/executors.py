"""One executor interface for independent tasks, and a text progress bar.

A sensitivity sweep is a list of independent tasks (one refit per variant).
They run behind the ``concurrent.futures`` interface: anything with
``submit(fn, *args) -> future`` whose futures have ``result()`` will do, e.g.

* :class:`SerialExecutor` (in this process, one after the other),
* :class:`concurrent.futures.ThreadPoolExecutor`,
* :class:`concurrent.futures.ProcessPoolExecutor` (local cores),
* a ``dask.distributed.Client`` (a local or remote Dask cluster).

:func:`get_executor` turns a name (``"serial"``, ``"threads"``,
``"processes"``, ``"auto"``), a worker count or an executor object into an
executor, and says whether the caller owns it (and must shut it down).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Callable, Sequence

from survmeta.errors import SurvmetaError

__all__ = ["SerialExecutor", "Progress", "get_executor", "run_tasks", "cpu_count"]

#: Below this many tasks per core the exact engine runs in-process. Measured on the seed
#: question oligo_vs_systemic (24 exact refits): 0.9 s in-process, 1.1 s with threads, 5.1 s
#: with a 2-worker process pool, whose start-up (spawning workers that import numpy, scipy
#: and pandas) costs about 4 s against about 35 ms per exact refit.
EXACT_TASKS_PER_CORE_FOR_PROCESSES = 200


class SerialExecutor(Executor):
    """Run each task at once, in this process (``concurrent.futures`` interface)."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` now; the returned future is already done."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through result()
            future.set_exception(exc)
        return future


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def get_executor(executor: Any = None, n_tasks: int = 1, engine: str = "exact") -> tuple[Any, bool]:
    """Resolve an executor choice.

    Parameters
    ----------
    executor : None, str, int or executor
        ``None``/``"auto"``: in-process for the exact engine unless the sweep
        is large (see :data:`EXACT_TASKS_PER_CORE_FOR_PROCESSES`), a process
        pool sized to the cores for MCMC; ``"serial"``, ``"threads"``,
        ``"processes"``; an int: a process pool with that many workers; any
        object with ``submit`` (a ``concurrent.futures`` executor, a
        ``dask.distributed.Client``) is used as given.
    n_tasks : int
        Number of tasks, for the automatic choice.
    engine : str
        ``"exact"`` or ``"mcmc"``.

    Returns
    -------
    (executor, owned)
        ``owned`` is True when the caller created it and must shut it down.
    """
    if executor is not None and not isinstance(executor, (str, int)):
        if not callable(getattr(executor, "submit", None)):
            raise SurvmetaError(f"executor {executor!r} has no submit(): give 'serial', 'threads', "
                                "'processes', a worker count, a concurrent.futures executor or a "
                                "dask.distributed Client")
        return executor, False
    cores = cpu_count()
    if isinstance(executor, bool):
        raise SurvmetaError("executor must be a name, a worker count or an executor")
    if isinstance(executor, int):
        if executor < 1:
            raise SurvmetaError(f"executor worker count must be positive, got {executor}")
        return (SerialExecutor(), True) if executor == 1 else (_process_pool(executor), True)
    choice = (executor or "auto").lower()
    if choice == "auto":
        if engine == "exact":
            small = n_tasks < EXACT_TASKS_PER_CORE_FOR_PROCESSES * cores
            choice = "serial" if small or cores == 1 else "processes"
        else:
            choice = "processes" if cores > 1 and n_tasks > 1 else "serial"
    if choice == "serial":
        return SerialExecutor(), True
    if choice == "threads":
        return ThreadPoolExecutor(max_workers=cores), True
    if choice == "processes":
        return _process_pool(min(cores, max(1, n_tasks))), True
    raise SurvmetaError(f"unknown executor {executor!r}: choose auto, serial, threads or processes")


def _process_pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": a forked child of a process that runs threads (BLAS, PyTensor) can deadlock.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


class Progress:
    """``label: 12/40 [######------]`` on stderr, redrawn in place.

    Parameters
    ----------
    total : int
        Number of steps.
    label : str
        Text before the counter.
    enabled : bool or None
        None: only when stderr is a terminal.
    stream : file, optional
        Default ``sys.stderr``.
    """

    def __init__(self, total: int, label: str = "", enabled: bool | None = None, stream=None,
                 width: int = 30):
        self.stream = stream or sys.stderr
        self.total = max(0, int(total))
        self.label = label
        self.width = width
        self.done = 0
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled and self.total > 0

    def update(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if self.enabled:
            filled = int(round(self.width * self.done / self.total))
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label}: {self.done}/{self.total} [{bar}]")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False


def run_tasks(fn: Callable, tasks: Sequence, executor: Any = None, engine: str = "exact",
              progress: bool | None = None, label: str = "tasks") -> list:
    """Run ``fn(task)`` for every task through an executor; results in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for process pools and Dask).
    tasks : sequence
        Picklable task objects.
    executor : see :func:`get_executor`
    engine : str
        For the automatic executor choice.
    progress : bool or None
        Progress bar on stderr; None: only on a terminal.
    label : str
        Progress bar label.

    Returns
    -------
    list
        ``fn(task)`` for each task, in order. The first task that raised
        re-raises here (after the others were collected or cancelled).
    """
    tasks = list(tasks)
    pool, owned = get_executor(executor, len(tasks), engine)
    bar = Progress(len(tasks), label, enabled=progress)
    try:
        futures = [pool.submit(fn, task) for task in tasks]
        results = []
        for fut in futures:
            results.append(fut.result())
            bar.update()
        return results
    finally:
        bar.close()
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)

