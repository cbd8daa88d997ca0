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


def solve(data: SourcingData | str | Path, *, time_limit: float | None = None,
          options: dict | None = None, explain: bool = True) -> Result:
    """Read (if given a path), build, solve and collect results: the whole pipeline.

    Returns a `Result`; its status says whether a plan exists, and when the policy is infeasible
    (and explain is true) its message and explanation say which rules to relax and how far.
    Bad input raises InputError.
    """
    if not isinstance(data, SourcingData):
        data = read_instance(data)
    built = build(data)
    run = solve_once(built.model, time_limit if time_limit is not None else data.settings.time_limit, options)
    result = collect_results(built, run)
    if run.status == INFEASIBLE and explain:
        result.message, result.explanation = explain_infeasibility(data)
    return result
