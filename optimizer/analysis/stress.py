"""Stress test of a plan: its contracts and reservations held fixed, played through futures it never saw.

For each future (drawn from the disruption model, or the instance's own scenarios) two recourse policies
buy spot, draw on the stockpile and carry inventory period by period:

- re-planning: in each period, knowing only what has happened so far, re-plan the rest of the horizon
  assuming the disruptions under way last their expected remaining duration and no new one starts, and
  carry out that period's decisions (non-anticipative);
- perfect foresight: the same future solved with its whole path known (an optimistic bound).

The recourse LP of one future (docs/model.md, "Stress test") is built once per worker process, straight in
highspy from plain arrays (never a Pyomo model), and re-solved by changing bounds, costs and right-hand
sides; every future starts from the same basis, so that its numbers do not depend on which worker played
it or in what order. Policy rules are kept where the recourse can keep them and are otherwise broken at a
large penalty per unit (the LP is always feasible); the cost reported is money only, and the rules broken
are counted. Futures run on the shared Executor (one worker process per core, or a Dask cluster).
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..inputs.data import SourcingData
from ..inputs.errors import InputError, Problem, describe
from .sampling import Effects, event_filters, offer_masks, sample_effects, scenario_effects

CONTRACT, SPOT, STOCKPILE = 0, 1, 2
#: (seconds, worker process id) of each block of the last stress test in this process, for the benchmark
LAST_BLOCKS: list = []
POLICIES = ("re-planning", "perfect foresight")
COST_PARTS = ("reservation", "contract", "spot", "stockpile_draw", "holding", "shortage")
#: Penalty per unit of a broken rule, as a multiple of its shortage penalty plus its dearest price at the
#: largest multiplier. Breaking a rule by a unit saves at most the larger of the two (a unit bought through
#: a capped country instead of elsewhere or not at all; a unit left unmet instead of bought), so a policy
#: breaks a rule only when nothing it can buy keeps it.
PENALTY_FACTOR = 2.0
#: A rule counts as broken, and a future as short, beyond this share of the material's demand.
TOLERANCE = 1e-6
Z95 = 1.959963984540054


# --------------------------------------------------------------------------- plans

@dataclass(frozen=True)
class Plan:
    """First-stage commitments: contract quantities by (supplier, material, period), reservations by
    (supplier, material). Offers the plan leaves out are 0."""

    name: str
    contracts: dict
    reservations: dict


def plan_of(result, name: str = "plan") -> Plan:
    """The contracts and reservations of a solved Result (result.plan)."""
    if not result.optimal:
        raise InputError([Problem(None, None, None, f"plan '{name}' has no plan to test: {result.message}")])
    return _plan_from_table(result.plan, name, "plan", result.data)


def read_plan(path: str | Path, data: SourcingData, name: str | None = None) -> Plan:
    """The Plan sheet of a workbook written by `sourcing solve`, checked against the instance."""
    path = Path(path)
    try:
        table = pd.read_excel(path, sheet_name="Plan", engine="calamine")
    except FileNotFoundError:
        raise InputError([Problem(None, None, None, f"plan '{path}' does not exist.")]) from None
    except ValueError as exc:
        raise InputError([Problem(None, None, None, f"plan '{path}' has no sheet 'Plan' ({exc}); give a "
                                                    "workbook written by sourcing solve.")]) from None
    except Exception as exc:  # a file that is not a workbook at all
        raise InputError([Problem(None, None, None, f"cannot read plan '{path}' as a workbook: {exc}.")]) from None
    table.index = pd.RangeIndex(2, 2 + len(table), name="row")
    # the workbook heads its columns with words and units ("Quantity (kg)"): back to the table's names
    table.columns = [re.sub(r"\s*\(.*\)$", "", str(c)).strip().lower().replace(" ", "_") for c in table.columns]
    return _plan_from_table(table, name or path.stem, f"{path.name}: Plan", data)


def _plan_from_table(table: pd.DataFrame, name: str, sheet: str, data: SourcingData) -> Plan:
    problems = []
    for column in ("decision", "supplier", "material", "period", "quantity"):
        if column not in table.columns:
            problems.append(Problem(sheet, 1, column, "required column is missing; give a plan written by "
                                                      "sourcing solve."))
    if problems:
        raise InputError(problems)
    offers, stockpiles = data.offers, data.stockpiles
    contracts, reservations = {}, {}
    rows = table.index if table.index.name == "row" else pd.RangeIndex(2, 2 + len(table))
    for row, r in zip(rows, table.to_dict("records")):
        decision = str(r["decision"]).strip().lower()
        quantity = r["quantity"]
        if not isinstance(quantity, (int, float)) or not math.isfinite(quantity) or quantity < 0:
            problems.append(Problem(sheet, row, "quantity", f"{describe(quantity)} is not a quantity of 0 or more."))
            continue
        supplier, material = r["supplier"], r["material"]
        if decision == "contract":
            period = str(r["period"])
            key = (supplier, material, period)
            if key not in offers.index or offers.loc[key, "kind"] != "contract":
                problems.append(Problem(sheet, row, "supplier", f"the instance has no contract offer of "
                                                                f"'{supplier}' for '{material}' in '{period}'."))
                continue
            offer = offers.loc[key]
            if quantity > offer["capacity"] * (1 + 1e-9) + 1e-9:
                problems.append(Problem(sheet, row, "quantity", f"{describe(quantity)} is above the offer's capacity "
                                                                f"{describe(offer['capacity'])}."))
            elif quantity < offer["min_quantity"] * (1 - 1e-9) - 1e-9:
                problems.append(Problem(sheet, row, "quantity", f"{describe(quantity)} is below the offer's "
                                                                f"min_quantity {describe(offer['min_quantity'])}."))
            contracts[key] = float(quantity)
        elif decision == "stockpile reservation":
            key = (supplier, material)
            if key not in stockpiles.index:
                problems.append(Problem(sheet, row, "supplier", f"the instance has no stockpile offer of "
                                                                f"'{supplier}' for '{material}'."))
                continue
            if quantity > stockpiles.loc[key, "reserve_limit"] * (1 + 1e-9) + 1e-9:
                problems.append(Problem(sheet, row, "quantity", f"{describe(quantity)} is above the reserve_limit "
                                                                f"{describe(stockpiles.loc[key, 'reserve_limit'])}."))
            reservations[key] = float(quantity)
        else:
            problems.append(Problem(sheet, row, "decision", f"unknown decision {describe(r['decision'])}; "
                                                            "use contract or stockpile reservation."))
    for key, offer in offers[offers["kind"] == "contract"].iterrows():
        if key not in contracts and offer["min_quantity"] > 0:
            problems.append(Problem(sheet, None, None, f"the plan signs no contract with '{key[0]}' for '{key[1]}' "
                                                       f"in '{key[2]}', whose min_quantity is "
                                                       f"{describe(offer['min_quantity'])}."))
    if problems:
        raise InputError(problems)
    return Plan(name, contracts, reservations)


# --------------------------------------------------------------------------- the recourse problem

@dataclass
class RecourseProblem:
    """The recourse LP of one future for one plan, as plain arrays (what a worker process receives).

    Offers j are the rows of data.offers; limits k the policy rules' path limits (model.rules PathLimit).
    limits: futures x rules when they differ by future (the instance's own scenarios), else 1 x rules.
    """

    token: str
    n_periods: int
    offer_period: np.ndarray
    offer_material: np.ndarray
    kind: np.ndarray
    price: np.ndarray
    capacity: np.ndarray
    contract_quantity: np.ndarray
    reserve_row: np.ndarray
    reserved: np.ndarray
    reservation_cost: float
    demand: np.ndarray
    opening: np.ndarray
    holding: np.ndarray
    penalty: np.ndarray
    limit_offer: np.ndarray
    limit_unmet: np.ndarray
    limit_period: np.ndarray
    limits: np.ndarray
    weight: np.ndarray
    dependency: np.ndarray
    masks: np.ndarray


def recourse_problem(data: SourcingData, plan: Plan, masks: np.ndarray, scenarios: list | None) -> tuple:
    """The arrays of the recourse LP, and the path-limit records (for the report).

    scenarios: the instance's scenario of each future (own scenarios), or None (sampled futures)."""
    from ..model.rules import RULES

    offers = data.offers.reset_index()
    materials = list(data.materials.index)
    m_index = {m: i for i, m in enumerate(materials)}
    p_index = {p: i for i, p in enumerate(data.periods)}
    kind = offers["kind"].map({"contract": CONTRACT, "spot": SPOT, "stockpile": STOCKPILE}).to_numpy(dtype=np.int64)
    keys = list(zip(offers["supplier"], offers["material"], offers["period"]))
    quantity = np.array([plan.contracts.get(k, 0.0) if kd == CONTRACT else 0.0 for k, kd in zip(keys, kind)])
    stock = list(data.stockpiles.index)
    s_index = {k: i for i, k in enumerate(stock)}
    reserve_row = np.array([s_index.get((s, m), -1) if kd == STOCKPILE else -1
                            for (s, m, _), kd in zip(keys, kind)], dtype=np.int64)
    reserved = np.array([plan.reservations.get(k, 0.0) for k in stock], dtype=float)
    fees = data.stockpiles["reservation_fee"].to_numpy(dtype=float) if len(stock) else np.zeros(0)

    def rule_rows(scenario):
        return [limit for rule in RULES for limit in rule.path_limits(data, scenario)]

    records = rule_rows(scenarios[0] if scenarios else None)
    supplier = offers["supplier"].to_numpy(dtype=object)
    offer_material = offers["material"].map(m_index).to_numpy(dtype=np.int64)
    offer_period = offers["period"].map(p_index).to_numpy(dtype=np.int64)
    limit_offer = np.zeros((len(records), len(offers)), dtype=bool)
    limit_unmet = np.full(len(records), -1, dtype=np.int64)
    limit_period = np.full(len(records), -1, dtype=np.int64)
    for k, r in enumerate(records):
        if r.suppliers is None:
            limit_unmet[k] = m_index[r.material]
        else:
            limit_offer[k] = np.isin(supplier, list(r.suppliers)) & (offer_material == m_index[r.material])
            if r.period is not None:
                limit_period[k] = p_index[r.period]
                limit_offer[k] &= offer_period == p_index[r.period]
    if scenarios:
        limits = np.array([[r.limit for r in rule_rows(s)] for s in scenarios], dtype=float).reshape(
            len(scenarios), len(records))
    else:
        limits = np.array([[r.limit for r in records]], dtype=float).reshape(1, len(records))
    price = offers["price"].to_numpy(dtype=float)
    # the dearest a unit of each material can cost, at the largest multiplier any event or disruption gives
    multiplier = max([1.0] + data.disruption_model.get("price_multiplier_max", pd.Series(dtype=float)).tolist()
                     + data.disruptions["price_multiplier"].tolist())
    dearest = np.zeros(len(materials))
    np.maximum.at(dearest, offer_material, price * multiplier)
    penalty = data.materials["shortage_penalty"].to_numpy(dtype=float)
    unit_weight = PENALTY_FACTOR * (penalty + dearest + 1.0)
    weight = np.array([unit_weight[m_index[r.material]] for r in records], dtype=float)
    country = data.settings.dependency_country
    dependency = (data.suppliers.loc[offers["supplier"], data.stages].eq(country).any(axis=1).to_numpy()
                  if data.stages else np.zeros(len(offers), dtype=bool))
    demand = data.demand["quantity"].unstack("period").reindex(index=materials, columns=data.periods).to_numpy(float)
    problem = RecourseProblem(
        token="", n_periods=len(data.periods), offer_period=offer_period, offer_material=offer_material,
        kind=kind, price=price, capacity=offers["capacity"].to_numpy(dtype=float), contract_quantity=quantity,
        reserve_row=reserve_row, reserved=reserved, reservation_cost=float(np.dot(fees, reserved)),
        demand=demand, opening=data.materials["initial_inventory"].to_numpy(dtype=float),
        holding=data.materials["holding_cost"].to_numpy(dtype=float), penalty=penalty,
        limit_offer=limit_offer, limit_unmet=limit_unmet, limit_period=limit_period, limits=limits,
        weight=weight, dependency=dependency, masks=masks)
    problem.token = hashlib.sha256(pickle.dumps(problem)).hexdigest()[:20]
    return problem, records


# --------------------------------------------------------------------------- the worker side

class _Recourse:
    """The recourse LP in highspy, built once per worker process and problem, re-solved per future."""

    def __init__(self, p: RecourseProblem):
        import highspy

        self.p = p
        n_materials, n_periods = p.demand.shape
        self.T, self.M = n_periods, n_materials
        self.y_offers = np.flatnonzero(p.kind != CONTRACT)
        ny = len(self.y_offers)
        mt = n_materials * n_periods
        n_limits = len(p.limit_unmet)
        self.ny, self.mt, self.L = ny, mt, n_limits
        self.n_cols = ny + 2 * mt + n_limits
        n_reserve = len(p.reserved)
        self.n_rows = mt + n_reserve + n_limits
        rows, cols, vals = [], [], []
        y_m, y_t = p.offer_material[self.y_offers], p.offer_period[self.y_offers]
        rows += list(y_m * n_periods + y_t); cols += list(range(ny)); vals += [1.0] * ny
        for m in range(n_materials):
            for t in range(n_periods):
                r = m * n_periods + t
                rows += [r, r]; cols += [ny + r, ny + mt + r]; vals += [1.0, -1.0]
                if t > 0:
                    rows.append(r); cols.append(ny + mt + r - 1); vals.append(1.0)
        drawn = np.flatnonzero(p.reserve_row[self.y_offers] >= 0)
        rows += list(mt + p.reserve_row[self.y_offers][drawn]); cols += list(drawn); vals += [1.0] * len(drawn)
        for k in range(n_limits):
            r = mt + n_reserve + k
            members = np.flatnonzero(p.limit_offer[k][self.y_offers])
            rows += [r] * len(members); cols += list(members); vals += [1.0] * len(members)
            if p.limit_unmet[k] >= 0:
                m = p.limit_unmet[k]
                rows += [r] * n_periods; cols += [ny + m * n_periods + t for t in range(n_periods)]
                vals += [1.0] * n_periods
            rows.append(r); cols.append(ny + 2 * mt + k); vals.append(-1.0)
        rows, cols, vals = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.asarray(vals)
        order = np.lexsort((rows, cols))  # column-wise, as HiGHS takes it (no scipy in the workers)
        starts = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=self.n_cols))])
        # contract inflows enter right-hand sides: rhs = base - (coefficient x quantity) @ availability
        contracts = np.flatnonzero(p.kind == CONTRACT)
        self.balance_contract = np.zeros((mt, len(p.kind)))
        self.balance_contract[p.offer_material[contracts] * n_periods + p.offer_period[contracts], contracts] = \
            p.contract_quantity[contracts]
        self.limit_contract = p.limit_offer * (p.contract_quantity * (p.kind == CONTRACT))[None, :]
        self.base_balance = p.demand.reshape(-1).copy()
        self.base_balance[np.arange(n_materials) * n_periods] -= p.opening
        self.col_period = np.concatenate([y_t, np.tile(np.arange(n_periods), 2 * n_materials),
                                          np.full(n_limits, -1)])
        self.cost_fixed = np.concatenate([np.zeros(ny), np.repeat(p.penalty, n_periods),
                                          np.repeat(p.holding, n_periods), p.weight])

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_ = self.cost_fixed.copy()
        lp.col_lower_ = np.zeros(self.n_cols)
        lp.col_upper_ = np.full(self.n_cols, np.inf)
        lower = np.full(self.n_rows, -np.inf)
        upper = np.full(self.n_rows, np.inf)
        lower[:mt] = upper[:mt] = self.base_balance
        upper[mt:mt + n_reserve] = p.reserved
        upper[mt + n_reserve:] = p.limits[0]
        lp.row_lower_, lp.row_upper_ = lower, upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts.astype(np.int32)
        lp.a_matrix_.index_ = rows[order].astype(np.int32)
        lp.a_matrix_.value_ = vals[order].astype(float)
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * self.n_cols  # an empty array is read as garbage
        from ..solving.highs import new_highs

        self.highs = highs = new_highs()
        highs.setOptionValue("random_seed", 0)
        highs.passModel(lp)
        self.all_cols = np.arange(self.n_cols, dtype=np.int32)
        self.y_cols = np.arange(ny, dtype=np.int32)
        self.flex_rows = np.concatenate([np.arange(mt), np.arange(mt + n_reserve, self.n_rows)]).astype(np.int32)
        self.ones = np.ones(len(p.kind))
        self.calm_limits = p.limits[0]
        self.calm = self.solve(self.ones, self.ones, 0, None, p.limits[0], fresh=True)
        self.calm_basis = self.highs.getBasis()

    def solve(self, a, g, fixed_before: int, fixed: np.ndarray | None, limits, fresh: bool = False) -> np.ndarray:
        """Optimal column values with factors a, g; columns of periods before fixed_before held at `fixed`."""
        import highspy

        p, highs, yo = self.p, self.highs, self.y_offers
        highs.changeColsCost(self.ny, self.y_cols, p.price[yo] * g[yo])
        cap = p.capacity[yo]
        upper = np.full(self.n_cols, np.inf)
        upper[:self.ny] = np.where(a[yo] > 0, a[yo] * cap, 0.0)
        lower = np.zeros(self.n_cols)
        if fixed_before > 0:
            past = (self.col_period >= 0) & (self.col_period < fixed_before)
            lower[past] = upper[past] = fixed[past]
        highs.changeColsBounds(self.n_cols, self.all_cols, lower, upper)
        balance = self.base_balance - self.balance_contract @ a
        limit = limits - self.limit_contract @ a
        row_lower = np.concatenate([balance, np.full(self.L, -np.inf)])
        row_upper = np.concatenate([balance, limit])
        highs.changeRowsBounds(len(self.flex_rows), self.flex_rows, row_lower, row_upper)
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            highs.clearSolver()  # numerical trouble from a warm start: once more from scratch
            highs.run()
            if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"the recourse LP of a future did not solve: {highs.modelStatusToString(highs.getModelStatus())}")
        return np.asarray(highs.getSolution().col_value, dtype=float)

    def restart(self) -> None:
        """Forget everything the solver learnt from earlier solves and start from the calm basis, so that a
        future's numbers never depend on the futures this worker played before it."""
        self.highs.clearSolver()
        self.highs.setBasis(self.calm_basis)

    # --- futures
    def realised(self, eff: dict) -> tuple[np.ndarray, np.ndarray]:
        a, g = self.ones.copy(), self.ones.copy()
        pj = self.p.offer_period
        for e, s, t, av, mu in zip(eff["event"], eff["start"], eff["end"], eff["availability"], eff["multiplier"]):
            sel = self.p.masks[e] & (pj >= s) & (pj <= t)
            a[sel] *= av
            g[sel] *= mu
        return a, g

    def forecast(self, eff: dict, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Factors the buyer expects in period t and after: the events under way in t last their expected
        remaining duration (E[D | D >= periods so far], rounded half up), and no new event starts."""
        a, g = self.ones.copy(), self.ones.copy()
        pj = self.p.offer_period
        for e, s, end, av, mu, lo, hi in zip(eff["event"], eff["start"], eff["end"], eff["availability"],
                                             eff["multiplier"], eff["duration_min"], eff["duration_max"]):
            if not (s <= t <= end):
                continue
            so_far = t - s + 1
            expected = (max(so_far, lo) + hi) / 2
            last = max(t, min(self.T - 1, s + int(math.floor(expected + 0.5)) - 1))
            sel = self.p.masks[e] & (pj >= t) & (pj <= last)
            a[sel] *= av
            g[sel] *= mu
        return a, g

    def play(self, eff: dict, limits: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, int]:
        """Both policies in one future: their column values, the realised factors and the solves used."""
        ra, rg = self.realised(eff)
        pj = self.p.offer_period
        calm_ok = np.array_equal(limits, self.calm_limits)
        solves = 0
        implemented = np.zeros(self.n_cols)
        previous, previous_a, previous_g = (self.calm, self.ones, self.ones) if calm_ok else (None, None, None)
        self.restart()
        for t in range(self.T):
            fa, fg = self.forecast(eff, t)
            ahead = pj >= t
            same = (previous is not None and np.array_equal(fa[ahead], previous_a[ahead])
                    and np.array_equal(fg[ahead], previous_g[ahead]))
            if not same:
                a = np.where(pj < t, ra, fa)
                gg = np.where(pj < t, rg, fg)
                previous = self.solve(a, gg, t, implemented, limits)
                previous_a, previous_g = fa, fg
                solves += 1
            now = self.col_period == t
            implemented[now] = previous[now]
        self.restart()
        if calm_ok and not len(eff["event"]):
            foresight = self.calm
        else:
            foresight = self.solve(ra, rg, 0, None, limits)
            solves += 1
        return [implemented, foresight], ra, rg, solves

    def measure(self, x: np.ndarray, ra: np.ndarray, rg: np.ndarray, limits: np.ndarray) -> dict:
        p, yo, ny, mt = self.p, self.y_offers, self.ny, self.mt
        y = x[:ny]
        unmet = x[ny:ny + mt].reshape(self.M, self.T)
        inventory = x[ny + mt:ny + 2 * mt].reshape(self.M, self.T)
        inflow = np.where(p.kind == CONTRACT, ra * p.contract_quantity, 0.0)
        inflow[yo] = y
        money = p.price * rg * inflow
        parts = np.array([
            p.reservation_cost, money[p.kind == CONTRACT].sum(), money[p.kind == SPOT].sum(),
            money[p.kind == STOCKPILE].sum(), float(p.holding @ inventory.sum(axis=1)),
            float(p.penalty @ unmet.sum(axis=1))])
        unmet_m = unmet.sum(axis=1)
        lhs = p.limit_offer @ inflow
        has_unmet = p.limit_unmet >= 0
        lhs[has_unmet] += unmet_m[p.limit_unmet[has_unmet]]
        over = np.maximum(lhs - limits, 0.0)
        dependency = np.bincount(p.offer_material, weights=inflow * p.dependency, minlength=self.M)
        return {"parts": parts, "unmet": unmet_m, "dependency": dependency, "over": over,
                "penalised": parts.sum() + float(p.weight @ over)}


def play_futures(problems: tuple, item: tuple) -> dict:
    """Worker entry point: (which plan's problem, effects of a block of futures, index of its first future)
    -> arrays. Builds each problem's LP once per worker process (executor.worker_cache), then plays each
    future of the block."""
    from ..solving.executor import worker_cache

    started = time.perf_counter()
    which, effects, first = item
    problem = problems[which]
    recourse = worker_cache(("stress", problem.token), lambda: _Recourse(problem))
    futures = effects["n"]
    n_policies, M, L = len(POLICIES), recourse.M, recourse.L
    out = {"parts": np.zeros((futures, n_policies, len(COST_PARTS))), "unmet": np.zeros((futures, n_policies, M)),
           "dependency": np.zeros((futures, n_policies, M)), "over": np.zeros((futures, n_policies, L)),
           "penalised": np.zeros((futures, n_policies)), "solves": np.zeros(futures, dtype=np.int64)}
    bounds = np.searchsorted(effects["future"], np.arange(futures + 1))
    for f in range(futures):
        part = slice(bounds[f], bounds[f + 1])
        eff = {k: v[part] for k, v in effects.items() if k not in ("n", "future")}
        limits = problem.limits[(first + f) if len(problem.limits) > 1 else 0]
        solutions, ra, rg, solves = recourse.play(eff, limits)
        out["solves"][f] = solves
        for k, x in enumerate(solutions):
            measured = recourse.measure(x, ra, rg, limits)
            for name in ("parts", "unmet", "dependency", "over", "penalised"):
                out[name][f, k] = measured[name]
    out["seconds"] = np.array([time.perf_counter() - started, os.getpid()])
    return out


def _blocks(effects: Effects, size: int) -> list[tuple[int, dict]]:
    """The futures in blocks of `size`: (first future, effects with futures numbered from 0)."""
    out = []
    for first in range(0, effects.n_futures, size):
        last = min(effects.n_futures, first + size)
        lo, hi = np.searchsorted(effects.future, [first, last])
        out.append((first, {"n": last - first, "future": effects.future[lo:hi] - first,
                            "event": effects.event[lo:hi], "start": effects.start[lo:hi],
                            "end": effects.end[lo:hi], "availability": effects.availability[lo:hi],
                            "multiplier": effects.multiplier[lo:hi], "duration_min": effects.duration_min[lo:hi],
                            "duration_max": effects.duration_max[lo:hi]}))
    return out


# --------------------------------------------------------------------------- statistics

def _quantile(sorted_values: np.ndarray, cumulative: np.ndarray, q: float) -> float:
    i = int(np.searchsorted(cumulative, q - 1e-12, side="left"))
    return float(sorted_values[min(i, len(sorted_values) - 1)])


def distribution(values: np.ndarray, probability: np.ndarray, level: float, sampled: bool) -> list[tuple]:
    """(statistic, value, ci_low, ci_high) for mean, median, p90, p99 and CVaR at `level`.

    Sampled futures: the mean's CI is normal; a quantile's comes from the ranks N q +- 1.96 sqrt(N q (1-q))
    (distribution free); CVaR's from its asymptotic variance Var[(X - VaR)+] / ((1 - level)^2 N). The
    instance's own scenarios are the whole distribution: no interval."""
    order = np.argsort(values, kind="stable")
    x, w = values[order], probability[order]
    cumulative = np.cumsum(w)
    n = len(x)
    mean = float(np.dot(w, x))
    out = []

    def ci(low, high):
        return (low, high) if sampled and n > 1 else (None, None)

    half = Z95 * float(np.std(values, ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    out.append(("mean", mean, *ci(mean - half, mean + half)))
    for name, q in (("median", 0.5), ("p90", 0.9), ("p99", 0.99)):
        value = _quantile(x, cumulative, q)
        spread = Z95 * math.sqrt(n * q * (1 - q))
        lo = int(max(0, math.floor(n * q - spread) - 1))
        hi = int(min(n - 1, math.ceil(n * q + spread)))
        out.append((name, value, *ci(float(x[lo]), float(x[hi]))))
    var = _quantile(x, cumulative, level)
    excess = np.maximum(x - var, 0.0)
    cvar = var + float(np.dot(w, excess)) / (1 - level)
    half = Z95 * float(np.std(excess, ddof=1)) / ((1 - level) * math.sqrt(n)) if n > 1 else 0.0
    out.append((f"cvar_{level:g}", cvar, *ci(cvar - half, cvar + half)))
    return out


# --------------------------------------------------------------------------- the API

@dataclass
class StressResult:
    """What a stress test found, as tidy tables (money in the instance's currency).

    summary: one row per plan, policy and statistic: value, ci_low, ci_high (95%; null for the instance's
        own scenarios, which are the whole distribution), unit. Statistics: cost mean, median, p90, p99,
        CVaR at the instance's level, objective (mean + cvar_weight x CVaR), probability of any shortfall,
        mean solves per future.
    materials: plan, policy, material: mean fill rate, fill rate of the worst 5% (5th percentile), mean and
        95th-percentile share supplied through the dependency country, and the tightest cap on it.
    rules: plan, policy and each rule instance (rule, name, input_row, material, period): the share of
        futures in which it is broken and the mean amount by which it is.
    futures: plan, policy, future: probability, cost and its parts, any_shortfall, rules_broken.
    future_materials: plan, policy, future, material: demand, unmet, fill_rate, dependency_share.
    lower_bound: the statistical lower bound (see lower_bound), when asked for.
    seconds: the whole call; play_seconds: playing the futures on the workers (without starting them).
    """

    summary: pd.DataFrame
    materials: pd.DataFrame
    rules: pd.DataFrame
    futures: pd.DataFrame
    future_materials: pd.DataFrame
    lower_bound: pd.DataFrame | None = None
    n_futures: int = 0
    seed: int | None = None
    own_scenarios: bool = False
    currency: str = "USD"
    cvar_level: float = 0.95
    dependency_country: str = "China"
    plans: list = field(default_factory=list)
    seconds: float = 0.0
    play_seconds: float = 0.0
    workers: int = 0

    def statistic(self, plan: str, policy: str, statistic: str) -> float:
        s = self.summary
        row = s[(s["plan"] == plan) & (s["policy"] == policy) & (s["statistic"] == statistic)]
        return float(row["value"].iloc[0])


def stress(data: SourcingData, plans: list[Plan] | None = None, futures: int = 1000, seed: int = 0, *,
           own_scenarios: bool = False, workers: int | None = None, scheduler: str | None = None,
           progress: Callable[[int, int], None] | None = None, block: int | None = None,
           lower_bound_replications: int = 0, lower_bound_scenarios: int = 50,
           method: str = "auto") -> StressResult:
    """Play each plan's contracts and reservations through the same futures, with both policies.

    plans: fixed first-stage commitments (read_plan, plan_of); none: the instance is solved first.
    futures, seed: how many futures to draw from the disruption model, with Generator(PCG64(seed)); the
    same seed gives the same numbers on any machine and with any number of workers.
    own_scenarios: play the instance's scenarios with their probabilities instead.
    workers: worker processes (0 in this process, None one per core); scheduler: a running Dask
    scheduler's address. progress(futures_done, futures_total) is called as blocks finish.
    lower_bound_replications: also solve that many sampled-scenario problems of lower_bound_scenarios
    scenarios each for the statistical lower bound (see lower_bound).
    method: how the instance is solved when no plan is given (as in solve: "auto", "monolithic" or
    "decomposed"); the futures themselves are small recourse LPs solved straight in HiGHS.
    """
    from ..solving.executor import Executor

    started = time.perf_counter()
    if plans is None or not plans:
        from ..solving.pipeline import solve

        plans = [plan_of(solve(data, method=method), "optimised plan")]
    names = [p.name for p in plans]
    if len(set(names)) != len(names):
        raise InputError([Problem(None, None, None, f"two plans are named alike ({', '.join(names)}); "
                                                    "give each plan its own name.")])
    if own_scenarios:
        effects, filters = scenario_effects(data)
        probability = data.scenarios["probability"].to_numpy(dtype=float)
        scenarios = list(data.scenarios.index)
        labels = scenarios
    else:
        if futures < 1:
            raise InputError([Problem(None, None, None, f"option --futures {futures}: enter 1 or more.")])
        effects = sample_effects(data, futures, seed)
        filters = event_filters(data)
        probability = np.full(futures, 1.0 / futures)
        scenarios = None
        labels = list(range(1, futures + 1))
    masks = offer_masks(data, filters) if filters else np.zeros((0, len(data.offers)), dtype=bool)
    problems = [recourse_problem(data, plan, masks, scenarios) for plan in plans]
    records = problems[0][1]
    n = effects.n_futures
    with Executor(workers=workers, scheduler=scheduler, preload=[__name__]) as executor:
        size = block or max(1, min(250, math.ceil(n / max(1, 4 * max(1, executor.workers)))))
        blocks = _blocks(effects, size)
        items = [(which, eff, first) for which in range(len(problems)) for first, eff in blocks]
        total = len(plans) * n
        sizes = [eff["n"] for _, eff in blocks] * len(plans)  # futures per item, to count futures done

        def advance(done: int, _total: int) -> None:
            if progress is not None:
                progress(min(total, sum(sizes[:done])), total)

        playing = time.perf_counter()
        outputs = executor.map(play_futures, items, shared=tuple(p for p, _ in problems), progress=advance,
                               chunksize=1)
        play_seconds = time.perf_counter() - playing
        global LAST_BLOCKS
        LAST_BLOCKS = [tuple(o["seconds"]) for o in outputs]
        n_workers = executor.workers
    tables = _tables(data, plans, records, outputs, len(blocks), probability, labels, own_scenarios)
    result = StressResult(*tables, n_futures=n, seed=None if own_scenarios else seed, own_scenarios=own_scenarios,
                          currency=data.settings.currency, cvar_level=data.settings.cvar_level, plans=names,
                          dependency_country=data.settings.dependency_country, play_seconds=play_seconds,
                          workers=n_workers)
    if lower_bound_replications:
        result.lower_bound = lower_bound(data, lower_bound_replications, lower_bound_scenarios, seed,
                                         workers=workers, scheduler=scheduler, stress_result=result)
    result.seconds = time.perf_counter() - started
    return result


def _tables(data, plans, records, outputs, n_blocks, probability, labels, own):
    settings = data.settings
    currency = settings.currency
    level = settings.cvar_level
    materials = list(data.materials.index)
    total = data.total_demand().reindex(materials).to_numpy(dtype=float)
    summary, mats, rules, futures_rows, fm_rows = [], [], [], [], []
    cap = _dependency_caps(data)
    for i, plan in enumerate(plans):
        chunk = outputs[i * n_blocks:(i + 1) * n_blocks]
        joined = {k: np.concatenate([c[k] for c in chunk]) for k in chunk[0] if k != "seconds"}
        solves = joined["solves"]
        for k, policy in enumerate(POLICIES):
            parts = joined["parts"][:, k, :]
            cost = parts.sum(axis=1)
            unmet = joined["unmet"][:, k, :]
            short = (unmet > TOLERANCE * np.maximum(total, 1e-12)).any(axis=1)
            over = joined["over"][:, k, :]
            limit_scale = np.array([max(float(total[materials.index(r.material)]), 1e-12) for r in records])
            broken = over > TOLERANCE * limit_scale
            for name, value, lo, hi in distribution(cost, probability, level, not own):
                summary.append((plan.name, policy, f"cost_{name}", value, lo, hi, currency))
            stats = dict((s[0], s[1]) for s in distribution(cost, probability, level, False))
            objective = stats["mean"] + settings.cvar_weight * stats[f"cvar_{level:g}"]
            summary.append((plan.name, policy, "objective", objective, None, None, currency))
            p_short = float(np.dot(probability, short))
            half = Z95 * math.sqrt(max(p_short * (1 - p_short), 0.0) / len(cost))
            summary.append((plan.name, policy, "probability_of_shortfall", p_short,
                            *((max(0.0, p_short - half), min(1.0, p_short + half)) if not own else (None, None)),
                            "share"))
            any_broken = broken.any(axis=1)
            p_broken = float(np.dot(probability, any_broken))
            half = Z95 * math.sqrt(max(p_broken * (1 - p_broken), 0.0) / len(cost))
            summary.append((plan.name, policy, "probability_rule_broken", p_broken,
                            *((max(0.0, p_broken - half), min(1.0, p_broken + half)) if not own else (None, None)),
                            "share"))
            summary.append((plan.name, policy, "mean_penalised_cost", float(np.dot(probability, joined["penalised"][:, k])),
                            None, None, currency))
            if k == 0:
                summary.append((plan.name, policy, "mean_solves_per_future", float(solves.mean()), None, None, ""))
            fill = 1 - np.divide(unmet, total, out=np.zeros_like(unmet), where=total > 0)
            share = np.divide(joined["dependency"][:, k, :], total, out=np.zeros_like(unmet), where=total > 0)
            for j, mat in enumerate(materials):
                fs = np.argsort(fill[:, j], kind="stable")
                ss = np.argsort(share[:, j], kind="stable")
                mats.append({"plan": plan.name, "policy": policy, "material": mat,
                             "mean_fill_rate": float(np.dot(probability, fill[:, j])),
                             "fill_rate_worst_5pct": _quantile(fill[fs, j], np.cumsum(probability[fs]), 0.05),
                             "mean_dependency_share": float(np.dot(probability, share[:, j])),
                             "dependency_share_p95": _quantile(share[ss, j], np.cumsum(probability[ss]), 0.95),
                             "dependency_cap": cap.get(mat)})
            for r, record in enumerate(records):
                rules.append({"plan": plan.name, "policy": policy, "rule": record.rule, "name": record.name,
                              "input_row": record.input_row, "material": record.material, "period": record.period,
                              "limit": float(record.limit), "broken_share": float(np.dot(probability, broken[:, r])),
                              "mean_excess": float(np.dot(probability, over[:, r]))})
            frame = pd.DataFrame({"plan": plan.name, "policy": policy, "future": labels, "probability": probability,
                                  f"cost_{currency}": cost})
            for j, part in enumerate(COST_PARTS):
                frame[f"{part}_{currency}"] = parts[:, j]
            frame["any_shortfall"] = short
            frame["rules_broken"] = broken.sum(axis=1)
            futures_rows.append(frame)
            fm = pd.DataFrame({"plan": plan.name, "policy": policy,
                               "future": np.repeat(np.asarray(labels, dtype=object), len(materials)),
                               "material": np.tile(materials, len(cost)),
                               "demand": np.tile(total, len(cost)), "unmet": unmet.ravel(),
                               "fill_rate": fill.ravel(), "dependency_share": share.ravel()})
            fm_rows.append(fm)
    summary = pd.DataFrame(summary, columns=["plan", "policy", "statistic", "value", "ci_low", "ci_high", "unit"])
    summary = summary.astype({"ci_low": object, "ci_high": object})
    return (summary, pd.DataFrame(mats), pd.DataFrame(rules), pd.concat(futures_rows, ignore_index=True),
            pd.concat(fm_rows, ignore_index=True))


def _dependency_caps(data: SourcingData) -> dict:
    """material -> the tightest origin cap on the dependency country (any stage)."""
    caps = data.origin_caps
    country = data.settings.dependency_country
    out: dict = {}
    for c in caps.itertuples():
        if c.country != country:
            continue
        for mat in ([c.material] if c.material is not None else list(data.materials.index)):
            out[mat] = min(out.get(mat, 1.0), float(c.max_share))
    return out


# --------------------------------------------------------------------------- the lower bound

def _replication(item: tuple) -> tuple[str, float | None]:
    """Worker entry point: solve one sampled-scenario problem; (status, objective)."""
    data, scenarios, seed = item
    from ..solving.pipeline import solve
    from .sampling import sample_instance

    sampled = sample_instance(data, scenarios, seed)
    # Floors off: a sampled future that no plan can serve at the floor would leave the problem without a
    # plan; with shortages priced at their penalty instead, every problem solves and still bounds from below
    # what any plan keeping the caps can reach.
    sampled = replace(sampled, fill_floors=sampled.fill_floors.assign(min_fill_rate=0.0))
    result = solve(sampled, explain=False)
    return result.status, result.objective if result.optimal else None


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent seeds for the replications (numpy SeedSequence), apart from the stress test's own."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence([seed, 7]).spawn(replications)]


def paired_difference(result: StressResult, first: str, second: str) -> pd.DataFrame:
    """Two plans of one stress test compared future by future (common random numbers: both played the same
    futures), per policy: the mean of first's cost minus second's with its 95% interval (normal, from the
    paired differences, far tighter than the two plans' own intervals), and the share of futures in which
    first costs less, in which they cost the same and in which second costs less. On the instance's own
    scenarios the figures are probability-weighted and have no interval (they are the whole distribution).

    Table: policy, measure, value, ci_low, ci_high, unit."""
    for name in (first, second):
        if name not in result.plans:
            raise ValueError(f"plan {name!r} is not one of the stress test's plans ({', '.join(result.plans)})")
    futures, cost = result.futures, f"cost_{result.currency}"
    rows = []
    for policy in POLICIES:
        mine = futures[(futures["plan"] == first) & (futures["policy"] == policy)].set_index("future")
        other = futures[(futures["plan"] == second) & (futures["policy"] == policy)].set_index("future")
        if mine.empty or other.empty:
            continue
        a = mine[cost].to_numpy(dtype=float)
        b = other.loc[mine.index, cost].to_numpy(dtype=float)
        weight = mine["probability"].to_numpy(dtype=float)
        weight = weight / weight.sum()
        gap = a - b
        tie = np.abs(gap) <= 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
        mean = float(weight @ gap)
        low = high = np.nan
        if not result.own_scenarios and len(gap) >= 2:
            half = 1.96 * float(gap.std(ddof=1)) / math.sqrt(len(gap))
            low, high = mean - half, mean + half
        rows.append({"policy": policy, "measure": f"mean cost of {first} minus {second}", "value": mean,
                     "ci_low": low, "ci_high": high, "unit": result.currency})
        for label, mask in ((f"{first} costs less", (gap < 0) & ~tie), ("the same cost", tie),
                            (f"{second} costs less", (gap > 0) & ~tie)):
            rows.append({"policy": policy, "measure": f"share of futures: {label}", "value": float(weight[mask].sum()),
                         "ci_low": np.nan, "ci_high": np.nan, "unit": "share"})
    return pd.DataFrame(rows, columns=["policy", "measure", "value", "ci_low", "ci_high", "unit"])


def plan_differences(result: StressResult) -> pd.DataFrame:
    """Every plan after the first against the first, future by future (see paired_difference); empty with one
    plan. Table: plan, against, policy, measure, value, ci_low, ci_high, unit."""
    columns = ["plan", "against", "policy", "measure", "value", "ci_low", "ci_high", "unit"]
    frames = [paired_difference(result, plan, result.plans[0]).assign(plan=plan, against=result.plans[0])
              for plan in result.plans[1:]]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def lower_bound(data: SourcingData, replications: int, scenarios: int, seed: int = 0, *,
                workers: int | None = None, scheduler: str | None = None,
                stress_result: StressResult | None = None,
                progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Statistical lower bound on the best objective any plan can reach (Mak, Morton and Wood 1999): the mean
    of the optima of `replications` independent problems of `scenarios` sampled scenarios, with a 95% CI
    (t distribution); next to it, each tested plan's out-of-sample objective under re-planning, and the gap.
    The sampled problems leave out the fill-rate floors (shortages cost their penalty), so that a future no
    plan can serve at the floor does not leave a problem without a plan.

    Table: plan, measure, value, ci_low, ci_high, unit, note."""
    from scipy import stats

    from ..solving.executor import Executor

    if replications < 2:
        raise InputError([Problem(None, None, None, f"option --lower-bound {replications}: enter 2 or more "
                                                    "replications (a confidence interval needs two).")])
    items = [(data, scenarios, s) for s in replication_seeds(seed, replications)]
    with Executor(workers=workers, scheduler=scheduler, preload=[__name__]) as executor:
        results = executor.map(_replication, items, progress=progress)
    currency = data.settings.currency
    optima = np.array([v for status, v in results if v is not None], dtype=float)
    failed = [status for status, v in results if v is None]
    rows = []
    if len(optima) >= 2:
        mean = float(optima.mean())
        half = float(stats.t.ppf(0.975, len(optima) - 1) * optima.std(ddof=1) / math.sqrt(len(optima)))
        rows.append({"plan": None, "measure": "lower bound", "value": mean, "ci_low": mean - half,
                     "ci_high": mean + half, "unit": currency,
                     "note": f"mean optimum of {len(optima)} problems of {scenarios} sampled scenarios"
                             + (f"; {len(failed)} had no plan ({', '.join(sorted(set(failed)))})" if failed else "")})
    else:
        rows.append({"plan": None, "measure": "lower bound", "value": None, "ci_low": None, "ci_high": None,
                     "unit": currency, "note": f"{len(failed)} of {replications} sampled problems had no plan"})
    if stress_result is not None and not stress_result.own_scenarios and rows[0]["value"] is not None:
        s = stress_result.summary
        for plan in stress_result.plans:
            pick = s[(s["plan"] == plan) & (s["policy"] == POLICIES[0])].set_index("statistic")
            value = float(pick.loc["objective", "value"])
            rows.append({"plan": plan, "measure": "out-of-sample objective (re-planning)", "value": value,
                         "ci_low": None, "ci_high": None, "unit": currency,
                         "note": f"{stress_result.n_futures} futures"})
            rows.append({"plan": plan, "measure": "gap to the lower bound", "value": value - rows[0]["value"],
                         "ci_low": value - rows[0]["ci_high"], "ci_high": value - rows[0]["ci_low"], "unit": currency,
                         "note": "an upper estimate of how much better a plan could do"})
    return pd.DataFrame(rows, columns=["plan", "measure", "value", "ci_low", "ci_high", "unit", "note"])
