"""Why these suppliers: the price range over which each contract offer keeps the plan optimal, the price
at which an offer left out would enter, for every shadow price the range of its right-hand side over which
it holds and what one unit more or fewer is worth on each side, and whether the optimum is unique.

The model is handed to HiGHS once; each question changes the offer's price (its objective coefficients and,
with a CVaR term, budget or CVaR cap, its coefficients in those rows too, which plain cost ranging would
miss) or a right-hand side (a cap's share moves one row per scenario, so single-row ranging would miss it
too), and re-solves warm. "The plan stays optimal" means: with the contracts and reservations held at the
plan's values, re-optimising the recourse costs no more than the best plan at that price. A shadow price
"holds" where the objective, as a function of the right-hand side, stays on the straight line of that slope
(it is convex and piecewise linear, so that is one interval; its ends are found where the tangents cross).
Owns these questions only; solving is solving.solver's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.core as pyo

from ..inputs.data import SourcingData
from ..model import build
from ..model.formulation import capacity_parameters
from ..model.rules import RULES
from ..model.rules.base import Parameter
from ..solving.executor import forked_map
from ..solving.solver import OPTIMAL, hand_over

#: How far a price is moved when looking for the edge of its range: 0 to MAX_FACTOR x today's price.
MAX_FACTOR = 4.0
#: Precision of a price range's edge: 1 / 2**STEPS of the interval searched (today's price to 0 or to
#: MAX_FACTOR x), what this many halvings would give.
STEPS = 12
#: A crossing that leaves more than this share of the interval is followed by a halving (so that every two
#: steps at least halve it, as halving alone would).
SHRINK = 0.5
#: Above this many variables the questions are not asked (each is dozens of re-solves of the whole model).
WHY_LIMIT = 20_000
#: The questions are shared among processes forked from this one, one per core, from this many variables x
#: questions (forking costs about 20 ms a process: the bundled instance, 1,049 variables x 109 questions,
#: went from 0.33 s to 0.24 s on 2 cores)
FORK_FROM = 100_000
#: Re-solves allowed per edge of a shadow price's range (each tangent crossing finds the next kink).
REACH_STEPS = 30
#: offer rows (kind "offer price" for contracts and reservations, "spot price"; rule: contract, spot or
#: reservation): price (also as now; a reservation's fee) and its range low..high in unit; shadow-price rows:
#: the right-hand side now and the range low..high over which shadow_price (in value_unit) holds, in unit, and
#: the objective moved by one unit more and one unit fewer (in the direction of the shadow-price table's meaning).
WHY_COLUMNS = ["kind", "rule", "name", "supplier", "material", "scenario", "period", "in_plan", "price", "now", "low",
               "high", "unit", "shadow_price", "one_more", "one_fewer", "value_unit", "line"]


@dataclass
class WhyAnalysis:
    """table: one row per contract offer (price range, entry price) and per shadow price (range, both sides);
    lines: the most telling sentences for the Summary; unique: whether the optimum is unique (no nonbasic
    decision with a zero reduced cost)."""

    table: pd.DataFrame
    lines: list[str]
    unique: bool
    note: str = ""


class _Lp:
    """The model in HiGHS with the handles the questions need."""

    def __init__(self, data: SourcingData):
        import highspy

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
        self.row_lower = np.asarray(lp.row_lower_, dtype=float)
        self.row_upper = np.asarray(lp.row_upper_, dtype=float)
        self.rows_of: dict[int, list[int]] = {}  # id(constraint) -> its rows (a ranged one has two)
        for i, (con, _) in enumerate(self.form.rows):
            self.rows_of.setdefault(id(con), []).append(i)
        self.lower = np.asarray(lp.col_lower_, dtype=float)
        self.upper = np.asarray(lp.col_upper_, dtype=float)
        self.first_stage = np.array([self.column[id(v)] for v in list(model.contract_quantity.values())
                                     + list(model.reserved_quantity.values()) if id(v) in self.column], dtype=np.int32)
        self.position = {int(j): i for i, j in enumerate(self.first_stage)}  # column -> index in the plan
        self.status, self.objective = self.run()
        self.base_values = self.values()
        self.plan = self.base_values[self.first_stage] if self.status == OPTIMAL else None
        # the row duals of the LP as stated: every right-hand side's price is read from them, without a re-solve
        self.row_duals = np.asarray(self.highs.getSolution().row_dual, dtype=float) if self.plan is not None else None
        # HiGHS's ranging of each row's bound: how far it moves before the optimal basis changes (a kink, or
        # a degenerate change of basis with the same dual); a first guess for the ranges of single rows
        self.row_up = self.row_down = None
        if self.plan is not None:
            status, ranging = self.highs.getRanging()
            if status == highspy.HighsStatus.kOk:
                self.row_up = np.asarray(ranging.row_bound_up.value_, dtype=float)
                self.row_down = np.asarray(ranging.row_bound_dn.value_, dtype=float)
                basis = self.highs.getBasis().row_status
                self.row_basic = np.array([b == highspy.HighsBasisStatus.kBasic for b in basis], dtype=bool)
            self.basis = self.highs.getBasis()

    def restart(self) -> None:
        """Back to the optimal basis of the LP as stated (its bounds and prices are restored by each
        question), so that the next question's first re-solve starts where the plan was found."""
        self.highs.setBasis(self.basis)

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

    def slope(self, columns: list[int], values: np.ndarray, row_duals: np.ndarray) -> float:
        """d objective / d factor of these columns' prices at a solution (values, row duals): each column's
        quantity times its price less the price rows' duals times its coefficients there (the envelope
        theorem; HiGHS's row duals are d objective / d right-hand side)."""
        total = 0.0
        for j in columns:
            rows, coefficients = self._price_coefficients(j)
            total += values[j] * (self.cost[j] - float(row_duals[rows] @ np.asarray(coefficients))) if rows \
                else values[j] * self.cost[j]
        return total

    def run_fixed(self, first_stage: np.ndarray):
        """Re-solve with the first-stage decisions held at these values, then free them again: the status,
        the objective and, when solved, HiGHS's solution of the fixed LP."""
        n = len(self.first_stage)
        self.highs.changeColsBounds(n, self.first_stage, first_stage, first_stage)
        status, objective = self.run()
        solution = self.highs.getSolution() if status == OPTIMAL else None
        self.highs.changeColsBounds(n, self.first_stage, self.lower[self.first_stage], self.upper[self.first_stage])
        return status, objective, solution

    def ties_at_today(self, columns: list[int], factor: float) -> bool:
        """Whether the best plan at `factor` x these columns' prices signs differently from the plan and, held
        fixed, costs what the plan costs at today's prices (then the optimum is not unique). Leaves the
        prices at today's."""
        self.scale_price(columns, factor)
        status, _ = self.run()
        other = self.values()[self.first_stage] if status == OPTIMAL else None
        self.scale_price(columns, 1.0)
        if other is None or np.allclose(other, self.plan, rtol=1e-7, atol=1e-5):
            return False
        status, fixed, _ = self.run_fixed(other)
        return status == OPTIMAL and _no_dearer(fixed, self.objective)

    def probe(self, columns: list[int], floor: float = -np.inf) -> tuple[bool, float, float]:
        """Whether the plan's first-stage decisions are optimal for the LP as it now stands (with these
        columns' prices moved), with the objective and its slope in the price factor: the plan's where it
        stays optimal, the better plan's where it does not (nan when the LP has no optimum).

        floor: a lower bound on the plan's own objective here; a best plan cheaper than that proves the plan
        is not optimal, without re-solving it with its decisions fixed."""
        status, best = self.run()
        if status != OPTIMAL:
            return False, np.nan, np.nan
        values, duals = _arrays(self.highs.getSolution())
        if np.allclose(values[self.first_stage], self.plan, rtol=1e-9, atol=1e-7):
            return True, best, self.slope(columns, values, duals)  # the best plan here is the plan itself
        if not _no_dearer(floor, best):
            return False, best, self.slope(columns, values, duals)
        status, fixed, solution = self.run_fixed(self.plan)
        if status == OPTIMAL and _no_dearer(fixed, best):
            return True, fixed, self.slope(columns, *_arrays(solution))
        return False, best, self.slope(columns, values, duals)


