"""Solve the base instance and every what-if case, and put them side by side.

Owns the comparison tables; solving is `solving.pipeline`'s, edits are `inputs.edits`'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..inputs.data import SourcingData
from ..inputs.edits import Edit, apply_case, case_edits
from ..inputs.errors import InputError
from ..model.rules.origin_caps import reached_share
from ..solving.pipeline import solve
from ..solving.results import COST_PARTS, Result

BASE = "base"

Progress = Callable[[str], None]


@dataclass
class Comparison:
    """summary: one row per case (base first); moves: expected purchases by material and supplier,
    base against each case; results: the full Result of every case that could be built."""

    summary: pd.DataFrame
    moves: pd.DataFrame
    results: dict[str, Result] = field(repr=False, default_factory=dict)
    currency: str = "USD"


def expected_flows(result: Result) -> pd.DataFrame:
    """Probability-weighted quantity and cost per material and supplier (contracts, spot and draws)."""
    flows = result.flows.merge(result.scenario_costs[["scenario", "probability"]], on="scenario")
    flows["quantity"] *= flows["probability"]
    flows["cost"] = flows["cost"] * flows["probability"]
    grouped = flows.groupby(["material", "supplier"], sort=False)[["quantity", "cost"]].sum()
    fees = result.plan[result.plan["decision"] == "stockpile reservation"]
    for row in fees.itertuples():
        key = (row.material, row.supplier)
        fee = row.expected_cost
        if key in grouped.index:
            grouped.loc[key, "cost"] += fee
        else:
            grouped.loc[key, ["quantity", "cost"]] = [0.0, fee]
    return grouped


def case_row(name: str, result: Result) -> dict:
    """One line of the comparison: expected cost and its parts, risk, dependency, service."""
    row: dict[str, object] = {"case": name, "status": result.status}
    if not result.optimal:
        row["why"] = " ".join(line.strip() for line in result.message.splitlines())
        return row
    costs = result.scenario_costs
    p = costs["probability"].to_numpy()
    headline = result.headline
    row["why"] = ""
    row["objective"] = result.objective
    row["expected_cost"] = headline["expected_cost"]
    for part in COST_PARTS:
        row[part] = float(np.dot(p, costs[part]))
    row["cvar"] = headline["cvar"]
    row["worst_scenario_cost"] = headline["worst_scenario_cost"]
    shares = result.origin_shares
    # Joined on each cap row's stable id; the column is headed with its name. The share a cap reached is
    # the one definition of origin_caps.reached_share (the highest over the rows it constrains).
    for input_row, group in shares.groupby("input_row", sort=False):
        row[f"share {group['cap'].iloc[0]}"] = reached_share(group, {input_row})
    row["dependency_share"] = headline["dependency_share"]
    row["lowest_fill_rate"] = headline["lowest_fill_rate"]
    return row


def compare(data: SourcingData, cases: dict[str, list[Edit] | SourcingData] | None = None,
            progress: Progress | None = None, *, method: str = "auto", workers: int | None = None,
            scheduler: str | None = None) -> Comparison:
    """Solve the base and each case (default: the cases sheet). Every case is applied and validated before
    any is solved: a bad case raises InputError naming its rows of the cases sheet (every bad case at once).
    An infeasible case, or one that stopped at the time limit, is a row that says so. A case may also be
    the data of the case itself (for example a curve's point, `at_share`), solved as it is.

    method: how each case is solved (see `solve`). workers, scheduler: with workers of 1 or more, or a
    scheduler, the cases themselves are solved in parallel on that Executor (each case's decomposed blocks,
    if any, in its worker's process); otherwise one after the other here, each as `solve` does by default."""
    cases = case_edits(data) if cases is None else cases
    prepared: dict[str, SourcingData] = {BASE: data}
    problems = []
    for name, edits in cases.items():
        try:
            prepared[name] = (edits if isinstance(edits, SourcingData) else
                              data if not edits else apply_case(data, name, edits))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    names = list(prepared)
    if (workers or 0) > 0 or scheduler is not None:
        from ..solving.executor import Executor

        def reached(done: int, total: int) -> None:
            if progress and done:
                progress(names[done - 1])

        with Executor(workers=workers, scheduler=scheduler) as executor:
            solved = executor.map(_solve_case, list(prepared.values()), shared=method, progress=reached)
    else:
        solved = []
        for name, case_data in prepared.items():
            if progress:
                progress(name)
            solved.append(solve(case_data, method=method))
    results: dict[str, Result] = dict(zip(names, solved))
    rows = [case_row(name, result) for name, result in results.items()]
    summary = pd.DataFrame(rows)
    return Comparison(summary=summary, moves=_moves(results), results=results,
                      currency=data.settings.currency)


def _solve_case(method: str, case_data: SourcingData) -> Result:
    """One case in a worker process (blocks of a decomposed solve in that process: no cluster inside one)."""
    return solve(case_data, method=method, workers=0)


def _moves(results: dict[str, Result]) -> pd.DataFrame:
    """How expected purchases move between suppliers, by material, against the base."""
    columns = ["case", "material", "supplier", "unit", "base_quantity", "case_quantity", "change_quantity",
               "base_cost", "case_cost", "change_cost"]
    base = results.get(BASE)
    if base is None or not base.optimal:
        return pd.DataFrame(columns=columns)
    before = expected_flows(base)
    frames = []
    for name, result in results.items():
        if name == BASE or not result.optimal:
            continue
        after = expected_flows(result)
        joined = before.join(after, how="outer", suffixes=("_base", "_case")).fillna(0.0)
        frame = pd.DataFrame({
            "case": name,
            "base_quantity": joined["quantity_base"], "case_quantity": joined["quantity_case"],
            "change_quantity": joined["quantity_case"] - joined["quantity_base"],
            "base_cost": joined["cost_base"], "case_cost": joined["cost_case"],
            "change_cost": joined["cost_case"] - joined["cost_base"],
        }).reset_index()
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=columns)
    order = {name: i for i, name in enumerate(results)}
    moves = pd.concat(frames, ignore_index=True)
    moves["unit"] = moves["material"].map(base.data.materials["unit"].fillna("unit"))
    moves = moves[(moves["change_quantity"].abs() > 1e-6) | (moves["change_cost"].abs() > 1e-6)]
    # the biggest moves of money first, within each case
    moves = moves.assign(_case=moves["case"].map(order), _size=-moves["change_cost"].abs())
    moves = moves.sort_values(["_case", "_size"], kind="stable")
    return moves[columns].reset_index(drop=True)
