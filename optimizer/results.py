"""Turn a solved model into tidy, unit-labelled tables (shared/MODEL.md section 4).

Reads variable values, named Expressions and duals; never solves, never writes
files. Only called after `solve.run_solver` reported an optimum: for any other
status the Result holds the status and its explanation and no plan tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from .data import SourcingData
from .model import covered_materials, matching_suppliers
from .solve import OPTIMAL, Built, SolverRun, solver_version
from .validate import input_hash

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
    def headline(self) -> dict[str, float]:
        """Headline figures by metric name."""
        if self.summary.empty:
            return {}
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
    values = _gather(built)
    if detail:
        result.plan = _plan(built, currency)
        result.flows = _flows(built, values, currency)
        result.balance = _balance(built, values)
    result.scenario_costs = _scenario_costs(built, values, currency)
    result.fill_rates = _fill_rates(built, values)
    result.origin_shares = _origin_shares(built, values)
    result.dependency = _dependency(built, values)
    result.shadow_prices = _shadow_prices(built, run.duals, currency)
    result.summary = _summary(built, result, currency)
    for name in PLAN_TABLES:
        _zero_noise(getattr(result, name))
    return result


def _zero_noise(frame: pd.DataFrame, tolerance: float = 1e-9) -> None:
    """Solver round-off such as -0.0 or 1e-12 shown as 0."""
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame.loc[frame[column].abs() < tolerance, column] = 0.0


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
    """A first-stage value; a decision that touches no rule or cost (nothing is ever delivered)
    gets no value from the solver and is reported at its lower bound."""
    return float(var.value) if var.value is not None else float(var.lb or 0.0)


def _scenario_map(built: Built) -> pd.DataFrame:
    return built.tree.scenario_nodes()


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
    for (s, mat, t) in model.CONTRACT_OFFERS:
        x = decision_value(model.contract_quantity[s, mat, t])
        offer = data.offers.loc[(s, mat, t)]
        share, price_weight = expect.loc[(s, mat, t)]
        rows.append({
            "decision": "contract", "supplier": s, "material": mat, "period": t,
            "quantity": x, "unit": units[mat], f"price_{currency}_per_unit": offer["price"],
            "capacity": offer["capacity"] if np.isfinite(offer["capacity"]) else np.nan,
            "min_quantity": offer["min_quantity"],
            "expected_delivered": x * share, f"expected_cost_{currency}": x * price_weight,
        })
    for (s, mat) in model.STOCKPILE_OFFERS:
        r = decision_value(model.reserved_quantity[s, mat])
        fee = data.stockpiles.loc[(s, mat), "reservation_fee"]
        rows.append({
            "decision": "stockpile reservation", "supplier": s, "material": mat, "period": None,
            "quantity": r, "unit": units[mat], f"price_{currency}_per_unit": fee,
            "capacity": data.stockpiles.loc[(s, mat), "reserve_limit"], "min_quantity": 0.0,
            "expected_delivered": np.nan, f"expected_cost_{currency}": r * fee,
        })
    return pd.DataFrame(rows)


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


def _gather(built: Built) -> _Values:
    model, tree = built.model, built.tree
    on = tree.offer_nodes
    available = on[on["availability"] > 0].copy()
    contract = (available["kind"] == "contract").to_numpy()
    solved = {**{k: v.value for k, v in model.spot_purchase.items()},
              **{k: v.value for k, v in model.stockpile_draw.items()}}
    first_stage = {k: decision_value(v) for k, v in model.contract_quantity.items()}
    keys = zip(available["supplier"], available["material"], available["node"], available["period"])
    quantity = np.fromiter(((first_stage[(s, m, t)] if is_contract else (solved[(s, m, n)] or 0.0))
                            for (s, m, n, t), is_contract in zip(keys, contract)), dtype=float, count=len(available))
    available["quantity"] = quantity * np.where(contract, available["availability"].to_numpy(), 1.0)
    materials = list(model.MATERIALS)
    index = {m: i for i, m in enumerate(materials)}
    n_nodes = len(tree.nodes)
    unmet = np.zeros((len(materials), n_nodes))
    inventory = np.zeros((len(materials), n_nodes))
    for (mat, n), var in model.unmet_demand.items():
        unmet[index[mat], n] = var.value or 0.0
    for (mat, n), var in model.inventory.items():
        inventory[index[mat], n] = var.value or 0.0
    return _Values(available, unmet, inventory, index)


def _flows(built: Built, values: _Values, currency: str) -> pd.DataFrame:
    """What arrives from each offer in each scenario and period, and what it costs."""
    flows = _scenario_map(built).merge(values.inflow.drop(columns="period"), on="node")
    flows[f"price_{currency}_per_unit"] = flows["price"] * flows["price_multiplier"]
    flows[f"cost_{currency}"] = flows["quantity"] * flows[f"price_{currency}_per_unit"]
    flows["unit"] = flows["material"].map(_units(built.data))
    position = {p: i for i, p in enumerate(built.data.periods)}
    scenario_rank = {w: i for i, w in enumerate(built.tree.scenarios)}
    flows = flows.sort_values(["scenario", "period", "material", "supplier"],
                              key=lambda c: c.map(scenario_rank) if c.name == "scenario"
                              else c.map(position) if c.name == "period" else c)
    return flows[["scenario", "period", "material", "supplier", "kind", "quantity", "unit", "availability",
                  f"price_{currency}_per_unit", f"cost_{currency}"]].reset_index(drop=True)


def _balance(built: Built, values: _Values) -> pd.DataFrame:
    """Material balance per scenario, material and period; opening + delivered + unmet = demand + closing."""
    data, tree = built.data, built.tree
    materials = list(values.material_index)
    delivered = np.zeros_like(values.unmet)
    grouped = values.inflow.groupby(["material", "node"])["quantity"].sum()
    for (mat, n), amount in grouped.items():
        delivered[values.material_index[mat], n] = amount
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
    reservation = sum(decision_value(model.reserved_quantity[k]) * float(data.stockpiles.loc[k, "reservation_fee"])
                      for k in model.STOCKPILE_OFFERS)
    frame = pd.DataFrame({"scenario": tree.scenarios, "probability": tree.probability})
    total = np.full(len(tree.scenarios), float(reservation))
    for name, per_node in parts.items():
        frame[f"{name}_{currency}"] = per_node[tree.node_of].sum(axis=1)
        total += frame[f"{name}_{currency}"].to_numpy()
    frame.insert(2, f"cost_{currency}", total)
    frame.insert(3, f"reservation_{currency}", reservation)
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
    frame["min_fill_rate"] = [float(floors.get((m, w), 0.0)) for w, m in zip(frame["scenario"], frame["material"])]
    return frame


def _origin_shares(built: Built, values: _Values) -> pd.DataFrame:
    """Share of demand supplied through each capped country and stage, per scenario (and period)."""
    data, tree = built.data, built.tree
    total = data.total_demand()
    n_nodes = len(tree.nodes)
    rows = []
    for cap in data.origin_caps.itertuples():
        flows = values.inflow[values.inflow["supplier"].isin(matching_suppliers(data, cap.country, cap.stage))]
        for mat in covered_materials(data, cap.material):
            per_node = (flows[flows["material"] == mat].groupby("node")["quantity"].sum()
                        .reindex(range(n_nodes), fill_value=0.0).to_numpy())
            along = per_node[tree.node_of]  # scenarios x periods
            for w, scenario in enumerate(tree.scenarios):
                if cap.per_period:
                    for t, period in enumerate(data.periods):
                        demand = float(data.demand.loc[(mat, period), "quantity"])
                        rows.append(_share_row(cap, mat, scenario, period, float(along[w, t]), demand))
                else:
                    rows.append(_share_row(cap, mat, scenario, None, float(along[w].sum()), float(total[mat])))
    columns = ["cap", "country", "stage", "material", "scenario", "period", "supplied_through", "demand",
               "share", "max_share"]
    return pd.DataFrame(rows, columns=columns)


def _share_row(cap, material: str, scenario: str, period: str | None, supplied: float, demand: float) -> dict:
    return {"cap": cap.cap, "country": cap.country, "stage": cap.stage or "any", "material": material,
            "scenario": scenario, "period": period, "supplied_through": supplied, "demand": demand,
            "share": supplied / demand if demand > 0 else 0.0, "max_share": cap.max_share}


def _dependency(built: Built, values: _Values) -> pd.DataFrame:
    """Share of each material's demand supplied through the dependency country at any stage."""
    data, tree = built.data, built.tree
    country = data.settings.dependency_country
    inflow = values.inflow
    through = inflow[inflow["supplier"].isin(matching_suppliers(data, country, None))]
    materials = list(values.material_index)
    per_node = np.zeros((len(materials), len(tree.nodes)))
    for (mat, n), amount in through.groupby(["material", "node"])["quantity"].sum().items():
        per_node[values.material_index[mat], n] = amount
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
    """Duals in the user's units (d objective / d right-hand side, negated where loosening saves money)."""
    model, data, tree = built.model, built.data, built.tree
    units = _units(data)
    total = data.total_demand()
    demand = data.demand["quantity"]
    period_of = tree.nodes["period"]
    rows = []

    def dual(con) -> float:
        return float(duals.get(con, 0.0))

    point = f"{currency} per percentage point"
    for i, cap in enumerate(data.origin_caps.itertuples()):
        for mat in covered_materials(data, cap.material):
            saving = 0.0
            for w in tree.scenarios:
                if (i, mat, w) in model.origin_cap:
                    saving -= dual(model.origin_cap[i, mat, w]) * total[mat] / 100
            for n in model.NODES:
                if (i, mat, n) in model.origin_cap_per_period:
                    saving -= dual(model.origin_cap_per_period[i, mat, n]) * demand[(mat, period_of[n])] / 100
            rows.append({"rule": "origin cap", "name": cap.cap, "supplier": None, "material": mat,
                         "scenario": None, "period": None, "value": saving, "unit": point,
                         "meaning": f"expected cost saved if the {cap.country} cap allowed one more "
                                    f"percentage point of {mat} demand"})
    for key in model.contract_capacity:
        s, mat, t = key
        rows.append({"rule": "contract capacity", "name": f"{s} {mat}", "supplier": s, "material": mat,
                     "scenario": None, "period": t, "value": -dual(model.contract_capacity[key]),
                     "unit": f"{currency} per {units[mat]}",
                     "meaning": f"expected cost saved by one more {units[mat]} of {s} capacity in {t}"})
    for (mat, w) in model.fill_rate_floor:
        rows.append({"rule": "fill-rate floor", "name": f"{mat} fill rate", "supplier": None, "material": mat,
                     "scenario": w, "period": None,
                     "value": -dual(model.fill_rate_floor[mat, w]) * total[mat] / 100, "unit": point,
                     "meaning": f"expected cost added by raising the {mat} floor in '{w}' by one percentage point"})
    for i, cap in enumerate(data.supplier_caps.itertuples()):
        for mat in covered_materials(data, cap.material):
            saving = sum(-dual(model.supplier_cap[i, mat, w]) * total[mat] / 100
                         for w in tree.scenarios if (i, mat, w) in model.supplier_cap)
            rows.append({"rule": "supplier cap", "name": f"{cap.supplier} cap", "supplier": cap.supplier,
                         "material": mat, "scenario": None, "period": None, "value": saving, "unit": point,
                         "meaning": f"expected cost saved if {cap.supplier} could supply one more "
                                    f"percentage point of {mat} demand"})
    if hasattr(model, "budget"):
        rows.append({"rule": "budget", "name": "budget", "supplier": None, "material": None, "scenario": None,
                     "period": None, "value": -dual(model.budget), "unit": f"{currency} per {currency}",
                     "meaning": "objective saved per extra unit of budget"})
    columns = ["rule", "name", "supplier", "material", "scenario", "period", "value", "unit", "meaning"]
    return pd.DataFrame(rows, columns=columns)