def _arrays(solution) -> tuple[np.ndarray, np.ndarray]:
    """A HiGHS solution's column values and row duals."""
    return np.asarray(solution.col_value, dtype=float), np.asarray(solution.row_dual, dtype=float)


def _no_dearer(cost: float, best: float) -> bool:
    """Whether cost is no more than best, to HiGHS's precision (relative 1e-9, absolute 1e-7)."""
    return cost <= best + 1e-9 * max(1.0, abs(best)) + 1e-7


def _edge(inside: tuple[float, float, float], outside: tuple[float, float, float],
          probe) -> tuple[float, float, bool]:
    """The last factor between inside (where the plan holds) and outside (where it does not), each given as
    (factor, objective, slope) as probe(factor) returns them with its bool, to within 1 / 2**STEPS of the
    distance between them; the factor just beyond it where the plan was found not to hold; and whether the
    LP has no optimum there (objective nan: no plan meets every rule, rather than a better plan).

    Each side's objective is linear in the factor between kinks, so where the plan's line (from the inside)
    crosses the better plan's (from the outside) is the edge itself once no other kink lies between: a probe
    there and one a step beyond prove it. Otherwise the probes narrow the interval and the next crossing is
    tried; a crossing that fails to settle it is followed by a halving, so it never takes many more probes
    than halving alone."""
    tolerance = abs(outside[0] - inside[0]) / 2 ** STEPS
    sign = 1.0 if outside[0] > inside[0] else -1.0
    halve = False

    def within(factor: float) -> bool:
        return sign * inside[0] < sign * factor < sign * outside[0]

    for _ in range(4 * STEPS):
        if abs(outside[0] - inside[0]) <= tolerance:
            break
        (fi, vi, si), (fo, vo, so_) = inside, outside
        crossing = np.nan
        if not halve and np.isfinite([vi, si, vo, so_]).all() and abs(si - so_) > 1e-12 * max(1.0, abs(si)):
            crossing = (vo - vi - so_ * fo + si * fi) / (si - so_)
        if not within(crossing):  # also nan
            middle = (fi + fo) / 2
            holds, value, slope = probe(middle)
            if holds:
                inside = (middle, value, slope)
            else:
                outside = (middle, value, slope)
            halve = False
            continue
        width = abs(outside[0] - inside[0])
        holds, value, slope = probe(crossing)
        if holds:
            inside = (crossing, value, slope)
            beyond = crossing + sign * tolerance
            if within(beyond):  # the proof that the edge is here: a step further out it breaks
                holds, value, slope = probe(beyond)
                if holds:
                    inside = (beyond, value, slope)
                else:
                    outside = (beyond, value, slope)
        else:
            outside = (crossing, value, slope)
        halve = abs(outside[0] - inside[0]) > SHRINK * width
    return inside[0], outside[0], not np.isfinite(outside[1])


