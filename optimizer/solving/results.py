"""Turn a solved model into tidy, unit-labelled tables (docs/model.md; columns in README.md).

Reads variable values, named Expressions and duals; never solves, never writes
files. Only called after the solver reported an optimum: for any other
status the Result holds the status and its explanation and no plan tables.
The policy rules' own rows (origin shares, their shadow prices) come from each
rule's report hooks in model/rules/, given the solved values and duals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.core as pyo

from ..inputs.data import SourcingData
from ..inputs.validate import input_hash
from ..model import Built
from ..model.rules import RULES
from ..model.formulation import capacity_parameters
from ..model.rules.base import PRICE_COLUMNS, priced
from ..model.rules.origin_caps import SHARE_COLUMNS, suppliers_through
from .solver import OPTIMAL, Primal, SolverRun, solver_version, value_never_seen

#: Columns of the plan table (money in `currency`, quantities in `unit`).
PLAN_COLUMNS = ("decision", "supplier", "material", "period", "quantity", "unit", "price_per_unit", "capacity",
                "min_quantity", "expected_delivered", "expected_cost", "currency")
#: The parts of a scenario's cost, the columns of scenario_costs after `cost` (in the order they add up).
COST_PARTS = ("reservation", "contract", "spot", "stockpile_draw", "holding", "shortage")

PLAN_TABLES = ("plan", "flows", "balance", "scenario_costs", "fill_rates", "origin_shares",
               "dependency", "shadow_prices")


@dataclass
class Result:
    """Everything a solve produced.

    status: "optimal", "infeasible", "unbounded", "time limit" or "not solved".
    message: one sentence for the user; explanation: why there is no plan (a table), when known.
    summary: headline figures (metric, value, unit). The plan tables are empty unless optimal;
    their columns are documented in README.md ("What comes out").
    """

    status: str
    message: str
    data: SourcingData = field(repr=False)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    plan: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    balance: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    scenario_costs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    fill_rates: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    origin_shares: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    dependency: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    shadow_prices: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    explanation: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    run_info: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    objective: float | None = None

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    @property
    def variables(self) -> int | None:
        """The model's number of variables (run_info), None when it was not built."""
        if self.run_info.empty or "item" not in self.run_info:
            return None
        rows = self.run_info.loc[self.run_info["item"] == "variables", "value"]
        return int(rows.iloc[0]) if len(rows) else None

    @property
    def warnings(self) -> list[str]:
        """Notes on the input that did not stop the solve (an unknown sheet ignored, ...)."""
        return list(self.data.warnings)

    @property
    def headline(self) -> dict[str, float]:
        """Headline figures by metric name; the same names without a plan, with None for the figures (and
        the status, the CVaR level and the dependency country, which are known)."""
        if self.summary.empty:
            settings = self.data.settings
            known = {"status": self.status, "cvar_level": settings.cvar_level,
                     "dependency_country": settings.dependency_country}
            return {metric: known.get(metric) for metric in HEADLINE_METRICS}
        return dict(zip(self.summary["metric"], self.summary["value"]))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, in the order the plan workbook shows them."""
        return {name: getattr(self, name) for name in ("summary",) + PLAN_TABLES}


def collect_results(built: Built, run: SolverRun, detail: bool = True) -> Result:
    """The result tables of a solve (only the status and message when not optimal).

    detail=False leaves out the plan, flows and balance tables (a sweep point needs only the headline,
    costs, fill rates, shares and shadow prices).
    """
    data = built.data
    result = Result(status=run.status, message=run.message, data=data, objective=run.objective)
    result.run_info = _run_info(data, run, built)
    if run.status != OPTIMAL:
        return result
    currency = data.settings.currency
    values = _gather(built, run.primal)
    if detail:
        result.plan = _plan(built, currency)
        result.flows = _flows(built, values, currency)
        result.balance = _balance(built, values)
    result.scenario_costs = _scenario_costs(built, values, currency)
    result.fill_rates = _fill_rates(built, values)
    for name, frame in _rule_tables(built, values).items():
        setattr(result, name, frame)
    result.dependency = _dependency(built, values)
    result.shadow_prices = _shadow_prices(built, run.duals, currency)
    result.summary = _summary(built, result, currency, values)
    for name in PLAN_TABLES:
        _zero_noise(getattr(result, name))
    return result


def _zero_noise(frame: pd.DataFrame, tolerance: float = 1e-9) -> None:
    """Solver round-off such as -0.0 or 1e-12 shown as 0."""
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            values = frame[column].to_numpy()
            noise = np.abs(values) < tolerance
            if noise.any():
                frame.loc[noise, column] = 0.0


# --------------------------------------------------------------------------- helpers

def cvar_of(costs: np.ndarray, probabilities: np.ndarray, level: float) -> float:
    """CVaR_beta of a discrete cost distribution: min_eta eta + E[(cost - eta)+] / (1 - beta).

    The minimum of this piecewise-linear convex function lies at one of the costs.
    """
    costs = np.asarray(costs, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    values = [eta + np.dot(probabilities, np.maximum(costs - eta, 0)) / (1 - level) for eta in costs]
    return float(min(values))


def decision_value(var) -> float:
    """A decision's solved value; one the solver never saw (it touches no rule or cost, e.g. nothing
    is ever delivered) is valued as `solver.value_never_seen` says."""
    return float(var.value) if var.value is not None else value_never_seen(var)


def _units(data: SourcingData) -> pd.Series:
    return data.materials["unit"].fillna("unit")


# --------------------------------------------------------------------------- tables

def _plan(built: Built, currency: str) -> pd.DataFrame:
    """First-stage decisions: contract quantities per period and stockpile reservations."""
    model, data, tree = built.model, built.data, built.tree
    units = _units(data)
    rows = []
    on = tree.offer_nodes
    weights = on.assign(prob=on["node"].map(tree.nodes["probability"]))
    contracts = weights[weights["kind"] == "contract"].copy()
    contracts["expected_share"] = contracts["prob"] * contracts["availability"]
    contracts["expected_price"] = contracts["expected_share"] * contracts["price"] * contracts["price_multiplier"]
    expect = contracts.groupby(["supplier", "material", "period"])[["expected_share", "expected_price"]].sum()
    # plain dicts: a pandas .loc per offer cost more than the rest of the table
    expected_share, expected_price = expect["expected_share"].to_dict(), expect["expected_price"].to_dict()
    price, capacity, floor = (data.offers[c].to_dict() for c in ("price", "capacity", "min_quantity"))
    units = units.to_dict()
    for key, var in model.contract_quantity.items():
        s, mat, t = key
        x = decision_value(var)
        rows.append({
            "decision": "contract", "supplier": s, "material": mat, "period": t,
            "quantity": x, "unit": units[mat], "price_per_unit": price[key],
            "capacity": capacity[key] if np.isfinite(capacity[key]) else np.nan,
            "min_quantity": floor[key],
            "expected_delivered": x * expected_share[key], "expected_cost": x * expected_price[key],
            "currency": currency,
        })
    fees, limits = data.stockpiles["reservation_fee"].to_dict(), data.stockpiles["reserve_limit"].to_dict()
    for key, var in model.reserved_quantity.items():
        s, mat = key
        r = decision_value(var)
        rows.append({
            "decision": "stockpile reservation", "supplier": s, "material": mat, "period": None,
            "quantity": r, "unit": units[mat], "price_per_unit": fees[key],
            "capacity": limits[key], "min_quantity": 0.0,
            "expected_delivered": np.nan, "expected_cost": r * fees[key], "currency": currency,
        })
    # the columns are named even when nothing is signed (a buyer served by spot purchases alone)
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


@dataclass
class _Values:
    """Solution values gathered once, as arrays on the tree's nodes.

    inflow: the available offer-node rows of tree.offer_nodes with `quantity` = the value of the inflow
    Expression (a x for contracts, y otherwise; tests check it against the Expression itself).
    unmet, inventory: materials x nodes.
    """

    inflow: pd.DataFrame
    unmet: np.ndarray
    inventory: np.ndarray
    material_index: dict[str, int]
    reserved: dict = field(default_factory=dict)


@dataclass
class _GatherPlan:
    """Which variables _gather reads and where their values go, worked out once per model.

    available: the available offer-node rows (in model.inflow's order); factor: each one's coefficient
    (a for contracts, 1 otherwise); unmet_at, inventory_at: (material row, node) index arrays;
    groups: the inflow, unmet-demand, inventory and reservation variables, read in one go each.
    """

    available: pd.DataFrame
    factor: np.ndarray
    unmet_at: tuple
    inventory_at: tuple
    shape: tuple
    material_index: dict[str, int]
    groups: tuple


def _gather(built: Built, primal: Primal | None = None) -> _Values:
    """The solution on the tree's arrays: from primal (HiGHS's columns) when given, else from the variables."""
    cache = built.cache
    if cache.gather_plan is None:
        cache.gather_plan = _gather_plan(built)
    plan: _GatherPlan = cache.gather_plan
    if primal is not None:
        # The columns hold for every solve of one hand-over; another hand-over may number them differently.
        if cache.columns is None or cache.columns_handover != primal.handover:
            cache.columns = [primal.columns(group) for group in plan.groups]
            cache.columns_handover = primal.handover
        flows, unmet_values, inventory_values, reserved_values = (
            primal.at(columns, group) for columns, group in zip(cache.columns, plan.groups))
    else:
        flows, unmet_values, inventory_values, reserved_values = (
            np.fromiter((decision_value(v) for v in group), dtype=float, count=len(group)) for group in plan.groups)
    inflow = plan.available.copy()
    inflow["quantity"] = flows * plan.factor
    unmet = np.zeros(plan.shape)
    inventory = np.zeros(plan.shape)
    unmet[plan.unmet_at] = unmet_values
    inventory[plan.inventory_at] = inventory_values
    reserved = dict(zip(built.model.reserved_quantity.keys(), reserved_values.tolist()))
    return _Values(inflow, unmet, inventory, plan.material_index, reserved)


def _gather_plan(built: Built) -> _GatherPlan:
    model, tree = built.model, built.tree
    on = tree.offer_nodes
    available = on[on["availability"] > 0].copy()  # the rows model.inflow was built from, in its order
    terms = list(model.inflow.values())
    factor = np.array([coefficient for coefficient, _ in terms], dtype=float)
    materials = list(model.MATERIALS)
    index = {m: i for i, m in enumerate(materials)}

    def placed(component):
        keys = list(component.keys())
        return (np.array([index[mat] for mat, _ in keys], dtype=int), np.array([n for _, n in keys], dtype=int))

    groups = ([var for _, var in terms], list(model.unmet_demand.values()), list(model.inventory.values()),
              list(model.reserved_quantity.values()))
    return _GatherPlan(available, factor, placed(model.unmet_demand), placed(model.inventory),
                       (len(materials), len(tree.nodes)), index, groups)


def _per_material_node(values: _Values, inflow: pd.DataFrame) -> np.ndarray:
    """These inflow rows' quantities summed into a (material x node) array."""
    out = np.zeros((len(values.material_index), values.unmet.shape[1]))
    np.add.at(out, (inflow["material"].map(values.material_index).to_numpy(dtype=int),
                    inflow["node"].to_numpy(dtype=int)), inflow["quantity"].to_numpy())
    return out


