"""The bare side of every benchmark comparison: highspy alone, nothing of the optimizer.

    python bench/bare.py solve LP.mps '{"solver": "ipm"}'       # one solve; prints JSON
    python bench/bare.py sweep LP.mps ROWS.json '[0.8, 0.7]'     # the 21-point sweep's warm re-solves

It imports only highspy (which loads numpy itself) and the standard library, so that neither the time nor
the peak memory of the bare side carries Pyomo, pandas or the optimizer's own imports. The options are
the optimizer's own (HiGHS defaults and a fixed seed), copied here rather than imported; `bench/run.py`
checks that the two agree before it measures.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import highspy
import numpy as np  # already loaded by highspy: no cost of its own

#: The optimizer's HIGHS_OPTIONS (optimizer/solving/solver.py); bench/run.py refuses to run if they differ.
HIGHS_OPTIONS: dict[str, object] = {"random_seed": 0}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read(mps: str, options: dict) -> highspy.Highs:
    saved = os.dup(1)  # HiGHS prints a banner at its first construction; keep stdout for the JSON
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    for key, value in {**HIGHS_OPTIONS, **options}.items():
        highs.setOptionValue(key, value)
    if highs.readModel(mps) != highspy.HighsStatus.kOk:
        raise RuntimeError(f"highspy could not read {mps}")
    return highs


def solve(mps: str, options: dict) -> dict:
    """Read and solve once; 'solve' is HiGHS's run alone, 'read' the MPS read."""
    t = time.perf_counter()
    highs = read(mps, options)
    read_seconds = time.perf_counter() - t
    t = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - t
    return {"read": read_seconds, "solve": seconds, "status": highs.modelStatusToString(highs.getModelStatus()),
            "objective": highs.getInfo().objective_function_value, "peak_mib": peak_mib()}


def sweep(mps: str, rows_file: str, shares: list[float]) -> dict:
    """Read once, then for the uncapped start and each share change the cap rows' bounds and re-solve warm."""
    with open(rows_file) as handle:
        spec = json.load(handle)
    rows = np.array([r for r, _ in spec["rows"]], dtype=np.int32)
    demand = np.array([rhs for _, rhs in spec["rows"]], dtype=float) / spec["share"]
    t = time.perf_counter()
    highs = read(mps, {})
    objectives = []
    for share in [1e6] + shares:  # the frontier's UNCAPPED start, then the grid
        highs.changeRowsBounds(len(rows), rows, np.full(len(rows), -np.inf), share * demand)
        highs.run()
        optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        objectives.append(highs.getInfo().objective_function_value if optimal else None)
    return {"seconds": time.perf_counter() - t, "objectives": objectives[1:], "peak_mib": peak_mib()}


def main(argv: list[str]) -> None:
    if argv[:1] == ["solve"] and len(argv) in (2, 3):
        out = solve(argv[1], json.loads(argv[2]) if len(argv) == 3 else {})
    elif argv[:1] == ["sweep"] and len(argv) == 4:
        out = sweep(argv[1], argv[2], json.loads(argv[3]))
    else:
        sys.exit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
