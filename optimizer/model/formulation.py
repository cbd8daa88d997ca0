"""Build the sourcing LP of docs/model.md as a Pyomo ConcreteModel.

`build_model` is a pure function of validated data and its scenario tree: no
files, no solving. Each business rule has its own `define_<rule>` function with
the rule's formula in its docstring; the policy rules (caps, floors, budget,
CVaR, take-or-pay) live one module each in model/rules/ and are built through
its registry (`define_policy_rules`). Recourse decisions live on scenario-tree
nodes (period t, group of scenarios indistinguishable through t), which makes
them non-anticipative by construction; rules stated "in every scenario" are
written along each scenario's path of nodes.

Notation: x contract quantity, r reserved quantity, y spot purchase or
stockpile draw, u unmet demand, I end inventory, a availability, g price
multiplier, c price, n node, w scenario, path(w) = the nodes of scenario w.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC

from ..inputs.data import SourcingData
from .rules import POLICY_RULES, RULES, BuildContext
from .rules.base import Parameter, objective_words
from .terms import inflows_by_offer, linear_sum, path_keys, records
from .tree import ScenarioTree

__all__ = ["POLICY_RULES", "build_model", "capacity_parameters", "inflow_value"]


def build_model(data: SourcingData, tree: ScenarioTree,
                elastic: frozenset[str] = frozenset()) -> pyo.ConcreteModel:
    """The whole LP, one rule at a time.

    elastic: policy rules (of POLICY_RULES) that get a relaxation variable; when any is given the
    objective becomes the total relaxation, in percent of each rule's value (see `explain`).
    """
    # The build makes hundreds of thousands of small objects that all live as long as the model, so every
    # collection the garbage collector runs meanwhile scans them and frees nothing: paused, as Pyomo's own
    # writers do (at 27,552 columns the collections were 0.37 s of a 0.83 s build; bench/notes.md).
    with PauseGC():
        model = pyo.ConcreteModel(name="rare_earth_sourcing")
        model.relaxations = []  # rules.Relaxation records of the elastic rules
        define_sets(model, data, tree)
        define_contract_quantity(model)
        define_contract_capacity(model, data)
        define_stockpile_reservation(model, data)
        define_recourse(model, tree)
        define_inflow(model, tree)
        define_material_balance(model, data, tree)
        define_stockpile_reserve(model, tree)
        define_costs(model, data, tree)
        define_policy_rules(model, data, tree, elastic)
        if elastic:
            define_least_relaxation(model)
        else:
            define_objective(model, data)
    return model


# --------------------------------------------------------------------------- sets

def define_sets(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree) -> None:
    """Index sets taken from the data: only offered combinations exist."""
    offers = data.offers
    model.PERIODS = pyo.Set(initialize=data.periods, ordered=True)
    model.MATERIALS = pyo.Set(initialize=list(data.materials.index), ordered=True)
    model.SCENARIOS = pyo.Set(initialize=tree.scenarios, ordered=True)
    model.NODES = pyo.Set(initialize=list(tree.nodes.index), ordered=True)
    model.CONTRACT_OFFERS = pyo.Set(dimen=3, ordered=True,
                                    initialize=list(offers.index[offers["kind"] == "contract"]))
    model.STOCKPILE_OFFERS = pyo.Set(dimen=2, ordered=True, initialize=list(data.stockpiles.index))
    on = tree.offer_nodes
    available = on[on["availability"] > 0]
    model.SPOT_NODES = pyo.Set(dimen=3, ordered=True, initialize=_keys(available[available["kind"] == "spot"]))
    model.DRAW_NODES = pyo.Set(dimen=3, ordered=True,
                               initialize=_keys(available[available["kind"] == "stockpile"]))
    model.MATERIAL_NODES = pyo.Set(dimen=2, ordered=True,
                                   initialize=[(m, n) for n in model.NODES for m in model.MATERIALS])


def _keys(frame) -> list[tuple]:
    return records(frame, "supplier", "material", "node")


# --------------------------------------------------------------------------- decisions

def define_contract_quantity(model: pyo.ConcreteModel) -> None:
    """First stage: contract_quantity[s, m, t] = x_ot >= 0 (the take-or-pay floor is rules/take_or_pay's)."""
    model.contract_quantity = pyo.Var(model.CONTRACT_OFFERS, domain=pyo.NonNegativeReals)


def define_contract_capacity(model: pyo.ConcreteModel, data: SourcingData) -> None:
    """Contract capacity: x_ot <= q_ot (a constraint, so its dual prices one more unit)."""
    capacity = data.offers["capacity"].to_dict()  # a dict: a pandas lookup per offer is slow
    bodies = {k: var <= float(capacity[k]) for k, var in model.contract_quantity.items()
              if capacity[k] < float("inf")}
    model.contract_capacity = pyo.Constraint(pyo.Set(initialize=list(bodies), dimen=3, ordered=True), rule=bodies)


def capacity_parameters(model: pyo.ConcreteModel, data: SourcingData, currency: str) -> list[Parameter]:
    """Each limited contract capacity as a right-hand side (rules.base.Parameter): one more unit is one more
    on its row; its price is the objective saved."""
    capacity = data.offers["capacity"].to_dict()  # a sweep prices them at every point: no pandas per row
    units = data.materials["unit"].fillna("unit").astype(str).to_dict()
    words = objective_words(data)
    return [Parameter({"rule": "contract capacity", "name": f"{s} {mat}", "supplier": s, "material": mat,
                       "scenario": None, "period": t, "unit": f"{currency} per {units[mat]}",
                       "meaning": f"{words} saved by one more {units[mat]} of {s} capacity in {t}",
                       "input_row": None},
                      ((con, 1.0),), -1.0, float(capacity[(s, mat, t)]), 0.0, None, units[mat])
            for (s, mat, t), con in model.contract_capacity.items()]


def define_stockpile_reservation(model: pyo.ConcreteModel, data: SourcingData) -> None:
    """First stage: reserved_quantity[s, m] = r_o, 0 <= r_o <= R_o."""
    limit = data.stockpiles["reserve_limit"].to_dict()
    model.reserved_quantity = pyo.Var(model.STOCKPILE_OFFERS,
                                      bounds={k: (0.0, float(limit[k])) for k in model.STOCKPILE_OFFERS})


def define_recourse(model: pyo.ConcreteModel, tree: ScenarioTree) -> None:
    """Recourse on nodes: spot_purchase, stockpile_draw <= a q; unmet_demand, inventory >= 0."""
    on = tree.offer_nodes
    bound = dict(zip(_keys(on), (on["availability"] * on["capacity"]).tolist()))

    def bounds(keys) -> dict:
        # A dict of bounds, not a rule closing over `bound`: Pyomo keeps a component's rule for the life of
        # the model, and with it every table the rule reads (see bench/notes.md).
        return {k: (0.0, bound[k] if bound[k] < float("inf") else None) for k in keys}

    model.spot_purchase = pyo.Var(model.SPOT_NODES, bounds=bounds(model.SPOT_NODES))
    model.stockpile_draw = pyo.Var(model.DRAW_NODES, bounds=bounds(model.DRAW_NODES))
    del bound
    model.unmet_demand = pyo.Var(model.MATERIAL_NODES, domain=pyo.NonNegativeReals)
    model.inventory = pyo.Var(model.MATERIAL_NODES, domain=pyo.NonNegativeReals)


def define_inflow(model: pyo.ConcreteModel, tree: ScenarioTree) -> None:
    """inflow[s, m, n] = a x for contracts, y for spot purchases and stockpile draws.

    Kept as (coefficient, variable) pairs rather than a named Expression: the rules below add them
    into their sums directly, which builds and compiles the model faster than one Expression per offer
    and node (see bench/notes.md). `inflow_value` evaluates one.
    """
    on = tree.offer_nodes
    available = on[on["availability"] > 0]
    # the variables by index as plain dicts: indexing a Pyomo Var normalises the index at every lookup
    contract, spot, draw = (dict(var.items()) for var in
                            (model.contract_quantity, model.spot_purchase, model.stockpile_draw))
    terms = {}
    for s, mat, n, t, kind, a in records(available, "supplier", "material", "node", "period", "kind",
                                          "availability"):
        if kind == "contract":
            terms[(s, mat, n)] = (a, contract[(s, mat, t)])
        elif kind == "spot":
            terms[(s, mat, n)] = (1, spot[(s, mat, n)])
        else:
            terms[(s, mat, n)] = (1, draw[(s, mat, n)])
    model.inflow = terms


def inflow_value(model: pyo.ConcreteModel, key: tuple) -> float:
    """The solved value of inflow[key]."""
    coefficient, var = model.inflow[key]
    return coefficient * pyo.value(var)


def _inflows_by_material(model: pyo.ConcreteModel) -> dict[tuple, list[tuple]]:
    """The (coefficient, variable) pairs of inflow grouped by (material, node)."""
    by_material: dict[tuple, list[tuple]] = defaultdict(list)
    for key, term in model.inflow.items():
        by_material[(key[1], key[2])].append(term)
    return by_material


def define_material_balance(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree) -> None:
    """Balance: I_{m,parent(n)} + sum_o inflow_{o,n} + u_{m,n} = D_{m,t(n)} + I_{m,n} (I at the root's parent = I0_m)."""
    by_material = _inflows_by_material(model)
    demand = data.demand["quantity"].to_dict()
    opening = data.materials["initial_inventory"].to_dict()
    parent = dict(zip(tree.nodes.index.tolist(), tree.nodes["parent"].tolist()))
    period = dict(zip(tree.nodes.index.tolist(), tree.nodes["period"].tolist()))

    unmet, inventory = dict(model.unmet_demand.items()), dict(model.inventory.items())

    def balance(mat, n):
        # I_parent + inflows + u - I_n == D - I0 (I0 only at the root)
        terms = by_material.pop((mat, n), [])  # each (material, node) is balanced once
        terms += [(1, unmet[(mat, n)]), (-1, inventory[(mat, n)])]
        if parent[n] >= 0:
            terms.append((1, inventory[(mat, parent[n])]))
            return linear_sum(terms) == float(demand[(mat, period[n])])
        return linear_sum(terms) == float(demand[(mat, period[n])]) - float(opening[mat])

    # Built into a dict, not by a rule: Pyomo keeps a component's rule for the life of the model, and with
    # it the tables it reads (a fifth of the model's memory at the large scale; see bench/notes.md).
    model.material_balance = pyo.Constraint(model.MATERIAL_NODES,
                                            rule={(mat, n): balance(mat, n) for mat, n in model.MATERIAL_NODES})


def define_stockpile_reserve(model: pyo.ConcreteModel, tree: ScenarioTree) -> None:
    """Stockpile reserve: sum_{n in path(w)} y_{o,n} <= r_o for every stockpile offer o and scenario w."""
    draws: dict[tuple, list] = defaultdict(list)
    for s, mat, n in model.DRAW_NODES:
        draws[(s, mat, n)].append((s, mat, n))
    index = [(s, mat, w) for s, mat in model.STOCKPILE_OFFERS for w in tree.scenarios]
    paths = {(s, mat): path_keys(tree, draws, (s, mat)) for s, mat in model.STOCKPILE_OFFERS}
    bodies = {(s, mat, w): linear_sum((1, model.stockpile_draw[k]) for k in paths[(s, mat)][w])
              <= model.reserved_quantity[s, mat] for s, mat, w in index if paths[(s, mat)][w]}
    model.stockpile_reserve = pyo.Constraint(pyo.Set(initialize=list(bodies), dimen=3, ordered=True), rule=bodies)


# --------------------------------------------------------------------------- costs

def define_costs(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree) -> None:
    """node_cost_n = sum_o c g inflow + sum_m (h I + P u); scenario_cost_w = sum_o f r + sum_{n in path(w)} node_cost_n."""
    on = tree.offer_nodes
    keys = _keys(on)
    unit_price = dict(zip(keys, (on["price"] * on["price_multiplier"]).tolist()))
    kind = dict(zip(keys, on["kind"].tolist()))
    holding = data.materials["holding_cost"].to_dict()
    penalty = data.materials["shortage_penalty"].to_dict()
    at_node: dict[tuple, list] = defaultdict(list)  # priced (c g a, variable) pairs by kind and node
    for key, (coefficient, var) in model.inflow.items():
        at_node[(kind[key], key[2])].append((unit_price[key] * coefficient, var))
    fee = data.stockpiles["reservation_fee"].to_dict()

    model.reservation_cost = pyo.Expression(
        expr=sum(float(fee[k]) * model.reserved_quantity[k] for k in model.STOCKPILE_OFFERS))

    def purchases(of_kind: str) -> dict:
        # a dict, not a rule: see define_material_balance
        return {n: linear_sum(at_node.get((of_kind, n), ())) for n in model.NODES}

    model.contract_cost = pyo.Expression(model.NODES, rule=purchases("contract"))
    model.spot_cost = pyo.Expression(model.NODES, rule=purchases("spot"))
    model.draw_cost = pyo.Expression(model.NODES, rule=purchases("stockpile"))
    del unit_price, kind, at_node

    materials = list(model.MATERIALS)

    @model.Expression(model.NODES)
    def holding_cost(m, n):
        return linear_sum((float(holding[mat]), m.inventory[mat, n]) for mat in materials)

    @model.Expression(model.NODES)
    def shortage_cost(m, n):
        return linear_sum((float(penalty[mat]), m.unmet_demand[mat, n]) for mat in materials)

    @model.Expression(model.NODES)
    def node_cost(m, n):
        return m.contract_cost[n] + m.spot_cost[n] + m.draw_cost[n] + m.holding_cost[n] + m.shortage_cost[n]

    node_of = dict(zip(tree.scenarios, tree.node_of.tolist()))

    @model.Expression(model.SCENARIOS)
    def scenario_cost(m, w):
        return m.reservation_cost + sum(m.node_cost[n] for n in node_of[w])

    probability = tree.nodes["probability"].to_dict()
    model.expected_cost = pyo.Expression(
        expr=model.reservation_cost + sum(probability[n] * model.node_cost[n] for n in model.NODES))


# --------------------------------------------------------------------------- policy rules

def define_policy_rules(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                        elastic: frozenset[str]) -> None:
    """Each registered policy rule adds its constraints (see model/rules/, one module per rule)."""
    context = BuildContext(inflows=inflows_by_offer(model), total_demand=data.total_demand().to_dict(),
                           demand=data.demand["quantity"].to_dict(), period_of=tree.nodes["period"].to_dict())
    for rule in RULES:
        rule.define(model, data, tree, context, rule.name in elastic)


def define_least_relaxation(model: pyo.ConcreteModel) -> None:
    """Elastic objective: minimise sum_rules weight * relaxation (percent of each rule's value)."""
    model.total_objective = pyo.Objective(
        expr=sum(r.weight * r.variable for r in model.relaxations), sense=pyo.minimize)


def define_objective(model: pyo.ConcreteModel, data: SourcingData) -> None:
    """Minimise sum_w p_w cost_w + lambda CVaR_beta(cost) (model.cvar is rules/cvar's)."""
    weight = data.settings.cvar_weight
    risk = weight * model.cvar if weight > 0 else 0
    model.total_objective = pyo.Objective(expr=model.expected_cost + risk, sense=pyo.minimize)