def _flows(built: Built, values: _Values, currency: str) -> pd.DataFrame:
    """What arrives from each offer in each scenario and period, and what it costs."""
    # Rows in the order scenario, period, material, supplier. A scenario has one node per period, so that
    # order is each scenario's nodes in period order, each node's rows by material and supplier: one take
    # of the inflow rows (sorting the joined table by mapped keys took most of this table's time).
    tree, inflow = built.tree, values.inflow
    material_code, _ = pd.factorize(inflow["material"], sort=True)
    supplier_code, _ = pd.factorize(inflow["supplier"], sort=True)
    node = inflow["node"].to_numpy(dtype=np.int64)
    by_node = np.lexsort((supplier_code, material_code, node))
    n_nodes = len(tree.nodes)
    start = np.searchsorted(node[by_node], np.arange(n_nodes))
    count = np.bincount(node, minlength=n_nodes)
    path = tree.node_of.reshape(-1)  # scenario by scenario, each in period order
    first = np.repeat(start[path], count[path])
    offset = np.arange(len(first)) - np.repeat(np.cumsum(count[path]) - count[path], count[path])
    rows = by_node[first + offset]
    n_periods = tree.node_of.shape[1]
    picked = inflow.iloc[rows].reset_index(drop=True)
    flows = pd.DataFrame({
        "scenario": np.repeat(np.asarray(tree.scenarios, dtype=object), count[path].reshape(-1, n_periods).sum(axis=1)),
        "period": picked["period"], "material": picked["material"], "supplier": picked["supplier"],
        "kind": picked["kind"], "quantity": picked["quantity"]})
    flows["unit"] = flows["material"].map(_units(built.data))
    flows["availability"] = picked["availability"]
    flows["price_per_unit"] = picked["price"] * picked["price_multiplier"]
    flows["cost"] = flows["quantity"] * flows["price_per_unit"]
    flows["currency"] = currency
    return flows