def _summary(built: Built, result: Result, currency: str) -> pd.DataFrame:
    data = built.data
    costs = result.scenario_costs
    level = data.settings.cvar_level
    cost = costs[f"cost_{currency}"].to_numpy()
    probability = costs["probability"].to_numpy()
    dependency = result.dependency
    total_demand = float(data.total_demand().sum())
    per_scenario = dependency.groupby("scenario", sort=False)["supplied_through"].sum()
    expected_share = (float(np.dot(per_scenario.reindex(built.tree.scenarios).to_numpy(), probability))
                      / total_demand if total_demand > 0 else 0.0)
    country = data.settings.dependency_country
    rows = [
        ("status", "Status", result.status, ""),
        ("objective", "Objective (expected cost + risk term)", result.objective, currency),
        ("expected_cost", "Expected cost", float(np.dot(probability, cost)), currency),
        (f"cvar_{level:g}", f"CVaR {level * 100:g}% (mean of the worst {(1 - level) * 100:.3g}%)",
         cvar_of(cost, probability, level), currency),
        ("worst_scenario_cost", "Worst-scenario cost", float(cost.max()), currency),
        (f"expected_{country.lower().replace(' ', '_')}_share", f"Expected {country} share",
         expected_share, "share of demand"),
        ("lowest_fill_rate", "Lowest fill rate", float(result.fill_rates["fill_rate"].min()), "share of demand"),
    ]
    return pd.DataFrame(rows, columns=["metric", "label", "value", "unit"])


def _run_info(data: SourcingData, run: SolverRun, built: Built) -> pd.DataFrame:
    model = built.model
    n_vars = sum(len(v) for v in model.component_objects(pyo.Var, active=True))
    n_cons = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True))
    rows = [
        ("input", data.source),
        ("input hash (sha256, first 16)", input_hash(data.tables)),
        ("solved at (UTC)", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
        ("solver", solver_version()),
        ("status", run.status),
        ("solver message", run.message),
        ("hand-over seconds (model to HiGHS)", round(run.handover_seconds, 3)),
        ("solve seconds (HiGHS)", round(run.solve_seconds, 3)),
        ("variables", n_vars),
        ("constraints", n_cons),
        ("scenario-tree nodes", len(built.tree.nodes)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
