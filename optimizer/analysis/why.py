"""Why these suppliers: the price range over which each contract offer keeps the plan optimal, the price
at which an offer left out would enter, what one unit more or less of a binding capacity is worth on
each side, and whether the optimum is unique.

The model is handed to HiGHS once; each question changes the offer's price (its objective coefficients and,
with a CVaR term, budget or CVaR cap, its coefficients in those rows too, which plain cost ranging would
miss) or a capacity, and re-solves warm. "The plan stays optimal" means: with the contracts and reservations
held at the plan's values, re-optimising the recourse costs no more than the best plan at that price.
Owns these questions only; solving is solving.solver's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ..inputs.data import SourcingData
from ..model import build
from ..solving.solver import OPTIMAL, hand_over

#: How far a price is moved when looking for the edge of its range: 0 to MAX_FACTOR x today's price.
MAX_FACTOR = 4.0
#: Bisection steps per edge (the edge is known to MAX_FACTOR / 2**STEPS of the price).
STEPS = 12
#: Above this many variables the questions are not asked (each is dozens of re-solves of the whole model).
WHY_LIMIT = 20_000
WHY_COLUMNS = ["kind", "supplier", "material", "period", "in_plan", "price", "low", "high", "unit", "line"]


@dataclass
class WhyAnalysis:
    """table: one row per contract offer (price range, entry price) and per binding capacity (both sides);
    lines: the most telling sentences for the Summary; unique: whether the optimum is unique (no nonbasic
    decision with a zero reduced cost)."""

    table: pd.DataFrame
    lines: list[str]
    unique: bool
    note: str = ""


class _Lp:
    """The model in HiGHS with the handles the questions need."""

    def __init__(self, data: SourcingData):
        self.built = build(data)
        model = self.built.model
        self.highs, self.form = hand_over(model, data.settings.time_limit)
        self.column = {id(v): j for j, v in enumerate(self.form.columns)}
        price_constraints = set()
        for name in ("cost_excess_definition", "budget", "cvar_cap"):
            component = getattr(model, name, None)
            if component is not None:
                price_constraints |= {id(c) for c in (component.values() if component.is_indexed() else [component])}
        self.price_rows = {i for i, (con, _) in enumerate(self.form.rows) if id(con) in price_constraints}
        lp = self.highs.getLp()
        self.start = np.asarray(lp.a_matrix_.start_)
        self.index = np.asarray(lp.a_matrix_.index_)
        self.value = np.asarray(lp.a_matrix_.value_)
        self.cost = np.asarray(lp.col_cost_, dtype=float)
        self.lower = np.asarray(lp.col_lower_, dtype=float)
        self.upper = np.asarray(lp.col_upper_, dtype=float)
        self.first_stage = np.array([self.column[id(v)] for v in list(model.contract_quantity.values())
                                     + list(model.reserved_quantity.values()) if id(v) in self.column], dtype=np.int32)
        self.position = {int(j): i for i, j in enumerate(self.first_stage)}  # column -> index in the plan
        self.status, self.objective = self.run()
        self.plan = self.values()[self.first_stage] if self.status == OPTIMAL else None

    def run(self) -> tuple[str, float]:
        import highspy

        self.highs.run()
        status = OPTIMAL if self.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal else "not optimal"
        return status, float(self.highs.getInfo().objective_function_value)

    def values(self) -> np.ndarray:
        return np.asarray(self.highs.getSolution().col_value, dtype=float)

    def columns_of(self, variables) -> list[int]:
        return [self.column[id(v)] for v in variables if id(v) in self.column]

    def scale_price(self, columns: list[int], factor: float) -> None:
        """Every price-carrying coefficient of these columns at factor x its value in the input."""
        if not columns:
            return
        index = np.asarray(columns, dtype=np.int32)
        self.highs.changeColsCost(len(index), index, self.cost[index] * factor)
        for j in columns:
            rows, values = self._price_coefficients(j)
            for i, value in zip(rows, values):
                self.highs.changeCoeff(i, j, value * factor)

    def _price_coefficients(self, j: int) -> tuple[list[int], list[float]]:
        """Column j's coefficients in the rows that carry prices (scenario costs, budget, CVaR cap), once."""
        cache = self.__dict__.setdefault("_price_cache", {})
        if j not in cache:
            k = np.arange(self.start[j], self.start[j + 1])
            rows = self.index[k]
            keep = np.fromiter((int(i) in self.price_rows for i in rows), dtype=bool, count=len(rows))
            cache[j] = ([int(i) for i in rows[keep]], [float(v) for v in self.value[k][keep]])
        return cache[j]

    def plan_stays_optimal(self) -> bool:
        """Whether the plan's first-stage decisions are optimal for the LP as it now stands."""
        status, best = self.run()
        if status != OPTIMAL:
            return False
        n = len(self.first_stage)
        self.highs.changeColsBounds(n, self.first_stage, self.plan, self.plan)
        status, fixed = self.run()
        self.highs.changeColsBounds(n, self.first_stage, self.lower[self.first_stage], self.upper[self.first_stage])
        return status == OPTIMAL and fixed <= best + 1e-9 * max(1.0, abs(best)) + 1e-7