def _balance(built: Built, values: _Values) -> pd.DataFrame:
    """Material balance per scenario, material and period; opening + delivered + unmet = demand + closing."""
    data, tree = built.data, built.tree
    materials = list(values.material_index)
    delivered = _per_material_node(values, values.inflow)
    parent = tree.nodes["parent"].to_numpy()
    opening = np.where(parent[None, :] >= 0, values.inventory[:, np.maximum(parent, 0)],
                       data.materials["initial_inventory"].reindex(materials).to_numpy()[:, None])
    demand = data.demand["quantity"].unstack("period").reindex(index=materials, columns=data.periods).to_numpy()
    n_scenarios, n_periods = tree.node_of.shape
    nodes = tree.node_of  # scenarios x periods
    frame = pd.DataFrame({
        "scenario": np.repeat(np.repeat(tree.scenarios, len(materials)), n_periods),
        "material": np.tile(np.repeat(materials, n_periods), n_scenarios),
        "period": np.tile(data.periods, n_scenarios * len(materials)),
    })
    node = np.repeat(nodes[:, None, :], len(materials), axis=1)  # scenarios x materials x periods
    mat = np.broadcast_to(np.arange(len(materials))[None, :, None], node.shape)
    frame["opening_inventory"] = opening[mat, node].ravel()
    frame["delivered"] = delivered[mat, node].ravel()
    frame["unmet_demand"] = values.unmet[mat, node].ravel()
    frame["demand"] = np.broadcast_to(demand[None, :, :], node.shape).ravel()
    frame["closing_inventory"] = values.inventory[mat, node].ravel()
    frame["unit"] = frame["material"].map(_units(data))
    return frame


