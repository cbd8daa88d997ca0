"""Long work of the web app in worker processes: a solve, a de-risking curve, a comparison, a stress test.

Each job runs one top-level function of this module in its own process (started from a fork server that
has the library loaded), so the app's thread never waits on HiGHS, two sessions never share a solver
(two solves in one process can deadlock), and a job is cancelled by ending its process. Jobs get data
(the validated input, lever edits) and send back results and the paths of the files they wrote, through
a pipe the app polls. Every computation is the public library's (`import optimizer as so`).
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import optimizer as so

#: Modules the fork server imports once, so that each job starts with the library loaded.
PRELOAD = ["optimizer.interfaces.worker"]

_context = None


def _start_method():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def warm_up() -> None:
    """Start the fork server now (it loads the library, about 1.5 s), so that the first job does not wait
    for it. Returns at once; the server loads while the user looks at the page."""
    from multiprocessing import forkserver

    _start_method()
    forkserver.ensure_running()


@dataclass
class Job:
    """One running piece of work. state: running, done, failed or cancelled.

    progress: a fraction in [0, 1] or None when unknown; note: what the job is doing now.
    value: what the function returned (done); error: an InputError or a message (failed).
    """

    kind: str
    label: str
    process: object = field(repr=False)
    connection: object = field(repr=False)
    state: str = "running"
    progress: float | None = None
    note: str = ""
    value: object = None
    error: object = None
    started: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def poll(self) -> str:
        """Read what the worker sent; returns the state."""
        if not self.running:
            return self.state
        try:
            while self.connection.poll():
                kind, payload = self.connection.recv()
                if kind == "progress":
                    self.progress, self.note = payload
                elif kind == "done":
                    self.value, self.state = payload, "done"
                elif kind == "input error":
                    self.error, self.state = so.InputError(payload), "failed"
                else:
                    self.error, self.state = payload, "failed"
        except (EOFError, OSError):
            pass
        if self.running and not self.process.is_alive():
            self.error, self.state = "the worker process stopped without an answer.", "failed"
        if not self.running:
            self._close()
        return self.state

    def wait(self, timeout: float = 600.0) -> str:
        """Block until the job ends (tests and scripts; the app polls instead)."""
        deadline = time.monotonic() + timeout
        while self.poll() == "running" and time.monotonic() < deadline:
            self.connection.poll(0.05)
        return self.state

    def cancel(self) -> None:
        if self.running:
            self.state = "cancelled"
        self._close()

    def _close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
        self.process.join(1)
        self.connection.close()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


def start(kind: str, label: str, function, *args) -> Job:
    """Run function(report, *args) in a new worker process; report(progress, note) sends progress."""
    context = _start_method()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(sender, function, args), daemon=True,
                              name=f"sourcing-{kind}")
    process.start()
    sender.close()
    return Job(kind=kind, label=label, process=process, connection=receiver)


def _run(connection, function, args) -> None:
    def report(progress: float | None, note: str = "") -> None:
        connection.send(("progress", (progress, note)))

    try:
        value = function(report, *args)
    except so.InputError as error:
        connection.send(("input error", error.problems))
    except Exception as error:  # the app shows it; a traceback would mean nothing to its user
        connection.send(("error", f"unexpected {type(error).__name__}: {error}"))
        traceback.print_exc()
    else:
        connection.send(("done", value))
    finally:
        connection.close()


# --------------------------------------------------------------------------- the work itself

def solve_plan(report, data, base_data, folder: str) -> dict:
    """Solve the levered data (and the base, for the changes, unless base_data is None); write the plan."""
    out: dict = {}
    if base_data is not None:
        report(0.1, "Solving the input as it is (for the changes)")
        out["base"] = so.solve(base_data)
    report(0.5 if base_data is not None else 0.2, "Solving with the levers")
    result = so.solve(data)
    out["result"] = result
    report(0.8, "Explaining the plan (price ranges and entry prices)")
    out["why"] = so.why_these_suppliers(data, result.variables) if result.optimal else None  # as `sourcing solve` does
    report(0.9, "Writing the plan workbook")
    out["plan"] = str(so.write_plan(result, Path(folder) / "plan.xlsx", None, out["why"]))
    if result.optimal:  # as `sourcing solve --pdf` writes it
        out["pdf"] = str(so.write_plan_pdf(result, Path(folder) / "plan.pdf", out["why"]))
    return out


def run_frontier(report, data, cap: str, points: int, folder: str) -> dict:
    """The de-risking curve, its workbook and figure."""
    expected = points + 20  # the sweep, the bisection for the tightest cap, detail points: about this many
    done = [0]

    def progress(share: float) -> None:
        done[0] += 1
        report(min(0.95, done[0] / expected), f"Solving at {share:.1%}")

    curve = so.frontier(data, cap, points, progress=progress)
    report(0.97, "Writing the curve's workbook")
    workbook = so.write_frontier(curve, Path(folder) / "frontier.xlsx")
    figure = so.frontier_figure(curve, Path(folder) / "frontier.png")
    return {"frontier": curve, "cap": cap, "workbook": str(workbook), "figure": str(figure)}


def run_compare(report, data, cases: dict, folder: str, name: str = "comparison") -> dict:
    """Solve the base and each case; the comparison's workbook and figure."""
    total = len(cases) + 1
    done = [0]

    def progress(case: str) -> None:
        report(done[0] / total, f"Solving {case}")
        done[0] += 1

    comparison = so.compare(data, cases, progress=progress)
    report(0.97, "Writing the comparison's workbook")
    workbook = so.write_comparison(comparison, Path(folder) / f"{name}.xlsx")
    figure = so.comparison_figure(comparison, Path(folder) / f"{name}.png")
    return {"comparison": comparison, "workbook": str(workbook), "figure": str(figure)}