def _edge(inside: float, outside: float, holds) -> float:
    """The last factor between inside (where holds) and outside (where it does not) at which it holds."""
    for _ in range(STEPS):
        middle = (inside + outside) / 2
        if holds(middle):
            inside = middle
        else:
            outside = middle
    return inside


def why_these_suppliers(data: SourcingData, variables: int | None = None) -> WhyAnalysis:
    """Price ranges and entry prices of the contract offers, both sides of binding capacities, uniqueness.

    variables: the model's size when the caller knows it (a Result's run_info), which spares a build to
    find out whether the model is small enough to ask.
    """
    if variables is not None:
        size = int(variables)
    else:
        size = build(data).model.nvariables() if len(data.offers) * len(data.scenarios) > WHY_LIMIT / 10 else 0
    if size > WHY_LIMIT:
        return WhyAnalysis(pd.DataFrame(columns=WHY_COLUMNS), [], True,
                           f"Not explained: the model has {size:,} variables (more than {WHY_LIMIT:,}), and each "
                           "price range takes dozens of re-solves of it.")
    lp = _Lp(data)
    if lp.status != OPTIMAL:
        return WhyAnalysis(pd.DataFrame(columns=WHY_COLUMNS), [], True, "no plan to explain")
    model = lp.built.model
    currency = data.settings.currency
    units = data.materials["unit"].fillna("unit")
    offers = {}
    for key in model.CONTRACT_OFFERS:
        offers.setdefault(key[:2], []).append(key)
    rows = []
    for (supplier, material), keys in offers.items():
        columns = lp.columns_of([model.contract_quantity[k] for k in keys])
        if not columns:
            continue
        price = float(data.offers.loc[keys[0], "price"])
        signed = float(sum(lp.plan[lp.position[j]] for j in columns)) > 1e-9

        def holds(factor: float, columns=columns) -> bool:
            lp.scale_price(columns, factor)
            stays = lp.plan_stays_optimal()
            lp.scale_price(columns, 1.0)
            return stays

        low = _edge(1.0, 0.0, holds) if not holds(0.0) else 0.0
        high = np.inf
        if signed:
            high = MAX_FACTOR if holds(MAX_FACTOR) else _edge(1.0, MAX_FACTOR, holds)
        unit = f"{currency}/{units[material]}"
        if signed:
            top = f"{MAX_FACTOR:g} times today's price" if high >= MAX_FACTOR else f"{price * high:,.2f} {unit}"
            span = f"at any price up to {top}" if low <= 0 else f"between {price * low:,.2f} and {top}"
            line = f"{supplier} {material} stays in the plan as signed {span} (now {price:,.2f} {unit})"
        elif low > 0:
            line = f"{supplier} {material} enters the plan below {price * low:,.2f} {unit} (now {price:,.2f})"
        else:
            line = f"{supplier} {material} stays out of the plan even at a price of 0"
        rows.append({"kind": "offer price", "supplier": supplier, "material": material, "period": None,
                     "in_plan": signed, "price": price, "low": price * low,
                     "high": price * high if np.isfinite(high) and high < MAX_FACTOR else np.nan,
                     "unit": unit, "line": line})
    lp.scale_price([], 1.0)
    rows += _capacity_sides(lp, data, currency, units)
    table = pd.DataFrame(rows, columns=WHY_COLUMNS)
    unique, note = _uniqueness(lp)
    return WhyAnalysis(table, _telling(table), unique, note)