def _scenario_costs(built: Built, values: _Values, currency: str) -> pd.DataFrame:
    """cost_w and its parts along each scenario's path (the cost Expressions, evaluated on the node arrays)."""
    model, data, tree = built.model, built.data, built.tree
    n_nodes = len(tree.nodes)
    inflow = values.inflow
    spend = inflow["quantity"] * inflow["price"] * inflow["price_multiplier"]
    parts = {}
    for kind, name in (("contract", "contract"), ("spot", "spot"), ("stockpile", "stockpile_draw")):
        per_node = spend[inflow["kind"] == kind].groupby(inflow["node"]).sum()
        parts[name] = per_node.reindex(range(n_nodes), fill_value=0.0).to_numpy()
    materials = list(values.material_index)
    parts["holding"] = data.materials["holding_cost"].reindex(materials).to_numpy() @ values.inventory
    parts["shortage"] = data.materials["shortage_penalty"].reindex(materials).to_numpy() @ values.unmet
    reservation = sum(values.reserved[k] * float(data.stockpiles.loc[k, "reservation_fee"])
                      for k in model.STOCKPILE_OFFERS)
    frame = pd.DataFrame({"scenario": tree.scenarios, "probability": tree.probability})
    total = np.full(len(tree.scenarios), float(reservation))
    for name, per_node in parts.items():
        frame[name] = per_node[tree.node_of].sum(axis=1)
        total += frame[name].to_numpy()
    frame.insert(2, "cost", total)
    frame.insert(3, "reservation", reservation)
    frame["currency"] = currency
    return frame