def run_point(report, data, cap: str, share: float, folder: str) -> dict:
    """One point of the curve solved in full: its plan against the data's own, with the moves."""
    name = f"{so.cap_label(cap)} cap at {share:.2%}"
    # the cap at exactly the point's share, as the curve solved it (the curve's start may lie above 100%)
    out = run_compare(report, data, {name: so.at_share(data, cap, share)}, folder, name="point")
    out["name"] = name
    result = out["comparison"].results.get(name)
    if result is not None:
        out["plan"] = str(so.write_plan(result, Path(folder) / "point-plan.xlsx"))
    return out


def run_stress(report, data, futures: int, seed: int, second, folder: str) -> dict:
    """The stress test of the data's optimised plan over sampled futures, as `sourcing stress --futures N
    --seed S --workers 0` runs it: its workbook and cost figure. second: None, or (name, data) of another
    plan to play through the same futures (the plans it solves are compared future by future)."""
    def progress(done: int, total: int) -> None:
        report(0.1 + 0.85 * done / max(total, 1), f"Future {done:,} of {total:,}")

    report(0.0, "Solving the plan to test")
    plans = None
    if second is not None:
        name, other = second
        plans = [so.plan_of(so.solve(data), PLAN_AS_SET)]
        report(0.05, f"Solving the plan of {name}")
        plans.append(so.plan_of(so.solve(other), name))
    # workers=0: a job's process may not start worker processes of its own, and the futures' numbers are
    # the same in process as on a cluster (the library's promise)
    result = so.stress(data, plans, futures=futures, seed=seed, workers=0, progress=progress)
    report(0.97, "Writing the stress-test workbook")
    workbook = so.write_stress(result, Path(folder) / "stress.xlsx")
    figure = so.stress_figure(result, Path(folder) / "stress.png")
    difference = so.paired_difference(result, *result.plans[:2]) if len(result.plans) > 1 else None
    return {"stress": result, "futures": futures, "seed": seed, "workbook": str(workbook), "figure": str(figure),
            "difference": difference}


#: The name of the plan for the levers as set when a stress test compares it with another.
PLAN_AS_SET = "plan for the levers as set"


def sleeper(report, seconds: float) -> str:
    """A job that only waits (the tests of cancelling use it)."""
    report(0.0, "Waiting")
    time.sleep(seconds)
    return "slept"
