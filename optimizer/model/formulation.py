"""Build the sourcing LP of shared/MODEL.md section 3 as a Pyomo ConcreteModel.

`build_model` is a pure function of validated data and its scenario tree: no
files, no solving. Each business rule has its own `define_<rule>` function with
the rule's formula in its docstring. Recourse decisions live on scenario-tree
nodes (period t, group of scenarios indistinguishable through t), which makes
them non-anticipative by construction; rules stated "in every scenario" are
written along each scenario's path of nodes.

Notation: x contract quantity, r reserved quantity, y spot purchase or
stockpile draw, u unmet demand, I end inventory, a availability, g price
multiplier, c price, n node, w scenario, path(w) = the nodes of scenario w.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from ..inputs.data import SourcingData
from .tree import ScenarioTree


#: The policy rules that the elastic model may relax; physical balances and capacities stay hard.
ORIGIN_CAPS, FILL_FLOORS, SUPPLIER_CAPS, BUDGET, CVAR_CAP, TAKE_OR_PAY = (
    "origin caps", "fill-rate floors", "supplier caps", "budget", "CVaR cap", "take-or-pay floors")
POLICY_RULES = (ORIGIN_CAPS, FILL_FLOORS, SUPPLIER_CAPS, BUDGET, CVAR_CAP, TAKE_OR_PAY)


def build_model(data: SourcingData, tree: ScenarioTree,
                elastic: frozenset[str] = frozenset()) -> pyo.ConcreteModel:
    """The whole LP, one rule at a time.

    elastic: policy rules (of POLICY_RULES) that get a relaxation variable; when any is given the
    objective becomes the total relaxation, in percent of each rule's value (see `explain`).
    """
    model = pyo.ConcreteModel(name="rare_earth_sourcing")
    model.relaxations = []  # (rule, relaxation variable, weight) of the elastic rules
    define_sets(model, data, tree)
    define_contract_quantity(model, data, TAKE_OR_PAY in elastic)
    define_contract_capacity(model, data)
    define_stockpile_reservation(model, data)
    define_recourse(model, tree)
    define_inflow(model, tree)
    define_material_balance(model, data, tree)
    define_stockpile_reserve(model, tree)
    define_costs(model, data, tree)
    by_offer = _inflows_by_offer(model)
    define_origin_caps(model, data, tree, by_offer, ORIGIN_CAPS in elastic)
    define_fill_rate_floors(model, data, tree, FILL_FLOORS in elastic)
    define_supplier_caps(model, data, tree, by_offer, SUPPLIER_CAPS in elastic)
    define_budget(model, data, BUDGET in elastic)
    define_cvar(model, data, tree, CVAR_CAP in elastic)
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
    return _records(frame, "supplier", "material", "node")


def _sum(terms) -> LinearExpression | float:
    """sum of coefficient * variable over (coefficient, variable) pairs, built as one LinearExpression
    (Pyomo's operators would build it term by term)."""
    args = [var if coefficient == 1 else MonomialTermExpression((coefficient, var)) for coefficient, var in terms]
    return LinearExpression(args) if args else 0.0


def _release(*tables) -> None:
    """Empty lookup tables that only a rule reads, once its component is built: Pyomo keeps every rule,
    and with it the tables it closes over, for the life of the model (a fifth of the model's memory at
    the large scale; see bench/notes.md)."""
    for table in tables:
        table.clear()


def _records(frame, *columns) -> list[tuple]:
    """Rows of a frame as plain tuples (iterating pandas columns element by element is slow)."""
    return list(zip(*(frame[c].tolist() for c in columns)))


# --------------------------------------------------------------------------- decisions

def define_contract_quantity(model: pyo.ConcreteModel, data: SourcingData, elastic: bool = False) -> None:
    """First stage: contract_quantity[s, m, t] = x_ot >= l_ot (take-or-pay floor; elastic: x_ot + v_ot >= l_ot)."""
    floor = data.offers["min_quantity"]
    if not elastic:
        model.contract_quantity = pyo.Var(model.CONTRACT_OFFERS,
                                          bounds=lambda m, s, mat, t: (float(floor[(s, mat, t)]), None))
        return
    model.contract_quantity = pyo.Var(model.CONTRACT_OFFERS, domain=pyo.NonNegativeReals)
    floored = [k for k in model.CONTRACT_OFFERS if floor[k] > 0]
    model.take_or_pay_relaxation = pyo.Var(pyo.Set(initialize=floored, dimen=3, ordered=True),
                                           bounds=lambda m, s, mat, t: (0.0, float(floor[(s, mat, t)])))

    @model.Constraint(model.take_or_pay_relaxation.index_set())
    def take_or_pay(m, s, mat, t):
        return m.contract_quantity[s, mat, t] + m.take_or_pay_relaxation[s, mat, t] >= float(floor[(s, mat, t)])

    for key in floored:
        model.relaxations.append((TAKE_OR_PAY, model.take_or_pay_relaxation[key], 100 / float(floor[key])))


def define_contract_capacity(model: pyo.ConcreteModel, data: SourcingData) -> None:
    """Contract capacity: x_ot <= q_ot (a constraint, so its dual prices one more unit)."""
    capacity = data.offers["capacity"]
    limited = [k for k in model.CONTRACT_OFFERS if capacity[k] < float("inf")]

    @model.Constraint(pyo.Set(initialize=limited, dimen=3, ordered=True))
    def contract_capacity(m, s, mat, t):
        return m.contract_quantity[s, mat, t] <= float(capacity[(s, mat, t)])


def define_stockpile_reservation(model: pyo.ConcreteModel, data: SourcingData) -> None:
    """First stage: reserved_quantity[s, m] = r_o, 0 <= r_o <= R_o."""
    limit = data.stockpiles["reserve_limit"]
    model.reserved_quantity = pyo.Var(model.STOCKPILE_OFFERS,
                                      bounds=lambda m, s, mat: (0.0, float(limit[(s, mat)])))


def define_recourse(model: pyo.ConcreteModel, tree: ScenarioTree) -> None:
    """Recourse on nodes: spot_purchase, stockpile_draw <= a q; unmet_demand, inventory >= 0."""
    on = tree.offer_nodes
    bound = dict(zip(_keys(on), (on["availability"] * on["capacity"]).tolist()))

    def upper(m, s, mat, n):
        value = bound[(s, mat, n)]
        return (0.0, value if value < float("inf") else None)

    model.spot_purchase = pyo.Var(model.SPOT_NODES, bounds=upper)
    model.stockpile_draw = pyo.Var(model.DRAW_NODES, bounds=upper)
    _release(bound)
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
    terms = {}
    for s, mat, n, t, kind, a in _records(available, "supplier", "material", "node", "period", "kind",
                                          "availability"):
        if kind == "contract":
            terms[(s, mat, n)] = (a, model.contract_quantity[s, mat, t])
        elif kind == "spot":
            terms[(s, mat, n)] = (1, model.spot_purchase[s, mat, n])
        else:
            terms[(s, mat, n)] = (1, model.stockpile_draw[s, mat, n])
    model.inflow = terms


def inflow_value(model: pyo.ConcreteModel, key: tuple) -> float:
    """The solved value of inflow[key]."""
    coefficient, var = model.inflow[key]
    return coefficient * pyo.value(var)


def _inflows_by_material(model: pyo.ConcreteModel) -> dict[tuple, list[tuple]]:
    """Keys of inflow grouped by (material, node)."""
    by_material: dict[tuple, list[tuple]] = defaultdict(list)
    for key in model.inflow:
        by_material[(key[1], key[2])].append(key)
    return by_material


def define_material_balance(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree) -> None:
    """Balance: I_{m,parent(n)} + sum_o inflow_{o,n} + u_{m,n} = D_{m,t(n)} + I_{m,n} (I at the root's parent = I0_m)."""
    by_material = _inflows_by_material(model)
    demand = data.demand["quantity"].to_dict()
    opening = data.materials["initial_inventory"].to_dict()
    parent = dict(zip(tree.nodes.index.tolist(), tree.nodes["parent"].tolist()))
    period = dict(zip(tree.nodes.index.tolist(), tree.nodes["period"].tolist()))

    @model.Constraint(model.MATERIAL_NODES)
    def material_balance(m, mat, n):
        # I_parent + inflows + u - I_n == D - I0 (I0 only at the root)
        terms = [m.inflow[k] for k in by_material.get((mat, n), ())]
        terms += [(1, m.unmet_demand[mat, n]), (-1, m.inventory[mat, n])]
        if parent[n] >= 0:
            terms.append((1, m.inventory[mat, parent[n]]))
            return _sum(terms) == float(demand[(mat, period[n])])
        return _sum(terms) == float(demand[(mat, period[n])]) - float(opening[mat])

    _release(by_material)


def _inflows_by_offer(model: pyo.ConcreteModel) -> dict[tuple, dict[tuple, list]]:
    """Keys of inflow grouped by (supplier, material), then by (node,): what the cap rules look up."""
    grouped: dict[tuple, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for key in model.inflow:
        grouped[(key[0], key[1])][(key[2],)].append(key)
    return grouped


def _inflows_of(by_offer: dict, suppliers: set[str], material: str) -> dict[tuple, list]:
    """Keys of inflow for these suppliers and this material, grouped by (node,)."""
    at: dict[tuple, list] = defaultdict(list)
    for supplier in sorted(suppliers):
        for node, keys in by_offer.get((supplier, material), {}).items():
            at[node].extend(keys)
    return at


def _path_keys(tree: ScenarioTree, keys_at: dict, group: tuple) -> dict[str, list]:
    """For each scenario, the keys found along its path of nodes for one group (e.g. a material)."""
    out = {}
    for w, scenario in enumerate(tree.scenarios):
        out[scenario] = [k for n in tree.node_of[w] for k in keys_at.get(group + (int(n),), ())]
    return out


def define_stockpile_reserve(model: pyo.ConcreteModel, tree: ScenarioTree) -> None:
    """Stockpile reserve: sum_{n in path(w)} y_{o,n} <= r_o for every stockpile offer o and scenario w."""
    draws: dict[tuple, list] = defaultdict(list)
    for s, mat, n in model.DRAW_NODES:
        draws[(s, mat, n)].append((s, mat, n))
    index = [(s, mat, w) for s, mat in model.STOCKPILE_OFFERS for w in tree.scenarios]
    paths = {(s, mat): _path_keys(tree, draws, (s, mat)) for s, mat in model.STOCKPILE_OFFERS}

    @model.Constraint(pyo.Set(initialize=index, dimen=3, ordered=True))
    def stockpile_reserve(m, s, mat, w):
        keys = paths[(s, mat)][w]
        if not keys:
            return pyo.Constraint.Skip
        return _sum((1, m.stockpile_draw[k]) for k in keys) <= m.reserved_quantity[s, mat]

    _release(paths)


# --------------------------------------------------------------------------- costs

def define_costs(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree) -> None:
    """node_cost_n = sum_o c g inflow + sum_m (h I + P u); scenario_cost_w = sum_o f r + sum_{n in path(w)} node_cost_n."""
    on = tree.offer_nodes
    keys = _keys(on)
    unit_price = dict(zip(keys, (on["price"] * on["price_multiplier"]).tolist()))
    kind = dict(zip(keys, on["kind"].tolist()))
    holding = data.materials["holding_cost"].to_dict()
    penalty = data.materials["shortage_penalty"].to_dict()
    at_node: dict[tuple, list] = defaultdict(list)
    for key in model.inflow:
        at_node[(kind[key], key[2])].append(key)
    fee = data.stockpiles["reservation_fee"]

    model.reservation_cost = pyo.Expression(
        expr=sum(float(fee[k]) * model.reserved_quantity[k] for k in model.STOCKPILE_OFFERS))

    def purchases(of_kind: str):
        def cost(m, n):
            return _sum((unit_price[k] * m.inflow[k][0], m.inflow[k][1]) for k in at_node.get((of_kind, n), ()))
        return cost

    model.contract_cost = pyo.Expression(model.NODES, rule=purchases("contract"))
    model.spot_cost = pyo.Expression(model.NODES, rule=purchases("spot"))
    model.draw_cost = pyo.Expression(model.NODES, rule=purchases("stockpile"))
    _release(unit_price, kind, at_node)

    materials = list(model.MATERIALS)

    @model.Expression(model.NODES)
    def holding_cost(m, n):
        return _sum((float(holding[mat]), m.inventory[mat, n]) for mat in materials)

    @model.Expression(model.NODES)
    def shortage_cost(m, n):
        return _sum((float(penalty[mat]), m.unmet_demand[mat, n]) for mat in materials)

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

def covered_materials(data: SourcingData, material: str | None) -> list[str]:
    """A rule's material, or every material when the rule leaves it blank."""
    return [material] if material is not None else list(data.materials.index)


def matching_suppliers(data: SourcingData, country: str, stage: str | None) -> set[str]:
    """Suppliers whose chain passes through country at stage (any stage when blank)."""
    stages = [stage] if stage is not None else data.stages
    through = data.suppliers[stages].eq(country).any(axis=1)
    return set(through.index[through])


def define_origin_caps(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, by_offer: dict,
                       elastic: bool = False) -> None:
    """Origin cap: sum_{n in path(w)} sum_{o through k at s} inflow_{o,n} <= alpha D_m (per period: each node, <= alpha D_{m,t})."""
    caps = data.origin_caps
    model.ORIGIN_CAPS = pyo.Set(initialize=list(range(len(caps))), ordered=True)
    model.origin_cap_share = pyo.Param(model.ORIGIN_CAPS, mutable=True,
                                       initialize={i: float(s) for i, s in enumerate(caps["max_share"])})
    if elastic:  # the share a cap would need: alpha + v_i
        model.origin_cap_relaxation = pyo.Var(model.ORIGIN_CAPS, domain=pyo.NonNegativeReals)
        for i in model.ORIGIN_CAPS:
            model.relaxations.append((ORIGIN_CAPS, model.origin_cap_relaxation[i], 100.0))

    def share(m, i):
        return m.origin_cap_share[i] + m.origin_cap_relaxation[i] if elastic else m.origin_cap_share[i]
    total = data.total_demand().to_dict()
    demand = data.demand["quantity"].to_dict()
    period = tree.nodes["period"].to_dict()
    horizon_index, period_index = [], []
    horizon_keys, node_keys = {}, {}
    for i, cap in enumerate(caps.itertuples()):
        through = matching_suppliers(data, cap.country, cap.stage)
        for mat in covered_materials(data, cap.material):
            at = _inflows_of(by_offer, through, mat)
            if not at:
                continue
            if cap.per_period:
                for (n,), keys in at.items():
                    period_index.append((i, mat, n))
                    node_keys[(i, mat, n)] = keys
            else:
                for w, keys in _path_keys(tree, at, ()).items():
                    if keys:
                        horizon_index.append((i, mat, w))
                        horizon_keys[(i, mat, w)] = keys

    @model.Constraint(pyo.Set(initialize=horizon_index, dimen=3, ordered=True))
    def origin_cap(m, i, mat, w):
        return _sum(m.inflow[k] for k in horizon_keys[(i, mat, w)]) <= share(m, i) * float(total[mat])

    @model.Constraint(pyo.Set(initialize=period_index, dimen=3, ordered=True))
    def origin_cap_per_period(m, i, mat, n):
        return (_sum(m.inflow[k] for k in node_keys[(i, mat, n)])
                <= share(m, i) * float(demand[(mat, period[n])]))

    _release(horizon_keys, node_keys)


def define_fill_rate_floors(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                            elastic: bool = False) -> None:
    """Fill-rate floor: sum_{n in path(w)} u_{m,n} <= (1 - beta_{m,w}) D_m (elastic: beta_{m,w} - v_{m,w})."""
    total = data.total_demand().to_dict()
    floors = data.fill_floors["min_fill_rate"].to_dict()
    index = pyo.Set(initialize=[(mat, w) for (mat, w), beta in floors.items() if beta > 0 and total[mat] > 0],
                    dimen=2, ordered=True)
    node_of = dict(zip(tree.scenarios, tree.node_of.tolist()))
    if elastic:
        model.fill_rate_relaxation = pyo.Var(index, bounds=lambda m, mat, w: (0.0, float(floors[(mat, w)])))
        for key in index:
            model.relaxations.append((FILL_FLOORS, model.fill_rate_relaxation[key], 100.0))

    @model.Constraint(index)
    def fill_rate_floor(m, mat, w):
        beta = float(floors[(mat, w)]) - (m.fill_rate_relaxation[mat, w] if elastic else 0)
        return _sum((1, m.unmet_demand[mat, n]) for n in node_of[w]) <= (1 - beta) * float(total[mat])


def define_supplier_caps(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, by_offer: dict,
                         elastic: bool = False) -> None:
    """Supplier cap: sum_{n in path(w)} sum_{o of supplier s, material m} inflow_{o,n} <= share D_m."""
    total = data.total_demand().to_dict()
    index, keys_of = [], {}
    for i, cap in enumerate(data.supplier_caps.itertuples()):
        for mat in covered_materials(data, cap.material):
            at = _inflows_of(by_offer, {cap.supplier}, mat)
            for w, keys in _path_keys(tree, at, ()).items():
                if keys:
                    index.append((i, mat, w))
                    keys_of[(i, mat, w)] = keys
    shares = data.supplier_caps["max_share"].tolist()
    if elastic:
        model.supplier_cap_relaxation = pyo.Var(range(len(shares)), domain=pyo.NonNegativeReals)
        for i in range(len(shares)):
            model.relaxations.append((SUPPLIER_CAPS, model.supplier_cap_relaxation[i], 100.0))

    @model.Constraint(pyo.Set(initialize=index, dimen=3, ordered=True))
    def supplier_cap(m, i, mat, w):
        share = float(shares[i]) + (m.supplier_cap_relaxation[i] if elastic else 0)
        return _sum(m.inflow[k] for k in keys_of[(i, mat, w)]) <= share * float(total[mat])

    _release(keys_of)


def define_budget(model: pyo.ConcreteModel, data: SourcingData, elastic: bool = False) -> None:
    """Budget: sum_w p_w cost_w <= budget."""
    budget = data.settings.budget
    if budget is None:
        return
    if elastic:
        model.budget_relaxation = pyo.Var(domain=pyo.NonNegativeReals)
        model.relaxations.append((BUDGET, model.budget_relaxation, 100 / max(abs(float(budget)), 1.0)))
    model.budget = pyo.Constraint(
        expr=model.expected_cost <= float(budget) + (model.budget_relaxation if elastic else 0))


def define_cvar(model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, elastic: bool = False) -> None:
    """CVaR_beta = eta + 1/(1-beta) sum_w p_w z_w, z_w >= cost_w - eta, z_w >= 0; CVaR <= cvar_max if set."""
    settings = data.settings
    if not settings.uses_cvar:
        return
    probability = dict(zip(tree.scenarios, tree.probability.tolist()))
    model.value_at_risk = pyo.Var(domain=pyo.Reals)
    model.cost_excess = pyo.Var(model.SCENARIOS, domain=pyo.NonNegativeReals)

    @model.Constraint(model.SCENARIOS)
    def cost_excess_definition(m, w):
        return m.cost_excess[w] >= m.scenario_cost[w] - m.value_at_risk

    model.cvar = pyo.Expression(expr=model.value_at_risk + 1 / (1 - settings.cvar_level) * sum(
        probability[w] * model.cost_excess[w] for w in model.SCENARIOS))
    if settings.cvar_max is not None:
        if elastic:
            model.cvar_relaxation = pyo.Var(domain=pyo.NonNegativeReals)
            model.relaxations.append((CVAR_CAP, model.cvar_relaxation, 100 / max(abs(float(settings.cvar_max)), 1.0)))
        model.cvar_cap = pyo.Constraint(
            expr=model.cvar <= float(settings.cvar_max) + (model.cvar_relaxation if elastic else 0))


def define_least_relaxation(model: pyo.ConcreteModel) -> None:
    """Elastic objective: minimise sum_rules weight * relaxation (percent of each rule's value)."""
    model.total_objective = pyo.Objective(
        expr=sum(weight * var for _, var, weight in model.relaxations), sense=pyo.minimize)


def define_objective(model: pyo.ConcreteModel, data: SourcingData) -> None:
    """Minimise sum_w p_w cost_w + lambda CVaR_beta(cost)."""
    weight = data.settings.cvar_weight
    risk = weight * model.cvar if weight > 0 else 0
    model.total_objective = pyo.Objective(expr=model.expected_cost + risk, sense=pyo.minimize)