def _fill_rates(built: Built, values: _Values) -> pd.DataFrame:
    """Fill rate per scenario and material: 1 - unmet / demand over the horizon."""
    data, tree = built.data, built.tree
    materials = list(values.material_index)
    total = data.total_demand().reindex(materials).to_numpy()
    unmet = values.unmet[:, tree.node_of].sum(axis=2).T  # scenarios x materials
    floors = data.fill_floors["min_fill_rate"] if len(data.fill_floors) else pd.Series(dtype=float)
    frame = pd.DataFrame({"scenario": np.repeat(tree.scenarios, len(materials)),
                          "material": np.tile(materials, len(tree.scenarios)),
                          "demand": np.tile(total, len(tree.scenarios)), "unmet_demand": unmet.ravel()})
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["fill_rate"] = np.where(frame["demand"] > 0, 1 - frame["unmet_demand"] / frame["demand"], 1.0)
    floors = floors.to_dict()
    frame["min_fill_rate"] = [float(floors.get((m, w), 0.0))
                              for w, m in zip(frame["scenario"].tolist(), frame["material"].tolist())]
    return frame


def _rule_tables(built: Built, values: _Values) -> dict[str, pd.DataFrame]:
    """The policy rules' report tables (origin_shares), each rule's rows concatenated by table."""
    parts: dict[str, list[pd.DataFrame]] = {"origin_shares": []}
    for rule in RULES:
        for name, frame in rule.tables(built.data, built.tree, values.inflow).items():
            parts.setdefault(name, []).append(frame)
    empty = {"origin_shares": SHARE_COLUMNS}
    return {name: (pd.concat([f for f in frames if len(f)], ignore_index=True)
                   if any(len(f) for f in frames) else pd.DataFrame(columns=empty.get(name, [])))
            for name, frames in parts.items()}


def _dependency(built: Built, values: _Values) -> pd.DataFrame:
    """Share of each material's demand supplied through the dependency country at any stage."""
    data, tree = built.data, built.tree
    country = data.settings.dependency_country
    inflow = values.inflow
    through = inflow[inflow["supplier"].isin(suppliers_through(data, country, None))]
    materials = list(values.material_index)
    per_node = _per_material_node(values, through)
    supplied = per_node[:, tree.node_of].sum(axis=2).T  # scenarios x materials
    total = data.total_demand().reindex(materials).to_numpy()
    frame = pd.DataFrame({"scenario": np.repeat(tree.scenarios, len(materials)),
                          "probability": np.repeat(tree.probability, len(materials)), "country": country,
                          "material": np.tile(materials, len(tree.scenarios)), "supplied_through": supplied.ravel(),
                          "demand": np.tile(total, len(tree.scenarios))})
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["share"] = np.where(frame["demand"] > 0, frame["supplied_through"] / frame["demand"], 0.0)
    return frame


def _shadow_prices(built: Built, duals: dict, currency: str) -> pd.DataFrame:
    """Duals in the user's units (d objective / d right-hand side, negated where loosening saves money):
    each policy rule's rows, then the contract capacities'."""
    model, data, tree = built.model, built.data, built.tree
    rows = [row for rule in RULES for row in rule.shadow_prices(model, data, tree, duals, currency)]
    rows += [priced(parameter, duals) for parameter in capacity_parameters(model, data, currency)]
    return pd.DataFrame(rows, columns=list(PRICE_COLUMNS))


