"""The executor gives the same results, in the same order, in process, on a local cluster and on a running one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.solving.executor import Executor, worker_cache

BUILDS: list[int] = []


def square_plus(shared: dict, item: int) -> int:
    return item * item + shared["offset"]


def cached_pid(shared: dict, item: int) -> tuple[int, int]:
    """(process id, id of the object built for it): the object must be built once per process."""
    built = worker_cache(("test", shared["offset"]), lambda: object())
    return os.getpid(), id(built)


def fails_on_three(item: int) -> int:
    if item == 3:
        raise ValueError("item three is bad")
    return item


def test_in_process_runs_in_order_with_progress():
    seen = []
    with Executor(workers=0) as ex:
        assert ex.workers == 0
        out = ex.map(square_plus, range(6), shared={"offset": 1}, progress=lambda d, t: seen.append((d, t)))
    assert out == [1, 2, 5, 10, 17, 26]
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_local_cluster_equals_in_process_and_builds_once_per_worker():
    items = list(range(200))
    with Executor(workers=0) as ex:
        expected = ex.map(square_plus, items, shared={"offset": 7})
    seen = []
    with Executor(workers=2) as ex:
        assert ex.workers == 2
        out = ex.map(square_plus, items, shared={"offset": 7}, progress=lambda d, t: seen.append(d))
        pids = ex.map(cached_pid, items, shared={"offset": 7}, chunksize=5)
    assert out == expected
    assert seen[-1] == 200
    by_process: dict[int, set[int]] = {}
    for pid, built in pids:
        by_process.setdefault(pid, set()).add(built)
    assert os.getpid() not in by_process
    assert 1 <= len(by_process) <= 2
    assert all(len(objects) == 1 for objects in by_process.values())


def test_a_workers_exception_is_raised_in_the_caller():
    with Executor(workers=0) as ex, pytest.raises(ValueError, match="item three is bad"):
        ex.map(fails_on_three, range(5))
    with Executor(workers=2) as ex, pytest.raises(ValueError, match="item three is bad"):
        ex.map(fails_on_three, range(5), chunksize=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_scheduler_and_workers_started_as_separate_processes(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).parents[1])]))
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    processes = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                  env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"],
                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        with Executor(scheduler=address) as ex:
            while ex.workers < 2:
                assert time.monotonic() < deadline, "the two workers did not join the scheduler"
                time.sleep(0.2)
            out = ex.map(square_plus, range(50), shared={"offset": 3})
        assert out == [i * i + 3 for i in range(50)]
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_an_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:"):
        Executor(scheduler=f"tcp://127.0.0.1:{free_port()}").start()


def test_negative_workers_is_refused():
    with pytest.raises(ValueError, match="workers must be 0 or more"):
        Executor(workers=-1)


FORKED_MAP = """
import json, os
from optimizer.solving.executor import can_fork, forked_map

state = {"calls": 0}  # each process counts its own calls
def square(i):
    state["calls"] += 1
    return {"i": i, "square": i * i, "pid": os.getpid()}
answers = forked_map(square, 7, processes=2)
try:
    forked_map(lambda i: 1 // (i - 3), 5, processes=2)
    raised = None
except ZeroDivisionError as error:
    raised = str(error)
print(json.dumps({"can_fork": can_fork(), "answers": answers, "parent": os.getpid(), "calls": state["calls"],
                  "raised": raised}))
"""


def test_forked_map_answers_in_order_from_two_processes_and_raises_their_exceptions():
    """In a fresh process (this one may run threads, and forking is then left out)."""
    import json

    out = subprocess.run([sys.executable, "-c", FORKED_MAP], check=True, capture_output=True, text=True, timeout=120)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["can_fork"]  # CI has two cores
    assert [a["i"] for a in answer["answers"]] == list(range(7))
    assert [a["square"] for a in answer["answers"]] == [i * i for i in range(7)]
    # tasks dealt round-robin: 0, 2, 4, 6 to the calling process, 1, 3, 5 to one forked from it
    assert {a["pid"] for a in answer["answers"][0::2]} == {answer["parent"]}
    forked = {a["pid"] for a in answer["answers"][1::2]}
    assert len(forked) == 1 and answer["parent"] not in forked
    assert answer["calls"] == 4  # the calling process counts its own four; the forked one counts in its copy
    assert answer["raised"] == "integer division or modulo by zero"


def test_forked_map_runs_in_process_with_one_process_or_one_task():
    from optimizer.solving.executor import forked_map

    assert forked_map(lambda i: (i, os.getpid()), 3, processes=1) == [(i, os.getpid()) for i in range(3)]
    assert forked_map(lambda i: os.getpid(), 1) == [os.getpid()]


def test_forked_map_stays_in_process_while_another_thread_runs():
    """A process with threads is never forked (a lock another thread holds would be copied held)."""
    import threading

    from optimizer.solving.executor import can_fork, forked_map

    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    try:
        assert not can_fork()
        assert forked_map(lambda i: os.getpid(), 4, processes=2) == [os.getpid()] * 4
    finally:
        release.set()
        thread.join()


def _loaded(name: str) -> bool:
    return name in sys.modules


def test_local_workers_import_the_preloaded_modules_as_they_start():
    """Before any work is sent: each worker of the local cluster has imported what it was told to preload
    (and a module nobody asked for is not there)."""
    with Executor(workers=2, preload=["optimizer.analysis.stress"]) as executor:
        executor.start()
        assert set(executor._client.run(_loaded, "optimizer.analysis.stress").values()) == {True}
        assert set(executor._client.run(_loaded, "optimizer.analysis.frontier").values()) == {False}