def why_these_suppliers(data: SourcingData, variables: int | None = None, fork: bool = True) -> WhyAnalysis:
    """Price ranges and entry prices of the offers, the range and both sides of every shadow price, uniqueness.

    variables: the model's size when the caller knows it (a Result's run_info), which spares a build to
    find out whether the model is small enough to ask. fork: share the questions among processes forked
    from this one when it pays (FORK_FROM; never while this process runs other threads); the answers are
    the same either way.
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
    currency = data.settings.currency
    units = data.materials["unit"].fillna("unit")
    offers, parameters = _priced_offers(lp, data), _parameters(lp, data, currency)

    def answer(task: int) -> dict | None:
        lp.restart()  # every question from the optimal basis: the answers do not depend on their order
        if task < len(offers):
            return _offer_row(lp, offers[task], currency, units)
        return _shadow_price_row(lp, parameters[task - len(offers)], currency)

    tasks = len(offers) + len(parameters)
    forked = fork and len(lp.form.columns) * tasks >= FORK_FROM
    answers = forked_map(answer, tasks) if forked else [answer(i) for i in range(tasks)]
    rows = [row for row in answers if row is not None]
    table = pd.DataFrame(rows, columns=WHY_COLUMNS)
    unique, note = _uniqueness(lp)
    tied = [row["name"] + (" (spot)" if row["rule"] == "spot" else "") for row in rows if row.get("tie")]
    if tied:
        unique = False
        shown = ", ".join(tied[:3]) + (f" and {len(tied) - 3} more" if len(tied) > 3 else "")
        note = (note + " " if note else "") + (
            f"Today's price (or fee) of {shown} sits at an end of its range: a plan that signs differently "
            "costs the same there, so another solver may sign differently for the same cost.")
    return WhyAnalysis(table, _telling(table), unique, note)


def _priced_offers(lp: _Lp, data: SourcingData) -> list[tuple]:
    """(kind, supplier, material, columns, price, in_plan, spread) of every offer whose price can be moved:
    contract offers (their price, every period alike), spot offers (their price; in the plan when bought in
    some scenario) and stockpile reservations (their reservation fee). Where an offer's price differs by
    period, price is their average weighted by what the plan buys in each (expected, for spot; equal weights
    when it buys nothing) and spread is (lowest, highest, weighted); else spread is None."""
    model = lp.built.model
    values = lp.base_values
    period_of = lp.built.tree.nodes["period"].to_dict()
    probability = lp.built.tree.nodes["probability"].to_dict()
    out = []
    groups: dict[tuple, list] = {}
    for key in model.CONTRACT_OFFERS:
        groups.setdefault(key[:2], []).append((model.contract_quantity[key], key[2], 1.0))
    spot: dict[tuple, list] = {}
    for key, var in model.spot_purchase.items():
        spot.setdefault(key[:2], []).append((var, period_of[key[2]], float(probability[key[2]])))
    for kind, grouped in (("contract", groups), ("spot", spot)):
        for (supplier, material), members in grouped.items():
            kept = [(lp.column[id(var)], period, weight) for var, period, weight in members if id(var) in lp.column]
            if not kept:
                continue
            columns = [j for j, _, _ in kept]
            prices = data.offers.xs((supplier, material), level=["supplier", "material"])["price"].astype(float)
            bought: dict = {}
            for j, period, weight in kept:
                bought[period] = bought.get(period, 0.0) + weight * float(values[j])
            periods = list(bought)
            quoted = prices.reindex(periods).to_numpy()
            amounts = np.array([bought[t] for t in periods])
            weighted = amounts.sum() > 1e-9
            spread = (float(quoted.min()), float(quoted.max()), bool(weighted)) \
                if quoted.max() - quoted.min() > 1e-9 * max(1.0, abs(quoted.max())) else None
            if spread is None:
                price = float(quoted[0])
            else:
                price = float(quoted @ amounts / amounts.sum()) if weighted else float(quoted.mean())
            used = float(sum(lp.plan[lp.position[j]] for j in columns)) > 1e-9 if kind == "contract" \
                else bool(values[columns].max() > 1e-9)
            out.append((kind, supplier, material, columns, price, used, spread))
    fees = data.stockpiles["reservation_fee"].to_dict()
    for key, var in model.reserved_quantity.items():
        columns = lp.columns_of([var])
        if columns and float(fees[key]) > 0:
            reserved = lp.plan[lp.position[columns[0]]] > 1e-9
            out.append(("reservation", key[0], key[1], columns, float(fees[key]), bool(reserved), None))
    return out


def _offer_row(lp: _Lp, offer: tuple, currency: str, units: pd.Series) -> dict:
    """An offer's price range (as factors of today's price, re-solved) and its sentence."""
    kind, supplier, material, columns, price, in_plan, spread = offer

    now = (1.0, lp.objective, lp.slope(columns, lp.base_values, lp.row_duals))
    # With its first-stage decisions fixed, the plan's objective is convex in the price of a contract or a
    # reservation (moving a fixed column's coefficients moves right-hand sides), so the tangent at today's
    # price bounds it from below at every price; a spot price moves the recourse's costs instead: no bound.
    first_stage = kind != "spot"

    def probe(factor: float) -> tuple[bool, float, float]:
        lp.scale_price(columns, factor)  # stays until the next probe sets another price
        return lp.probe(columns, now[1] + now[2] * (factor - 1.0) if first_stage else -np.inf)

    at_zero = probe(0.0)
    low, below, _ = (0.0, 0.0, False) if at_zero[0] else _edge(now, (0.0,) + at_zero[1:], probe)
    high = above = np.inf  # a dearer offer that is not used leaves the plan as it is
    no_plan_above = False  # beyond the high end no plan meets every rule (a budget, say), rather than a better one
    if in_plan:
        at_top = probe(MAX_FACTOR)
        high, above, no_plan_above = (MAX_FACTOR, MAX_FACTOR, False) if at_top[0] \
            else _edge(now, (MAX_FACTOR,) + at_top[1:], probe)
    # an end of the range at today's price (to the search's precision) may be a tie: the better plan just
    # beyond it costs what this one does at today's price. Checked, because it need not be (where the price
    # also sits in a binding budget or CVaR row, the best plan moves with the price, and no other costs the same)
    near = [beyond for end, beyond in ((low, below), (high, above))
            if 0 < end < MAX_FACTOR and abs(end - 1.0) <= (MAX_FACTOR - 1.0) / 2 ** STEPS]
    tie = any(lp.ties_at_today(columns, beyond) for beyond in near if not (beyond == above and no_plan_above))
    lp.scale_price(columns, 1.0)
    unit = f"{currency}/{units[material]}"
    name = f"{supplier} {material}"
    top = f"{MAX_FACTOR:g} times today's" if high >= MAX_FACTOR else f"{price * high:,.2f} {unit}"
    if high >= MAX_FACTOR:
        top += " fee" if kind == "reservation" else " price"
    now_words = f"now {price:,.2f} {unit}"
    if spread is not None:  # one factor moves every period's price: the figures are for their average
        now_words += (f" on average{' as bought' if spread[2] else ''}, {spread[0]:,.2f} to {spread[1]:,.2f} by "
                      "period, every period's price moved alike")
    # both ends at today's price, as shown: a little cheaper or dearer, the plan is another
    pinned = 0 < low and np.isfinite(high) and f"{price * low:,.2f}" == f"{price * high:,.2f}"
    beyond_top = f"from {price * above:,.2f} {unit} up, no plan meets every rule" if no_plan_above else ""
    if pinned and in_plan:
        what = {"spot": "bought as planned", "reservation": "reserved as planned"}.get(kind, "signed as planned")
        line = (f"{name} is {what} only at today's {'fee' if kind == 'reservation' else 'price'} ({now_words}): "
                + ("a little cheaper, the plan changes; " + beyond_top if no_plan_above
                   else "a little cheaper or dearer, the plan changes"))
    elif kind == "spot":
        if low <= 0 and not np.isfinite(high):
            span = "at any price"
        elif not np.isfinite(high):
            span = f"at any price above {price * low:,.2f} {unit}"
        else:
            span = f"up to {top}" if low <= 0 else f"between {price * low:,.2f} and {top}"
        line = f"The plan stays as signed while {name} (spot) costs {span} ({now_words})"
    elif kind == "reservation":
        if in_plan:
            span = (f"at any reservation fee up to {top}" if low <= 0
                    else f"at a reservation fee between {price * low:,.2f} and {top}")
            line = f"{name} stays in the plan as reserved {span} (fee now {price:,.2f} {unit})"
        elif low > 0:
            line = (f"{name} enters the plan below a reservation fee of {price * low:,.2f} {unit} "
                    f"(now {price:,.2f} {unit})")
        else:
            line = f"{name} stays out of the plan even with no reservation fee"
    else:
        if in_plan:
            span = f"at any price up to {top}" if low <= 0 else f"between {price * low:,.2f} and {top}"
            line = f"{name} stays in the plan as signed {span} ({now_words})"
        elif low > 0:
            line = f"{name} enters the plan below {price * low:,.2f} {unit} ({now_words})"
        else:
            line = f"{name} stays out of the plan even at a price of 0"
    if no_plan_above and not (pinned and in_plan):
        line += "; " + beyond_top
    return {"kind": "spot price" if kind == "spot" else "offer price", "rule": kind, "name": name, "tie": tie,
            "supplier": supplier, "material": material, "period": None, "in_plan": in_plan, "price": price,
            "now": price, "low": price * low,
            "high": price * high if np.isfinite(high) and high < MAX_FACTOR else np.nan, "unit": unit, "line": line}


class _Along:
    """The LP with one right-hand side (a rules.base.Parameter) moved t units from its value now."""

    def __init__(self, lp: _Lp, parameter: Parameter):
        rows, steps = [], []
        for con, step in parameter.moves:
            for i in lp.rows_of.get(id(con), ()):
                rows.append(i)
                steps.append(step)
        self.lp, self.rows, self.steps = lp, np.asarray(rows, dtype=np.int32), np.asarray(steps, dtype=float)
        self.lower, self.upper = lp.row_lower[self.rows], lp.row_upper[self.rows]

    def move(self, t: float) -> None:
        # an infinite side stays infinite (inf + finite), the stated side moves
        self.lp.highs.changeRowsBounds(len(self.rows), self.rows, self.lower + self.steps * t,
                                       self.upper + self.steps * t)

    def at(self, t: float) -> tuple[bool, float, float]:
        """Whether the LP is solved to optimality t units away, its objective and d objective / d t there
        (sum of its rows' duals x their steps: one subgradient at a kink)."""
        self.move(t)
        status, objective = self.lp.run()
        if status != OPTIMAL:
            return False, np.nan, np.nan
        duals = np.asarray(self.lp.highs.getSolution().row_dual, dtype=float)[self.rows]
        return True, objective, float(duals @ self.steps)


def _reach(along: _Along, f0: float, s0: float, far: float, known: float | None = None) -> float:
    """How far t goes from 0 towards far (either sign) with the objective on the line f0 + s0 t.

    The objective is convex in t, so the line is a support and the points on it are one interval; inside it
    the slope (the rows' duals x their steps, unique between kinks) is s0, outside it is not. From a point
    outside, its tangent crosses the line at the next candidate, which is the end itself once no other kink
    lies between: a probe just inside the crossing, still at slope s0, proves it. Infeasible points are
    halved. known: a point on the line (HiGHS's ranging of a single row; None if not known), checked with
    one probe just past it, which spares the search through the kinks beyond."""
    sign, delta = float(np.sign(far)), 1e-6 * max(1.0, abs(far))

    def same(slope: float) -> bool:
        return abs(slope - s0) <= 1e-7 * max(1.0, abs(s0))

    def between(low: float, t: float, high: float) -> bool:
        return sign * low < sign * t < sign * high

    inner = 0.0
    if known is not None:
        inner = sign * min(abs(known), abs(far)) if known * far > 0 else 0.0
        if inner == far:
            return far
        solved, _, slope = along.at(inner + sign * delta)
        if not solved or not same(slope):
            return inner
    outer, point, evaluated = far, far, None
    for _ in range(REACH_STEPS):
        solved, value, slope = evaluated or along.at(point)
        evaluated = None
        if solved and same(slope):
            if point == far:
                return far
            inner, point = point, (point + outer) / 2
        elif solved:
            outer = point
            crossing = (value - slope * point - f0) / (s0 - slope)
            if not between(inner, crossing, outer):
                point = (inner + outer) / 2
            elif not between(inner, crossing - sign * delta, outer):
                return inner  # the end is within delta of the last point inside
            else:
                point = crossing - sign * delta
                evaluated = along.at(point)
                if evaluated[0] and same(evaluated[2]):
                    return crossing
        else:
            outer, point = point, (inner + outer) / 2
        if abs(outer - inner) <= delta:
            break
    return inner


def _ranged(lp: _Lp, along: _Along, direction: float) -> float | None:
    """How far HiGHS's ranging says a single binding row's parameter moves in `direction` with the same basis
    (None when it does not apply: several rows, a basic row, no ranging)."""
    if lp.row_up is None or len(along.rows) != 1:
        return None
    i, step = int(along.rows[0]), float(along.steps[0])
    if lp.row_basic[i] or step == 0.0:
        return None
    bound = lp.row_upper[i] if np.isfinite(lp.row_upper[i]) else lp.row_lower[i]
    end = lp.row_up[i] if step * direction > 0 else lp.row_down[i]
    if not np.isfinite(end):
        return direction * np.inf
    return (end - bound) / step
def _shown(value: float, unit: str) -> str:
    if unit == "percentage point":
        return f"{value:.1f}%"
    return f"{value:,.2f} {unit}"


def _money(amount: float) -> str:
    """An amount of money as the Summary shows money: whole units, cents only below 100."""
    return f"{amount:,.0f}" if abs(amount) >= 100 else f"{amount:,.2f}"


def _effect(amount: float, verb: str, currency: str) -> str:
    """'saves 15.00 USD' / 'costs 20.00 USD', turned round when the amount has the other sign."""
    if amount < 0:
        verb, amount = {"saves": "costs", "costs": "saves"}[verb], -amount
    return f"{verb} {_money(amount)} {currency}"


def _parameters(lp: _Lp, data: SourcingData, currency: str) -> list[Parameter]:
    """Every policy rule's right-hand side and every contract capacity the plan signs in full (the others
    cost nothing to loosen)."""
    model, tree = lp.built.model, lp.built.tree
    parameters = [p for rule in RULES for p in rule.parameters(model, data, tree, currency)]
    for parameter in capacity_parameters(model, data, currency):
        key = parameter.row["supplier"], parameter.row["material"], parameter.row["period"]
        column = lp.column.get(id(model.contract_quantity[key]))
        if column is not None and lp.base_values[column] >= parameter.now - 1e-7:
            parameters.append(parameter)
    return parameters


def _shadow_price_row(lp: _Lp, parameter: Parameter, currency: str) -> dict | None:
    """The range of a right-hand side over which its shadow price holds, and what one unit more and one
    unit fewer are worth (re-solves); None when nothing passes through what it limits (it cannot bind)."""
    f0 = lp.objective
    along = _Along(lp, parameter)
    if not len(along.rows):
        return None
    s0 = float(lp.row_duals[along.rows] @ along.steps)
    room = max(abs(parameter.now), 1.0) * (MAX_FACTOR - 1)
    up = room if parameter.highest is None else parameter.highest - parameter.now
    down = room if parameter.lowest is None else parameter.now - parameter.lowest
    # loosening a rule whose price is 0 keeps the plan feasible and cannot save (0 is a subgradient of a
    # convex function): that side holds all the way, without a re-solve
    loosens = 1.0 if parameter.sign < 0 else -1.0
    ends = []
    for direction, far in ((1.0, up), (-1.0, down)):
        if far <= 0:
            ends.append(0.0)
        elif abs(s0) < 1e-12 and direction == loosens:
            ends.append(direction * far)
        else:
            ends.append(_reach(along, f0, s0, direction * far, _ranged(lp, along, direction)))
    sides = []
    for t, end in ((1.0, ends[0]), (-1.0, ends[1])):
        if abs(end) >= 1.0:  # one unit is inside the range: on the line
            sides.append(parameter.sign * s0)
        elif (up if t > 0 else down) < 1.0:
            sides.append(np.nan)  # no room for one unit
        else:
            solved, value, _ = along.at(t)
            sides.append(parameter.sign * (value - f0) * t if solved else np.inf)
    along.move(0.0)
    one_more, one_fewer = sides
    high, low = parameter.now + ends[0], parameter.now + ends[1]
    if parameter.highest is None and ends[0] >= up - 1e-9:
        high = np.nan  # holds as far as was looked: no end found
    if parameter.lowest is None and ends[1] <= -down + 1e-9:
        low = np.nan
    return _price_row(parameter, parameter.sign * s0, low, high, one_more, one_fewer, currency)


def _price_row(parameter: Parameter, price: float, low: float, high: float, one_more: float, one_fewer: float,
               currency: str) -> dict:
    """A shadow price's row of the table, with its sentence."""
    row, unit = parameter.row, parameter.unit
    label = row["name"]
    if row["material"] and row["material"] not in label:
        label += f" on {row['material']}"
    label += f" in '{row['scenario']}'" if row["scenario"] else ""
    label += f" in {row['period']}" if row["period"] else ""
    now = _shown(parameter.now, unit)
    more_verb, fewer_verb = ("saves", "costs") if parameter.sign < 0 else ("costs", "saves")
    if low == low and high == high:
        span = f"from {_shown(low, unit)} to {_shown(high, unit)}"
    elif high == high:
        span = f"up to {_shown(high, unit)}"
    elif low == low:
        span = f"from {_shown(low, unit)} up"
    else:
        span = "at any value"
    flat = abs(price) < 1e-9 and all(not (v == v) or v == np.inf or abs(v) < 1e-6 for v in (one_more, one_fewer))
    if flat:
        line = f"{label} (now {now}) does not bind: anywhere {span} it changes nothing"
        for amount, side in ((one_more, "one more"), (one_fewer, "one fewer")):
            if amount == np.inf:
                line += f"; {side} {unit} leaves no plan that meets every rule"
    else:
        sides = []
        for amount, side, verb in ((one_more, "one more", more_verb), (one_fewer, "one fewer", fewer_verb)):
            if amount == np.inf:
                sides.append(f"{side} {unit} leaves no plan that meets every rule")
            elif amount == amount:
                sides.append(f"{side} {unit} {_effect(amount, verb, currency)}")
        near = 1e-7 * max(1.0, abs(parameter.now))
        kink = " (a kink: each side has its own price)" if (abs(low - parameter.now) <= near
                                                              or abs(high - parameter.now) <= near) else ""
        line = (f"{label} (now {now}): {', '.join(sides) or 'no room to move it by one'}; "
                f"its shadow price of {_money(price)} {row['unit']} holds {span}{kink}")
    return {"kind": "shadow price", "rule": row["rule"], "name": row["name"], "supplier": row["supplier"],
            "material": row["material"], "scenario": row["scenario"], "period": row["period"], "in_plan": None,
            "price": np.nan, "now": parameter.now, "low": low, "high": high, "unit": unit, "shadow_price": price,
            "one_more": one_more if np.isfinite(one_more) else np.nan,
            "one_fewer": one_fewer if np.isfinite(one_fewer) else np.nan, "value_unit": row["unit"], "line": line}


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
    closest to losing its place, and the shadow price worth most (a cap on a country first: the price of
    de-risking)."""
    lines = []
    offers = table[table["kind"] == "offer price"]
    signed = offers["in_plan"].astype(bool)
    out = offers[~signed & (offers["low"] > 0)]
    if len(out):
        lines.append(out.loc[(out["low"] / out["price"]).idxmax(), "line"])
    kept = offers[signed & offers["high"].notna()]
    if len(kept):
        lines.append(kept.loc[(kept["high"] / kept["price"]).idxmin(), "line"])
    prices = table[(table["kind"] == "shadow price") & (table["shadow_price"].abs() > 1e-9)]
    caps = prices[prices["rule"].isin(["origin cap", "single-country cap"])]
    chosen = caps if len(caps) else prices
    if len(chosen):
        lines.append(chosen.loc[chosen["shadow_price"].abs().idxmax(), "line"])
    return lines
