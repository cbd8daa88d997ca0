"""Run independent pieces of work (sampled futures, materials, compare cases) in parallel, the same code either way.

    with Executor() as ex:                      # a local Dask cluster, one worker process per core
        costs = ex.map(play, futures, shared=data, progress=bar)
    with Executor(scheduler="tcp://10.0.0.5:8786") as ex:   # a running Dask cluster
        ...
    with Executor(workers=0) as ex:             # in this process, no Dask at all
        ...

`fn` is a top-level function (workers import it by name) called as `fn(shared, item)` when `shared` is given,
else `fn(item)`; items and `shared` are plain data (tables, arrays, seeds), never Pyomo models, which pickle
badly. `shared` is sent to each worker once, not once per item. A worker that needs an expensive object built
from `shared` (an LP in HiGHS, say) keeps it with :func:`worker_cache` and re-solves it by changing bounds or
costs, so it is built once per worker, not once per item. Results come back in the order of `items`; an
exception in a worker is raised again here. Which worker ran what never changes a result.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: what a worker process keeps between items: key -> object (see worker_cache)
_CACHE: dict[Any, Any] = {}


def worker_cache(key: Any, build: Callable[[], Any]) -> Any:
    """The object stored under `key` in this process, built by `build()` the first time it is asked for.

    Each worker process (and the caller's process, when running in process) has its own cache, so an LP built
    from the shared data is built once per worker. Use a key that changes when the data does (a hash of it).
    """
    if key not in _CACHE:
        if len(_CACHE) >= 8:  # a long-lived worker serving many instances keeps only the latest few
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = build()
    return _CACHE[key]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether work may go to processes forked from this one: two cores or more, Linux (macOS can fork, but
    its system libraries are not safe to use in a forked child, which is why Python spawns there), this
    process running no other thread (forking a process with threads can copy a lock another thread holds,
    and Pyomo's solves are serialised by one; a Jupyter kernel runs several) and not itself a daemonic worker
    (the web app's solves run in one, and multiprocessing refuses it children)."""
    import multiprocessing
    import sys
    import threading

    return (sys.platform.startswith("linux") and default_workers() >= 2 and threading.active_count() == 1
            and not multiprocessing.current_process().daemon
            and "fork" in multiprocessing.get_all_start_methods())


def _answer_share(fn: Callable[[int], Any], tasks: range, connection) -> None:
    """A forked process's part of forked_map: fn(i) for its tasks, sent back (or the exception raised)."""
    try:
        answers: Any = [fn(i) for i in tasks]
    except BaseException as error:  # noqa: BLE001 - raised again in the parent
        answers = error
    try:
        connection.send(answers)
    except Exception as error:  # an exception that does not pickle
        connection.send(RuntimeError(f"{type(error).__name__}: {error}"))
    connection.close()


def forked_map(fn: Callable[[int], Any], count: int, processes: int | None = None) -> list:
    """[fn(i) for i in range(count)], the tasks dealt round-robin to this process and processes forked from
    it, one per core in all by default (and only when can_fork()), all in this process otherwise.

    For work on an object this process already holds (an LP in HiGHS, say), which each forked process gets
    as it stands without pickling it; only the answers cross a pipe, so they must pickle. fn must give the
    same answer whichever tasks ran before it in the same process, so that the split never changes a result.
    """
    processes = min(default_workers() if processes is None else processes, count)
    if processes < 2 or not can_fork():
        return [fn(i) for i in range(count)]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    shares = [range(k, count, processes) for k in range(processes)]
    connections, started = [], []
    try:
        for share in shares[1:]:
            mine, theirs = context.Pipe(duplex=False)
            process = context.Process(target=_answer_share, args=(fn, share, theirs), daemon=True)
            process.start()
            theirs.close()
            connections.append(mine)
            started.append(process)
        out: list = [None] * count
        for i in shares[0]:  # this process's share, while the others work on theirs
            out[i] = fn(i)
        for share, connection in zip(shares[1:], connections):
            try:
                answers = connection.recv()
            except EOFError:
                raise RuntimeError("a process answering in parallel stopped (out of memory?)") from None
            if isinstance(answers, BaseException):
                raise answers
            for i, answer in zip(share, answers):
                out[i] = answer
        return out
    finally:
        for connection in connections:
            connection.close()
        join_or_terminate(started)


def join_or_terminate(processes) -> None:
    """Wait a few seconds for each process to end (they stop once their pipe closes), then end it."""
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()


def _run_chunk(fn: Callable, shared: Any, chunk: Sequence, with_shared: bool) -> list:
    return [fn(shared, item) if with_shared else fn(item) for item in chunk]


class Executor:
    """A pool of worker processes: in process (`workers=0`), a local Dask cluster (default), or a running one.

    workers: number of local worker processes (None: one per core; 0: run everything in this process).
    scheduler: address of a running Dask scheduler (``tcp://host:8786``); `workers` is then ignored.
    preload: modules each local worker imports as it starts (the module of the function it will run), so
    that a worker's imports are part of starting the cluster, side by side with the others', rather than
    of its first piece of work.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None, preload: Sequence[str] = ()):
        if workers is not None and workers < 0:
            raise ValueError(f"workers must be 0 or more, not {workers}")
        self.scheduler = scheduler
        self.preload = list(preload)
        self._requested = default_workers() if workers is None else workers
        self._client = None
        self._cluster = None

    # -- life cycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> "Executor":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def in_process(self) -> bool:
        return self.scheduler is None and self._requested == 0

    def start(self) -> None:
        """Start the local cluster or connect to the scheduler (done on first use if not called)."""
        if self.in_process or self._client is not None:
            return
        from distributed import Client, LocalCluster

        for name in ("distributed", "distributed.worker", "distributed.scheduler", "distributed.nanny"):
            logging.getLogger(name).setLevel(logging.ERROR)
        if self.scheduler is not None:
            try:
                self._client = Client(self.scheduler, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise ConnectionError(f"cannot reach the Dask scheduler at {self.scheduler}: {error}") from None
        else:
            self._cluster = LocalCluster(n_workers=self._requested, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR,
                                         **({"preload": self.preload} if self.preload else {}))
            self._client = Client(self._cluster, set_as_default=False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    @property
    def workers(self) -> int:
        """Worker processes doing the work (0 in process)."""
        if self.in_process:
            return 0
        self.start()
        return len(self._client.scheduler_info(n_workers=-1)["workers"]) if self.scheduler else self._requested

    # -- work -------------------------------------------------------------------------------------------------
    def map(self, fn: Callable, items: Iterable, *, shared: Any = None, progress: Callable[[int, int], None] | None = None,
            chunksize: int | None = None) -> list:
        """[fn(shared, item) for item in items] (or fn(item) without `shared`), in parallel, in order.

        progress(done, total) is called here as items finish. chunksize: items per task (default: enough tasks
        to keep every worker busy while bounding the overhead of each task).
        """
        items = list(items)
        total = len(items)
        with_shared = shared is not None
        if progress is not None:
            progress(0, total)
        if total == 0:
            return []
        if self.in_process:
            results = []
            for done, item in enumerate(items, 1):
                results.append(fn(shared, item) if with_shared else fn(item))
                if progress is not None:
                    progress(done, total)
            return results

        from distributed import as_completed

        self.start()
        workers = max(1, self.workers)
        size = chunksize or max(1, min(64, total // (workers * 8) or 1))
        chunks = [items[start:start + size] for start in range(0, total, size)]
        handle = self._client.scatter([shared], broadcast=True, hash=False)[0] if with_shared else None
        futures = [self._client.submit(_run_chunk, fn, handle, chunk, with_shared, pure=False) for chunk in chunks]
        index = {future.key: position for position, future in enumerate(futures)}
        out: list = [None] * len(chunks)
        done = 0
        try:
            with self._client.as_current():
                for future in as_completed(futures):
                    out[index[future.key]] = future.result()  # raises a worker's exception here
                    done += len(chunks[index[future.key]])
                    if progress is not None:
                        progress(done, total)
        finally:
            for future in futures:
                future.release()
        return [result for chunk in out for result in chunk]