def _capacity_sides(lp: _Lp, data: SourcingData, currency: str, units: pd.Series) -> list[dict]:
    """For each contract capacity that binds: what one unit more saves and one unit less costs (re-solves)."""
    model = lp.built.model
    rows = []
    for key, con in model.contract_capacity.items():
        supplier, material, period = key
        var = model.contract_quantity[key]
        j = lp.column.get(id(var))
        if j is None:
            continue
        capacity = float(pyo.value(con.upper))
        if lp.plan[lp.position[j]] < capacity - 1e-7:
            continue
        row_index = [i for i, (c, _) in enumerate(lp.form.rows) if c is con]
        step = 1.0

        def objective_at(bound: float) -> float:
            if row_index:
                offset = float(lp.form.rhs[row_index[0]]) - capacity
                lp.highs.changeRowBounds(row_index[0], -np.inf, bound + offset)
            else:
                lp.highs.changeColBounds(j, float(lp.lower[j]), bound)
            _, value = lp.run()
            return value

        more = lp.objective - objective_at(capacity + step)
        fewer = objective_at(capacity - step) - lp.objective
        objective_at(capacity)
        lp.run()
        if max(abs(more), abs(fewer)) < 1e-6:
            continue
        unit = units[material]
        line = (f"{supplier} {material} capacity in {period}: one more {unit} saves {more:,.2f} {currency}, "
                f"one fewer costs {fewer:,.2f} {currency}")
        rows.append({"kind": "capacity", "supplier": supplier, "material": material, "period": period,
                     "in_plan": True, "price": np.nan, "low": more, "high": fewer, "unit": f"{currency}/{unit}",
                     "line": line})
    return rows


def _uniqueness(lp: _Lp) -> tuple[bool, str]:
    """A nonbasic first-stage decision with a zero reduced cost could move at no cost: the optimum is not
    unique (and another solver may sign differently for the same cost)."""
    import highspy

    lp.run()
    basis = lp.highs.getBasis()
    duals = np.asarray(lp.highs.getSolution().col_dual, dtype=float)
    status = list(basis.col_status)
    free = [j for j in lp.first_stage if status[j] != highspy.HighsBasisStatus.kBasic and abs(duals[j]) < 1e-9]
    if not free:
        return True, ""
    return False, (f"The optimum is not unique: {len(free)} of the {len(lp.first_stage)} contract and reservation "
                   "decisions could change at no cost, so another solver may sign differently for the same cost.")


def _telling(table: pd.DataFrame) -> list[str]:
    """The two or three most telling lines: the offer left out that is closest to entering, the signed offer
    closest to losing its place, and the capacity worth most."""
    lines = []
    offers = table[table["kind"] == "offer price"]
    out = offers[~offers["in_plan"] & (offers["low"] > 0)]
    if len(out):
        lines.append(out.loc[(out["low"] / out["price"]).idxmax(), "line"])
    signed = offers[offers["in_plan"] & offers["high"].notna()]
    if len(signed):
        lines.append(signed.loc[(signed["high"] / signed["price"]).idxmin(), "line"])
    capacities = table[table["kind"] == "capacity"]
    if len(capacities):
        lines.append(capacities.loc[capacities["low"].abs().idxmax(), "line"])
    return lines
