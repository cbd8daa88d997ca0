"""The cost of de-risking: the optimum against one share cap's max_share.

The model is built once; each point changes only the cap's mutable share and
re-solves warm. Owns the sweep and the search for the tightest feasible cap;
which rule a cap belongs to and how its share is set in the model are the
rule's (model/rules/, the sweep hooks); explaining infeasibility is `explain`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..inputs.data import SourcingData
from ..inputs.edits import Edit, apply_case, cap_label, parse_cap_key
from ..inputs.errors import InputError, Problem
from ..model import build
from ..model.rules import RULES, Rule
from ..model.rules.origin_caps import reached_share
from ..solving.explain import explain_infeasibility
from ..solving.pipeline import solve
from ..solving.results import Result, collect_results
from ..solving.solver import INFEASIBLE, HandedOver, SolveStopped
from .compare import case_row

Progress = Callable[[float], None]

#: A share no plan can reach (deliveries are bounded): the swept cap does not bind.
UNCAPPED = 1e6

#: The point kinds of `Frontier.table` (short names, kept for code) in the words the workbook and the
#: terminal show. The start is the optimum without the swept cap: other caps of the input may bind there
#: (the default sweep, China at any stage, starts where the bundled China refining cap binds).
POINT_WORDS = {"unconstrained": "swept cap not binding (start)", "sweep": "evenly spaced",
               "current": "the input's cap", "tightest": "tightest cap with a plan",
               "detail": "added where a plan exists", "stopped": "solver stopped here"}


def point_words(kind: str) -> str:
    """A point kind ("sweep, current") in words ("evenly spaced, the input's cap")."""
    return ", ".join(POINT_WORDS.get(part.strip(), part.strip()) for part in str(kind).split(","))


@dataclass
class Frontier:
    """table: one row per solved share (sweep points, the tightest feasible cap, the current cap).

    cap: the swept cap's name; tightest: the smallest feasible share (None if none is feasible);
    current: the share in the input (None when the input had no such cap).
    stopped: shares at which HiGHS stopped at the time limit (or otherwise without a proof): not on the
    curve, and when the bisection met one, `tightest` is only the smallest share proven feasible.
    """

    table: pd.DataFrame
    cap: str
    tightest: float | None
    current: float | None
    unconstrained_share: float
    currency: str = "USD"
    results: dict[float, Result] = field(default_factory=dict, repr=False)
    explanation: str = ""
    stopped: list[float] = field(default_factory=list)
    #: Why a share above 100% is on the curve, in words ("" when none is): see `over_demand_note`.
    over_demand: str = ""

    @property
    def points_in_words(self) -> pd.Series:
        """The table's `point` column in words (POINT_WORDS), on the table's index."""
        return self.table["point"].map(point_words)


@dataclass(frozen=True)
class SweptCap:
    """The rule a swept cap belongs to and its records (rows of the input) that one share moves together."""

    rule: Rule
    records: tuple

    @property
    def ids(self) -> set[str]:
        """The records' stable ids: what the result tables are joined on."""
        return {record.id for record in self.records}

    @property
    def positions(self) -> list[int]:
        return [record.position for record in self.records]


def resolve_cap(data: SourcingData, cap: str) -> tuple[SourcingData, SweptCap, float | None]:
    """The data with the cap present (added at 100% if the input has none), its rows, and its current share."""
    key = parse_cap_key(cap)
    if not key.country or "=" in cap:  # the sweep chooses the share: a share typed with it is a mistake
        raise InputError([Problem(None, None, None, "give the cap to sweep as a country or country:stage, "
                                                    "without a share (for example China or China:refining).")])
    rule = next(rule for rule in RULES if rule.sweeps(key))
    records = rule.swept(data, key)
    if records:
        return data, SweptCap(rule, tuple(records)), max(record.max_share for record in records)
    problems = rule.sweep_problems(data, key)
    if problems:
        raise InputError([Problem(None, None, None, problems[0])])
    origin = Problem(None, None, None, f"frontier cap {cap}")
    edit = Edit("origin_caps", (("country", "=", key.country), ("stage", "=", key.stage)), "max_share", "set", "1",
                origin, create=True)
    added = apply_case(data, f"cap {cap}", [edit])
    return added, SweptCap(rule, tuple(rule.swept(added, key))), None


def _key(share: float) -> float:
    """A share as the key of the results cache and the point table: bisection and linspace reach the same
    share by different roundings."""
    return float(round(share, 12))


