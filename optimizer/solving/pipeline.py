"""The whole pipeline in one call: read (if given a path), build, solve, collect results, explain.

Owns only the order of the stages; each stage lives in its own module.
"""

from __future__ import annotations

from pathlib import Path

from ..inputs import read_instance
from ..inputs.data import SourcingData
from ..model import build
from .explain import explain_infeasibility
from .results import Result, collect_results
from .solver import INFEASIBLE, solve_once

METHODS = ("auto", "monolithic", "decomposed")

#: `method="auto"` decomposes models of at least this many variables: measured in bench/results.md
#: ("Decomposition"), below it one HiGHS solve of the whole LP takes less than splitting it.
DECOMPOSE_FROM = 20_000
#: a decomposed solve with `workers=None` runs its blocks in worker processes from this many variables
#: (starting them costs a few seconds), in this process below it
PARALLEL_FROM = 400_000


def choose_method(method: str, variables: int) -> str:
    """"monolithic" or "decomposed" for a model of this many variables (see DECOMPOSE_FROM)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "auto":
        return "decomposed" if variables >= DECOMPOSE_FROM else "monolithic"
    return method


def solve(data: SourcingData | str | Path, *, time_limit: float | None = None,
          options: dict | None = None, explain: bool = True, method: str = "auto",
          workers: int | None = None, scheduler: str | None = None, gap: float | None = None) -> Result:
    """Read (if given a path), build, solve and collect results: the whole pipeline.

    method: "monolithic" (one HiGHS solve of the whole LP), "decomposed" (by material, in parallel; with
    CVaR or a budget by column generation to a relative gap, see solving/decomposition.py), or "auto" (by
    the model's size). workers, scheduler: where a decomposed solve runs its blocks (see Executor; workers=0
    in this process); gap: the relative gap at which column generation stops (default 1e-7).
    Returns a `Result`; its status says whether a plan exists, and when the policy is infeasible
    (and explain is true) its message and explanation say which rules to relax and how far.
    Bad input raises InputError.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not isinstance(data, SourcingData):
        data = read_instance(data)
    built = build(data)
    limit = time_limit if time_limit is not None else data.settings.time_limit
    variables = built.model.nvariables()
    if choose_method(method, variables) == "decomposed":
        run = solve_by_material(built.model, limit, options, workers, scheduler, gap, variables)
    else:
        run = solve_once(built.model, limit, options)
    result = collect_results(built, run)
    if run.status == INFEASIBLE and explain:
        result.message, result.explanation = explain_infeasibility(data)
    return result


def solve_by_material(model, time_limit: float | None, options: dict | None, workers: int | None,
                      scheduler: str | None, gap: float | None, variables: int):
    """The decomposed solve on an Executor (in this process below PARALLEL_FROM variables unless told)."""
    from .decomposition import DEFAULT_GAP, solve_decomposed
    from .executor import Executor

    # unasked, a model below PARALLEL_FROM is solved here, its first round forked when that pays (see
    # decomposition.FORK_FROM); workers=0 keeps every solve in this process
    fork = workers is None and scheduler is None
    if fork and variables < PARALLEL_FROM:
        workers = 0
    with Executor(workers=workers, scheduler=scheduler) as executor:
        return solve_decomposed(model, time_limit, options, None if executor.in_process else executor,
                                DEFAULT_GAP if gap is None else gap, fork=fork)