def material_values(built: Built, values: _Values) -> pd.Series:
    """Each material's demand valued at the plan's prices: demand over the horizon x the plan's expected
    price per unit bought (expected spend / expected quantity over every offer; the shortage penalty when
    nothing is bought). The weights of the cross-material dependency share: money, so that restating a
    material in other units leaves them unchanged."""
    data, tree = built.data, built.tree
    inflow = values.inflow
    probability = inflow["node"].map(tree.nodes["probability"])
    quantity = (probability * inflow["quantity"]).groupby(inflow["material"]).sum()
    spend = (probability * inflow["quantity"] * inflow["price"] * inflow["price_multiplier"]
             ).groupby(inflow["material"]).sum()
    materials = list(values.material_index)
    quantity, spend = quantity.reindex(materials, fill_value=0.0), spend.reindex(materials, fill_value=0.0)
    penalty = data.materials["shortage_penalty"].reindex(materials).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = (spend / quantity).where(quantity > 1e-9, penalty)
    return data.total_demand().reindex(materials).astype(float) * price


def dependency_share(dependency: pd.DataFrame, weights: pd.Series) -> float:
    """The expected share of supply through the dependency country over all materials: each material's
    probability-weighted share of its demand, weighted by the material's value (`material_values`)."""
    expected = (dependency["share"] * dependency["probability"]).groupby(dependency["material"]).sum()
    weights = weights.reindex(expected.index).fillna(0.0)
    total = float(weights.sum())
    return float((expected * weights).sum() / total) if total > 0 else 0.0


#: The headline's metric names, in the Summary's order, whatever the settings and whether or not there is a plan.
HEADLINE_METRICS = ("status", "objective", "expected_cost", "cvar", "cvar_level", "worst_scenario_cost",
                    "dependency_share", "dependency_country", "lowest_fill_rate")


def _summary(built: Built, result: Result, currency: str, values: _Values) -> pd.DataFrame:
    """Headline figures under stable metric names; the CVaR level, the currency (unit) and the dependency
    country are values, so that the names never change with the settings."""
    data = built.data
    settings = data.settings
    costs = result.scenario_costs
    level = settings.cvar_level
    cost = costs["cost"].to_numpy()
    probability = costs["probability"].to_numpy()
    country = settings.dependency_country
    objective = (f"Objective: expected cost + {settings.cvar_weight:g} x CVaR" if settings.cvar_weight > 0
                 else "Objective (the expected cost: no risk weight)")
    rows = [
        ("status", "Status", result.status, ""),
        ("objective", objective, result.objective, currency),
        ("expected_cost", "Expected cost (probability-weighted)", float(np.dot(probability, cost)),
         currency),
        ("cvar", f"CVaR {level * 100:g}%: mean cost of the worst {(1 - level) * 100:.3g}%",
         cvar_of(cost, probability, level), currency),
        ("cvar_level", "CVaR level", level, "share"),
        ("worst_scenario_cost", "Worst-scenario cost", float(cost.max()), currency),
        ("dependency_share", f"Expected {country} share (value-weighted)",
         dependency_share(result.dependency, material_values(built, values)), "share of value"),
        ("dependency_country", "Dependency country", country, ""),
        ("lowest_fill_rate", "Lowest fill rate", float(result.fill_rates["fill_rate"].min()), "share of demand"),
    ]
    return pd.DataFrame(rows, columns=["metric", "label", "value", "unit"])


def _input_hash(built: Built) -> str:
    if built.cache.input_hash is None:
        built.cache.input_hash = input_hash(built.data.tables)
    return built.cache.input_hash


def _run_info(data: SourcingData, run: SolverRun, built: Built) -> pd.DataFrame:
    model = built.model
    n_vars = sum(len(v) for v in model.component_objects(pyo.Var, active=True))
    n_cons = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True))
    rows = [
        ("input", data.source),
        ("input hash (sha256, first 16)", _input_hash(built)),
        ("solved at (UTC)", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
        ("solver", solver_version()),
        ("status", run.status),
        ("solver message", run.message),
        ("hand-over seconds (model to HiGHS)", round(run.handover_seconds, 3)),
        ("solve seconds (HiGHS)", round(run.solve_seconds, 3)),
        ("method", run.method if run.method == "monolithic" else
         f"decomposed by material ({run.blocks} blocks, {run.rounds} pricing rounds)"),
        ("bound proved", run.bound if run.bound is not None else run.objective),
        ("relative gap", run.gap),
        ("variables", n_vars),
        ("constraints", n_cons),
        ("scenario-tree nodes", len(built.tree.nodes)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