#: What `method` may be. "auto" sweeps the monolithic LP: at large (127k variables, CVaR) the 22 warm
#: re-solves of the curve took about 3.3 s each against 6.6 s for a decomposed solve from scratch (bench/results.md).
FRONTIER_METHODS = ("auto", "monolithic", "decomposed")


def frontier(data: SourcingData, cap: str = "China", points: int = 11, progress: Progress | None = None,
             tolerance: float = 1e-4, method: str = "auto", workers: int | None = None,
             scheduler: str | None = None) -> Frontier:
    """Sweep the cap's max_share from the unconstrained optimum's share down to 0.

    Marks the tightest feasible share (found by bisection to `tolerance`) and the input's own cap.
    method: "auto" or "monolithic" (one model, re-solved warm at each point) or "decomposed" (each point
    solved by material, see `solve`, on workers/scheduler as there).
    """
    if method not in FRONTIER_METHODS:
        raise ValueError(f"method must be one of {', '.join(FRONTIER_METHODS)}, not {method!r}")
    if points < 2:
        raise InputError([Problem(None, None, None, "a frontier needs at least 2 points.")])
    data, swept, current = resolve_cap(data, cap)
    name = cap_label(cap)
    if method == "decomposed":
        sweep = DecomposedSweep(data, swept, progress, workers, scheduler)
    else:
        sweep = CapSweep(data, swept, progress)
    at = sweep.at

    free = at(UNCAPPED)
    if free.status == INFEASIBLE:
        raise InputError([Problem(None, None, None, f"no plan exists even without the {name} cap; the frontier "
                                                    "needs a feasible start (solve the instance to see why).")])
    if not free.optimal:
        raise SolveStopped(free.status, f"the frontier's first solve, without the {name} cap, stopped without a "
                                        f"proven optimum: {free.message}")
    start = reached_share(free.origin_shares, swept.ids)
    grid = np.linspace(start, 0.0, points)
    kinds = {_key(s): "sweep" for s in grid}
    last_feasible, first_infeasible = None, None
    for share in grid:
        result = at(share)
        if result.optimal:
            last_feasible = share
        elif result.status == INFEASIBLE and first_infeasible is None:
            first_infeasible = share
    tightest = None
    if first_infeasible is None:
        tightest = last_feasible  # 0 when every point solved; the smallest share proven when some stopped
    if first_infeasible is not None and last_feasible is not None:
        low, high = first_infeasible, last_feasible
        while high - low > tolerance:
            middle = (low + high) / 2
            point = at(middle)
            if point.optimal:
                high = middle
            elif point.status == INFEASIBLE:
                low = middle
            else:
                break  # stopped at the time limit: the tightest cap is known only to lie in [low, high]
        tightest = high
        kinds[_key(high)] = "tightest"
    if first_infeasible is not None and tightest is not None and tightest < start:
        # Sweep points that fall in the infeasible region leave the curve thin: add detail where it exists.
        for share in np.linspace(start, tightest, max(points // 2, 3) + 2)[1:-1]:
            if at(share).optimal:
                kinds.setdefault(_key(share), "detail")
    if current is not None:
        at(current)
        kinds[_key(current)] = "sweep, current" if kinds.get(_key(current)) == "sweep" else \
            kinds.get(_key(current), "current")
    unconstrained = kinds.get(_key(start), "sweep")
    kinds[_key(start)] = "unconstrained" + (", current" if "current" in unconstrained else "")
    explanation = ""
    if first_infeasible is not None:
        message, _ = explain_infeasibility(_with_share(data, swept, first_infeasible))
        explanation = f"At {first_infeasible:.1%}: " + message
    stopped = sorted((s for s, r in sweep.results.items() if not r.optimal and r.status != INFEASIBLE),
                     reverse=True)
    for share in stopped:
        kinds.setdefault(share, "stopped")
    table = pd.DataFrame([_point(share, kinds[share], sweep.results[share], name, swept, tightest)
                          for share in sorted(kinds, reverse=True)])
    return Frontier(table=table, cap=name, tightest=tightest, current=current, unconstrained_share=start,
                    currency=data.settings.currency, results={s: sweep.results[s] for s in kinds},
                    explanation=explanation, stopped=stopped,
                    over_demand=over_demand_note(table, sweep.results, swept, name))


def over_demand_note(table: pd.DataFrame, results: dict[float, Result], swept: SweptCap, name: str) -> str:
    """Why a share above 100% is on the curve, in words, from the point with the highest such share ("" when
    no share passes 100%).

    A share is what passes through the country divided by demand; a plan that buys more than the demand
    keeps the rest as stock (opening + delivered + unmet = demand + closing, so delivered > demand means
    closing > opening), and its share passes 100%. A manager reading 102% deserves that sentence, not a
    hidden number."""
    feasible = table[(table["status"] == "optimal") & (table["achieved_share"] > 1 + 1e-9)] \
        if "achieved_share" in table.columns else table.iloc[0:0]
    if feasible.empty:
        return ""
    point = feasible.loc[feasible["achieved_share"].idxmax()]
    shares = results[_key(point["max_share"])].origin_shares
    row = shares[shares["input_row"].isin(swept.ids)].sort_values("share").iloc[-1]
    where = f"'{row['scenario']}'" + (f", {row['period']}" if "period" in row and pd.notna(row["period"]) else "")
    through = " ".join(str(part) for part in (row["country"], row["stage"]) if pd.notna(part) and part)
    # The highest share is the start's: every other point's share is at most its max_share, below the start.
    return (f"Why a share above 100%: a share is what passes through {through} divided by demand. Where the "
            f"swept cap does not bind, the plan buys {row['share']:.1%} of the {row['material']} demand through "
            f"{through} in {where} and keeps the rest as stock, so the share passes 100%.")


def at_share(data: SourcingData, cap: str, share: float) -> SourcingData:
    """The data with the cap (a country or country:stage, as `frontier` takes it) at share, as the curve
    solves each of its points: added if the input has none, and above 100% allowed (the curve's start, the
    share the plan reaches without the cap, can exceed demand)."""
    if not share >= 0:
        raise InputError([Problem(None, None, None, f"a cap's share must be 0 or more, not {share!r}.")])
    added, swept, _ = resolve_cap(data, cap)
    return _with_share(added, swept, share)


def _with_share(data: SourcingData, swept: SweptCap, share: float) -> SourcingData:
    """The data with the swept cap rows (only) at share."""
    caps = data.origin_caps.copy()
    caps.iloc[swept.positions, caps.columns.get_loc("max_share")] = share
    return replace(data, origin_caps=caps)


class CapSweep:
    """One model, built once, re-solved warm at any share of the swept cap (results cached by share)."""

    def __init__(self, data: SourcingData, swept: SweptCap, progress: Progress | None = None):
        self.built = build(data)
        self.swept = swept
        self.solver = HandedOver(self.built.model, data.settings.time_limit)
        self.solver.track(swept.rule.swept_constraints(self.built.model, list(swept.records)))
        self.progress = progress
        self.results: dict[float, Result] = {}

    def at(self, share: float) -> Result:
        share = _key(share)
        if share not in self.results:
            self.swept.rule.set_share(self.built.model, list(self.swept.records), share)
            self.solver.refresh()
            if self.progress:
                self.progress(share)
            self.results[share] = collect_results(self.built, self.solver.solve(load=False), detail=False)
        return self.results[share]


class DecomposedSweep:
    """Each share solved afresh by the decomposition (results cached by share), for `method="decomposed"`."""

    def __init__(self, data: SourcingData, swept: SweptCap, progress: Progress | None = None,
                 workers: int | None = None, scheduler: str | None = None):
        self.data, self.swept, self.progress = data, swept, progress
        self.workers, self.scheduler = workers, scheduler
        self.results: dict[float, Result] = {}

    def at(self, share: float) -> Result:
        share = _key(share)
        if share not in self.results:
            if self.progress:
                self.progress(share)
            self.results[share] = solve(_with_share(self.data, self.swept, share), method="decomposed",
                                        workers=self.workers, scheduler=self.scheduler, explain=False)
        return self.results[share]


def _point(share: float, kind: str, result: Result, cap_name: str, swept: SweptCap,
           tightest: float | None) -> dict:
    row = {"max_share": share, "point": kind}
    row.update(case_row("", result))
    del row["case"]
    if result.optimal:
        prices = result.shadow_prices
        row["achieved_share"] = reached_share(result.origin_shares, swept.ids)
        # One max_share moves every swept cap row at once: its value is the sum of their prices.
        row["shadow_price_per_point"] = float(prices.loc[prices["input_row"].isin(swept.ids), "value"].sum())
    elif result.status == INFEASIBLE:
        floor = f"{tightest:.2%}" if tightest is not None else "any share"
        row["why"] = (f"No plan meets every rule with the {cap_name} cap at {share:.1%}: the tightest feasible "
                      f"cap is {floor}. " + row.get("why", ""))
    return row
