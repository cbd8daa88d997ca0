"""The cost of de-risking: the optimum against one origin cap's max_share.

The model is built once; each point changes only the cap's mutable share and
re-solves warm. Owns the sweep and the search for the tightest feasible cap;
explaining infeasibility is `explain`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .compare import case_row
from ..inputs.data import SourcingData
from ..inputs.errors import InputError, Problem
from ..solving.explain import explain_infeasibility
from ..solving.results import Result, collect_results
from ..model import build
from ..solving.solver import HandedOver
from ..inputs.edits import Edit, apply_case

Progress = Callable[[float], None]

#: A share no plan can reach (deliveries are bounded): the swept cap does not bind.
UNCAPPED = 1e6


@dataclass
class Frontier:
    """table: one row per solved share (sweep points, the tightest feasible cap, the current cap).

    cap: the swept cap's name; tightest: the smallest feasible share (None if none is feasible);
    current: the share in the input (None when the input had no such cap).
    """

    table: pd.DataFrame
    cap: str
    tightest: float | None
    current: float | None
    unconstrained_share: float
    currency: str = "USD"
    results: dict[float, Result] = field(default_factory=dict, repr=False)
    explanation: str = ""


def resolve_cap(data: SourcingData, cap: str) -> tuple[SourcingData, list[int], float | None]:
    """The data with the cap present (added at 100% if the input has none), its rows, and its current share."""
    country, _, stage = cap.partition(":")
    country, stage = country.strip(), stage.strip() or None
    caps = data.origin_caps
    rows = [i for i, c in enumerate(caps.itertuples()) if c.country == country and c.stage == stage]
    if rows:
        shares = caps["max_share"].iloc[rows].unique()
        return data, rows, float(shares.max()) if len(shares) == 1 else float(shares.max())
    if country not in data.countries():
        raise InputError([Problem(None, None, None, f"no supplier has country '{country}', so there is no "
                                                    f"'{cap}' cap to sweep.")])
    if stage is not None and stage not in data.stages:
        raise InputError([Problem(None, None, None, f"unknown stage '{stage}'; use one of "
                                                    + ", ".join(data.stages) + ".")])
    origin = Problem(None, None, None, f"frontier cap {cap}")
    edit = Edit("origin_caps", (("country", "=", country), ("stage", "=", stage)), "max_share", "set", "1",
                origin, create=True)
    added = apply_case(data, f"cap {cap}", [edit])
    rows = [i for i, c in enumerate(added.origin_caps.itertuples()) if c.country == country and c.stage == stage]
    return added, rows, None


def frontier(data: SourcingData, cap: str = "China", points: int = 11, progress: Progress | None = None,
             tolerance: float = 1e-4) -> Frontier:
    """Sweep the cap's max_share from the unconstrained optimum's share down to 0.

    Marks the tightest feasible share (found by bisection to `tolerance`) and the input's own cap.
    """
    if points < 2:
        raise InputError([Problem(None, None, None, "a frontier needs at least 2 points.")])
    data, rows, current = resolve_cap(data, cap)
    names = set(data.origin_caps["cap"].iloc[rows])
    name = cap.replace(":", " ").strip()
    sweep = CapSweep(data, rows, progress)
    cache, at = sweep.results, sweep.at

    free = at(UNCAPPED)
    if not free.optimal:
        raise InputError([Problem(None, None, None, f"no plan exists even without the {name} cap "
                                                    f"({free.status}); the frontier needs a feasible start.")])
    start = _achieved(free, names)
    grid = np.linspace(start, 0.0, points)
    kinds = {float(round(s, 12)): "sweep" for s in grid}
    last_feasible, first_infeasible = None, None
    for share in grid:
        result = at(share)
        if result.optimal:
            last_feasible = share
        elif first_infeasible is None:
            first_infeasible = share
    tightest = 0.0 if first_infeasible is None else None
    if first_infeasible is not None and last_feasible is not None:
        low, high = first_infeasible, last_feasible
        while high - low > tolerance:
            middle = (low + high) / 2
            if at(middle).optimal:
                high = middle
            else:
                low = middle
        tightest = high
        kinds[float(round(high, 12))] = "tightest"
    if first_infeasible is not None and tightest is not None and tightest < start:
        # Sweep points that fall in the infeasible region leave the curve thin: add detail where it exists.
        for share in np.linspace(start, tightest, max(points // 2, 3) + 2)[1:-1]:
            if at(share).optimal:
                kinds.setdefault(float(round(share, 12)), "detail")
    if current is not None:
        at(current)
        kinds.setdefault(float(round(current, 12)), "current")
        if kinds[float(round(current, 12))] == "sweep":
            kinds[float(round(current, 12))] = "sweep, current"
    kinds.setdefault(float(round(start, 12)), "sweep")
    kinds[float(round(start, 12))] = "unconstrained" + (", current" if "current" in kinds[float(round(start, 12))]
                                                         else "")
    table = pd.DataFrame([_point(share, kinds.get(share, "search"), cache[share], name, names, tightest)
                          for share in sorted(kinds, reverse=True)])
    explanation = ""
    if first_infeasible is not None:
        message, _ = explain_infeasibility(_with_share(data, rows, first_infeasible))
        explanation = f"At {first_infeasible:.1%}: " + message
    return Frontier(table=table, cap=name, tightest=tightest, current=current, unconstrained_share=start,
                    currency=data.settings.currency, results={s: cache[s] for s in kinds},
                    explanation=explanation)


def _with_share(data: SourcingData, rows: list[int], share: float) -> SourcingData:
    """The data with the swept cap rows (only) at share."""
    caps = data.origin_caps.copy()
    caps.iloc[rows, caps.columns.get_loc("max_share")] = share
    return replace(data, origin_caps=caps)


class CapSweep:
    """One model, built once, re-solved warm at any share of the given cap rows (results cached by share)."""

    def __init__(self, data: SourcingData, rows: list[int], progress: Progress | None = None):
        self.built = build(data)
        self.rows = rows
        model = self.built.model
        self.solver = HandedOver(model, data.settings.time_limit)
        swept = set(rows)
        self.solver.track(con for block in (model.origin_cap, model.origin_cap_per_period)
                          for key, con in block.items() if key[0] in swept)
        self.progress = progress
        self.results: dict[float, Result] = {}

    def at(self, share: float) -> Result:
        share = float(round(share, 12))
        if share not in self.results:
            for i in self.rows:
                self.built.model.origin_cap_share[i] = share
            self.solver.refresh()
            if self.progress:
                self.progress(share)
            self.results[share] = collect_results(self.built, self.solver.solve(load=False), detail=False)
        return self.results[share]


def _achieved(result: Result, cap_names: set[str]) -> float:
    """The highest share reached under any of the swept caps (material, scenario, period)."""
    shares = result.origin_shares
    return float(shares.loc[shares["cap"].isin(cap_names), "share"].max())


def _point(share: float, kind: str, result: Result, cap_name: str, cap_names: set[str],
           tightest: float | None) -> dict:
    row = {"max_share": share, "point": kind}
    row.update(case_row("", result))
    del row["case"]
    if result.optimal:
        prices = result.shadow_prices
        row["achieved_share"] = _achieved(result, cap_names)
        # One max_share moves every swept cap row at once: its value is the sum of their prices.
        row["shadow_price_per_point"] = float(
            prices.loc[(prices["rule"] == "origin cap") & (prices["name"].isin(cap_names)), "value"].sum())
    else:
        floor = f"{tightest:.2%}" if tightest is not None else "any share"
        row["why"] = (f"No plan meets every rule with the {cap_name} cap at {share:.1%}: the tightest feasible "
                      f"cap is {floor}. " + row.get("why", ""))
    return row
