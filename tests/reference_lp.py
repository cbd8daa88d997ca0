"""An independent second formulation of the sourcing LP, for tests only.

This module re-states the LP of docs/model.md as a plain matrix LP in the
*extensive scenario form*: every recourse variable (spot purchase / stockpile
draw y, unmet demand u, end inventory I) carries its own copy per scenario,
and non-anticipativity is imposed by explicit equality constraints between
the copies of scenarios that cannot yet be told apart. The project's Pyomo
model instead indexes recourse by scenario-tree node; the two must reach the
same optimal objective, which is what the tests check.

It deliberately imports nothing of the project's modelling code
(optimizer.model.formulation, optimizer.model.tree, optimizer.solving.solver, optimizer.solving.results). It only
reads the fields of a validated `optimizer.inputs.data.SourcingData` and solves with
numpy, scipy.sparse and scipy.optimize.linprog(method="highs").

    from reference_lp import reference_objective
    assert reference_objective(data) == pytest.approx(result.objective)

`RawInputs(tables)` makes the same fields from the raw tables (sheet -> rows)
by the rules of docs/model.md, without the project's reader or validation, so
that a bug in reading or assembling the data is not shared by both sides:
`raw_objective(tables)` solves from them, and `at_point(tables, ...)` checks a
reported solution (plan, draws, shortages, stocks) against the LP and gives
the fill rates and shares this module reads off that point.

`reference_objective(data)` returns the optimal objective (expected cost +
cvar_weight * CVaR), or None when linprog proves the LP infeasible.
`reference_solution(data)` returns the same number plus the first-stage plan
and the per-scenario costs.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

#: Two scenarios "agree" on an availability or price multiplier within this tolerance.
AGREE_TOL = 1e-9


# --------------------------------------------------------------------------- small helpers

def _blank(value) -> bool:
    """A filter cell that means "any" (None, or NaN if pandas slipped one in)."""
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _country(suppliers, supplier, stage):
    """The supplier's country at a stage, or None when the stage does not apply."""
    value = suppliers.at[supplier, stage]
    return None if _blank(value) else value


def _passes_through(suppliers, stages, supplier, country, stage) -> bool:
    """True when the supplier's chain touches `country` at `stage` (any stage when stage is blank)."""
    looked_at = stages if _blank(stage) else [stage]
    return any(_country(suppliers, supplier, s) == country for s in looked_at)


def _one_country(value) -> bool:
    """A country value that names one country: not blank, and not a pseudo-country such as
    'Various (ex-China)', 'unknown', 'mixed', 'other', or a pair such as 'China/Malaysia'."""
    if _blank(value) or not str(value).strip():
        return False
    text = str(value).lower()
    if any(word in text for word in ("various", "unknown", "mixed", "other")):
        return False
    return not any(mark in text for mark in "()/")


def _cap_countries(data):
    """(cap row, country) for every origin cap: its own country, or for country '*' each single country
    that some supplier names at the cap's stage (any stage when blank), one cap per country."""
    out = []
    for c in data.origin_caps.itertuples(index=False):
        if c.country != "*":
            out.append((c, c.country))
            continue
        looked_at = data.stages if _blank(c.stage) else [c.stage]
        named = set()
        for supplier in data.suppliers.index:
            for stage in looked_at:
                value = _country(data.suppliers, supplier, stage)
                if _one_country(value):
                    named.add(value)
        out += [(c, country) for country in sorted(named)]
    return out


class _Rows:
    """Collects sparse constraint rows as COO triplets plus right-hand sides."""

    def __init__(self):
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs: list[float] = []

    def add(self, coefs: dict[int, float], rhs: float) -> None:
        """Append one row sum_j coefs[j] * v_j (<= or ==) rhs; zero coefficients are dropped."""
        i = len(self.rhs)
        for j, v in coefs.items():
            if v != 0.0:
                self.rows.append(i)
                self.cols.append(j)
                self.vals.append(float(v))
        self.rhs.append(float(rhs))

    def matrix(self, n_vars: int):
        """(A, b) with A as CSR, or (None, None) when there is no row (linprog's convention)."""
        if not self.rhs:
            return None, None
        a = sp.coo_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.rhs), n_vars)).tocsr()
        return a, np.asarray(self.rhs, dtype=float)


# --------------------------------------------------------------------------- scenario data

def _scenario_factors(data, offer_keys, period_pos):
    """Availability a[k, w] and price multiplier g[k, w] for every offer row k and scenario w.

    A disruption row applies to an offer (supplier, material, period) when every non-blank
    filter matches: supplier, material; country with stage = the supplier's country at that
    stage; country without stage = its country at any stage; stage without country = the
    supplier has a country at that stage; start <= period <= end. Factors of all matching
    rows multiply (default 1).
    """
    scenarios = list(data.scenarios.index)
    w_pos = {w: i for i, w in enumerate(scenarios)}
    a = np.ones((len(offer_keys), len(scenarios)))
    g = np.ones((len(offer_keys), len(scenarios)))
    suppliers, stages = data.suppliers, data.stages
    for d in data.disruptions.itertuples(index=False):
        w = w_pos[d.scenario]
        lo = period_pos[d.start] if not _blank(d.start) else 0
        hi = period_pos[d.end] if not _blank(d.end) else len(period_pos) - 1
        for k, (s, m, t) in enumerate(offer_keys):
            if not _blank(d.supplier) and d.supplier != s:
                continue
            if not _blank(d.material) and d.material != m:
                continue
            if not lo <= period_pos[t] <= hi:
                continue
            if not _blank(d.country):
                if not _passes_through(suppliers, stages, s, d.country, d.stage):
                    continue
            elif not _blank(d.stage):
                if _country(suppliers, s, d.stage) is None:
                    continue
            a[k, w] *= float(d.availability)
            g[k, w] *= float(d.price_multiplier)
    return a, g


def _nonanticipative_groups(a, g, offer_period, n_periods):
    """For each period index t, a list mapping scenario w -> the first scenario of its group.

    Scenarios w and w' share a group through t when every offer row in periods 0..t has the
    same availability and price multiplier in both (within AGREE_TOL).
    """
    n_w = a.shape[1]
    leaders = []
    for t in range(n_periods):
        seen = np.asarray(offer_period) <= t if len(offer_period) else np.zeros(0, dtype=bool)
        a_t, g_t = a[seen], g[seen]
        leader = list(range(n_w))
        for w in range(n_w):
            for v in range(w):
                if leader[v] != v:
                    continue  # compare only with group leaders
                if (np.all(np.abs(a_t[:, w] - a_t[:, v]) <= AGREE_TOL)
                        and np.all(np.abs(g_t[:, w] - g_t[:, v]) <= AGREE_TOL)):
                    leader[w] = v
                    break
        leaders.append(leader)
    return leaders


# --------------------------------------------------------------------------- the LP

def _build(data):
    """Assemble c, A_ub, b_ub, A_eq, b_eq, bounds and an index of the variables."""
    periods = list(data.periods)
    period_pos = {p: i for i, p in enumerate(periods)}
    n_t = len(periods)
    materials = list(data.materials.index)
    scenarios = list(data.scenarios.index)
    n_w = len(scenarios)
    prob = data.scenarios["probability"].astype(float).to_numpy()
    settings = data.settings

    demand = {(m, t): float(q) for (m, t), q in data.demand["quantity"].items()}
    total_demand = {m: sum(demand.get((m, t), 0.0) for t in periods) for m in materials}

    offers = data.offers
    offer_keys = [tuple(k) for k in offers.index]
    kinds = [str(k) for k in offers["kind"]]
    price = offers["price"].astype(float).to_numpy()
    cap = offers["capacity"].astype(float).to_numpy()
    low = offers["min_quantity"].astype(float).fillna(0.0).to_numpy()
    offer_period = [period_pos[t] for (_, _, t) in offer_keys]
    a, g = _scenario_factors(data, offer_keys, period_pos)

    # ---- variable layout ------------------------------------------------------------
    n_vars = 0
    bounds: list[tuple[float | None, float | None]] = []

    def new_var(lb, ub):
        nonlocal n_vars
        bounds.append((lb, None if ub is None or math.isinf(ub) else ub))
        n_vars += 1
        return n_vars - 1

    # First stage: contract quantity x[k] per contract offer row, l <= x <= q.
    x = {}
    for k, kind in enumerate(kinds):
        if kind == "contract":
            x[k] = new_var(low[k], cap[k])
    # First stage: reservation r[(supplier, material)], 0 <= r <= R.
    r = {}
    fee = {}
    for (s, m), row in data.stockpiles.iterrows():
        r[(s, m)] = new_var(0.0, float(row["reserve_limit"]))
        fee[(s, m)] = float(row["reservation_fee"]) if not _blank(row["reservation_fee"]) else 0.0
    for k, kind in enumerate(kinds):
        if kind == "stockpile" and offer_keys[k][:2] not in r:
            raise ValueError(f"stockpile offer {offer_keys[k]} has no reserve_limit row")
    # Recourse per scenario: y[k, w] for spot/stockpile rows, 0 <= y <= a q (no bound when q is inf).
    y = {}
    y_rows = [k for k, kind in enumerate(kinds) if kind in ("spot", "stockpile")]
    for k, kind in enumerate(kinds):
        if kind in ("spot", "stockpile"):
            for w in range(n_w):
                ub = 0.0 if a[k, w] == 0.0 else a[k, w] * cap[k]
                y[k, w] = new_var(0.0, ub)
    # Recourse per scenario: unmet demand u and end inventory I, both >= 0.
    u, inv = {}, {}
    for m in materials:
        for ti in range(n_t):
            for w in range(n_w):
                u[m, ti, w] = new_var(0.0, None)
                inv[m, ti, w] = new_var(0.0, None)
    uses_cvar = settings.cvar_weight > 0 or settings.cvar_max is not None
    eta = z = None
    if uses_cvar:
        eta = new_var(None, None)
        z = [new_var(0.0, None) for _ in range(n_w)]

    # ---- scenario costs (linear expressions) ----------------------------------------
    cost = [defaultdict(float) for _ in range(n_w)]
    for w in range(n_w):
        for k, j in x.items():  # contracts are paid for what is delivered
            cost[w][j] += price[k] * g[k, w] * a[k, w]
        for key, j in r.items():  # fees paid in every scenario
            cost[w][j] += fee[key]
        for k in y_rows:
            cost[w][y[k, w]] += price[k] * g[k, w]
        for m in materials:
            h = float(data.materials.at[m, "holding_cost"])
            pen = float(data.materials.at[m, "shortage_penalty"])
            for ti in range(n_t):
                cost[w][inv[m, ti, w]] += h
                cost[w][u[m, ti, w]] += pen

    def inflow(k, w):
        """Inflow of offer row k in scenario w as {var: coef}: a x for contracts, y otherwise."""
        if kinds[k] == "contract":
            return {x[k]: a[k, w]}
        if (k, w) in y:
            return {y[k, w]: 1.0}
        return {}

    ub_rows, eq_rows = _Rows(), _Rows()

    # ---- balance: I[t-1] + inflows + u - I[t] = D[t], I[-1] = I0 --------------------
    offers_of = defaultdict(list)  # (material, period index) -> offer rows
    for k, (s, m, t) in enumerate(offer_keys):
        offers_of[m, period_pos[t]].append(k)
    for m in materials:
        i0 = float(data.materials.at[m, "initial_inventory"])
        for w in range(n_w):
            for ti, t in enumerate(periods):
                row = defaultdict(float)
                for k in offers_of[m, ti]:
                    for j, v in inflow(k, w).items():
                        row[j] += v
                row[u[m, ti, w]] += 1.0
                row[inv[m, ti, w]] -= 1.0
                rhs = demand.get((m, t), 0.0)
                if ti == 0:
                    rhs -= i0
                else:
                    row[inv[m, ti - 1, w]] += 1.0
                eq_rows.add(row, rhs)

    # ---- stockpile draws within the reservation: sum_t y[k, w] <= r ------------------
    for key, jr in r.items():
        rows_k = [k for k, ok in enumerate(offer_keys) if kinds[k] == "stockpile" and ok[:2] == key]
        for w in range(n_w):
            row = defaultdict(float)
            for k in rows_k:
                row[y[k, w]] += 1.0
            row[jr] -= 1.0
            ub_rows.add(row, 0.0)

    # ---- origin caps ------------------------------------------------------------------
    for c, country in _cap_countries(data):
        share = float(c.max_share)
        covered = materials if _blank(c.material) else [c.material]
        passing = [k for k, (s, _, _) in enumerate(offer_keys)
                   if _passes_through(data.suppliers, data.stages, s, country, c.stage)]
        for m in covered:
            mine = [k for k in passing if offer_keys[k][1] == m]
            for w in range(n_w):
                if bool(c.per_period):
                    for ti, t in enumerate(periods):
                        row = defaultdict(float)
                        for k in mine:
                            if offer_period[k] == ti:
                                for j, v in inflow(k, w).items():
                                    row[j] += v
                        ub_rows.add(row, share * demand.get((m, t), 0.0))
                else:
                    row = defaultdict(float)
                    for k in mine:
                        for j, v in inflow(k, w).items():
                            row[j] += v
                    ub_rows.add(row, share * total_demand[m])

    # ---- fill-rate floors: sum_t u <= (1 - beta) sum_t D -------------------------------
    floors = data.fill_floors["min_fill_rate"].items() if len(data.fill_floors) else []
    for (m, scen), beta in floors:
        if _blank(beta) or float(beta) <= 0 or total_demand.get(m, 0.0) <= 0:
            continue
        w = scenarios.index(scen)
        ub_rows.add({u[m, ti, w]: 1.0 for ti in range(n_t)}, (1.0 - float(beta)) * total_demand[m])

    # ---- supplier caps: sum_t inflow of the supplier's offers of m <= share * sum_t D ----
    for c in data.supplier_caps.itertuples(index=False):
        covered = materials if _blank(c.material) else [c.material]
        for m in covered:
            mine = [k for k, (s, mm, _) in enumerate(offer_keys) if s == c.supplier and mm == m]
            for w in range(n_w):
                row = defaultdict(float)
                for k in mine:
                    for j, v in inflow(k, w).items():
                        row[j] += v
                ub_rows.add(row, float(c.max_share) * total_demand[m])

    # ---- expected cost, budget, CVaR, objective -----------------------------------------
    expected = defaultdict(float)
    for w in range(n_w):
        for j, v in cost[w].items():
            expected[j] += prob[w] * v
    if settings.budget is not None:
        ub_rows.add(expected, float(settings.budget))

    objective = np.zeros(n_vars)
    for j, v in expected.items():
        objective[j] += v
    if uses_cvar:
        beta = float(settings.cvar_level)
        cvar = {eta: 1.0}
        for w in range(n_w):
            cvar[z[w]] = prob[w] / (1.0 - beta)
            row = dict(cost[w])  # cost_w - eta - z_w <= 0
            row[eta] = row.get(eta, 0.0) - 1.0
            row[z[w]] = row.get(z[w], 0.0) - 1.0
            ub_rows.add(row, 0.0)
        for j, v in cvar.items():
            objective[j] += float(settings.cvar_weight) * v
        if settings.cvar_max is not None:
            ub_rows.add(cvar, float(settings.cvar_max))

    # ---- non-anticipativity: copies of scenarios alike through t are equal ------------
    leaders = _nonanticipative_groups(a, g, offer_period, n_t)
    rows_in_period = [[k for k in range(len(offer_keys)) if offer_period[k] == ti] for ti in range(n_t)]
    for ti in range(n_t):
        for w, lead in enumerate(leaders[ti]):
            if lead == w:
                continue
            for k in rows_in_period[ti]:
                if (k, w) in y:
                    eq_rows.add({y[k, w]: 1.0, y[k, lead]: -1.0}, 0.0)
            for m in materials:
                eq_rows.add({u[m, ti, w]: 1.0, u[m, ti, lead]: -1.0}, 0.0)
                eq_rows.add({inv[m, ti, w]: 1.0, inv[m, ti, lead]: -1.0}, 0.0)

    a_ub, b_ub = ub_rows.matrix(n_vars)
    a_eq, b_eq = eq_rows.matrix(n_vars)
    index = {"x": x, "r": r, "y": y, "u": u, "I": inv, "eta": eta, "z": z, "cost": cost,
             "offer_keys": offer_keys, "scenarios": scenarios, "periods": periods, "prob": prob,
             "uses_cvar": uses_cvar, "a": a, "kinds": kinds, "offer_period": offer_period,
             "total_demand": total_demand, "demand": demand}
    return objective, a_ub, b_ub, a_eq, b_eq, bounds, index


def _solve(data):
    c, a_ub, b_ub, a_eq, b_eq, bounds, index = _build(data)
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status == 2:
        return None, index
    if res.status != 0:
        raise RuntimeError(f"linprog did not prove an optimum (status {res.status}): {res.message}")
    return res, index


# --------------------------------------------------------------------------- public API

def reference_objective(data) -> float | None:
    """Optimal objective (expected cost + cvar_weight * CVaR), or None if the LP is infeasible."""
    res, _ = _solve(data)
    return None if res is None else float(res.fun)


def reference_solution(data) -> dict | None:
    """The optimum with its first-stage plan and per-scenario costs, or None if infeasible.

    Keys: objective; expected_cost; cvar (None when CVaR is not in the model);
    contracts {(supplier, material, period): x}; reservations {(supplier, material): r};
    scenario_cost {scenario: cost_w}.
    """
    res, ix = _solve(data)
    if res is None:
        return None
    v = res.x
    keys = ix["offer_keys"]
    scenario_cost = {
        w: float(sum(coef * v[j] for j, coef in ix["cost"][i].items()))
        for i, w in enumerate(ix["scenarios"])
    }
    expected = float(sum(p * scenario_cost[w] for p, w in zip(ix["prob"], ix["scenarios"])))
    cvar = None
    if ix["uses_cvar"]:
        beta = float(data.settings.cvar_level)
        cvar = float(v[ix["eta"]] + sum(p * v[j] for p, j in zip(ix["prob"], ix["z"])) / (1.0 - beta))
    return {
        "objective": float(res.fun),
        "expected_cost": expected,
        "cvar": cvar,
        "contracts": {keys[k]: float(v[j]) for k, j in ix["x"].items()},
        "reservations": {key: float(v[j]) for key, j in ix["r"].items()},
        "scenario_cost": scenario_cost,
    }


# --------------------------------------------------------------------------- the raw tables, read here

class RawInputs:
    """The fields `_build` reads, made here from the raw tables (sheet -> list of row dicts, or a
    DataFrame as pandas reads a CSV), by docs/model.md's rules and without the project's reader or
    validation: so that a bug in the project's assembly of the data is not shared by both sides.
    Only well-formed tables are meant (the tests draw valid instances)."""

    def __init__(self, tables: dict):
        import pandas as pd

        def rows(sheet):
            table = tables.get(sheet)
            if table is None:
                return []
            records = table.to_dict("records") if isinstance(table, pd.DataFrame) else list(table)
            return [{k: (None if _blank(v) else v) for k, v in r.items()} for r in records]

        def number(value, default):
            return default if value is None else float(value)

        self.periods = [str(r["period"]) for r in rows("periods")]
        materials = rows("materials")
        self.materials = pd.DataFrame(
            {"shortage_penalty": [float(r["shortage_penalty"]) for r in materials],
             "holding_cost": [number(r.get("holding_cost"), 0.0) for r in materials],
             "initial_inventory": [number(r.get("initial_inventory"), 0.0) for r in materials]},
            index=pd.Index([r["material"] for r in materials], name="material"))
        quantity = {(m, t): 0.0 for m in self.materials.index for t in self.periods}
        for r in rows("demand"):
            quantity[(r["material"], str(r["period"]))] = float(r["quantity"])
        self.demand = pd.DataFrame({"quantity": list(quantity.values())},
                                   index=pd.MultiIndex.from_tuples(list(quantity), names=["material", "period"]))
        suppliers = rows("suppliers")
        self.stages = sorted({k[:-len("_country")] for r in suppliers for k in r if k.endswith("_country")})
        self.suppliers = pd.DataFrame(
            {"kind": [r["kind"] for r in suppliers],
             **{s: [r.get(f"{s}_country") for r in suppliers] for s in self.stages}},
            index=pd.Index([r["supplier"] for r in suppliers], name="supplier"), dtype=object)
        kind = self.suppliers["kind"].to_dict()
        offers = rows("offers")
        dated = {(o["supplier"], o["material"], str(o["period"])): o for o in offers if o.get("period") is not None}
        table = {}
        for o in offers:
            if o.get("period") is not None:
                continue
            for t in self.periods:  # the blank-period row, where no row of that period replaces it
                table[(o["supplier"], o["material"], t)] = dated.get((o["supplier"], o["material"], t), o)
        for key, o in dated.items():  # a period row without a blank row: that period only
            table.setdefault(key, o)
        order = {t: i for i, t in enumerate(self.periods)}
        keys = sorted(table, key=lambda k: (k[0], k[1], order[k[2]]))
        self.offers = pd.DataFrame(
            {"kind": [kind[k[0]] for k in keys],
             "price": [float(table[k]["price"]) for k in keys],
             "capacity": [number(table[k].get("capacity"), math.inf) for k in keys],
             "min_quantity": [number(table[k].get("min_quantity"), 0.0) if kind[k[0]] == "contract" else 0.0
                              for k in keys]},
            index=pd.MultiIndex.from_tuples(keys, names=["supplier", "material", "period"]))
        stock = [o for o in offers if o.get("period") is None and kind[o["supplier"]] == "stockpile"]
        self.stockpiles = pd.DataFrame(
            {"reserve_limit": [float(o["reserve_limit"]) for o in stock],
             "reservation_fee": [number(o.get("reservation_fee"), 0.0) for o in stock]},
            index=_pairs([(o["supplier"], o["material"]) for o in stock], ["supplier", "material"]))
        scenarios = rows("scenarios") or [{"scenario": "base", "probability": 1.0}]
        self.scenarios = pd.DataFrame({"probability": [float(r["probability"]) for r in scenarios]},
                                      index=pd.Index([r["scenario"] for r in scenarios], name="scenario"))
        columns = ["scenario", "supplier", "material", "country", "stage", "start", "end"]
        self.disruptions = pd.DataFrame(
            [{**{c: r.get(c) for c in columns}, "availability": number(r.get("availability"), 1.0),
              "price_multiplier": number(r.get("price_multiplier"), 1.0)} for r in rows("disruptions")],
            columns=columns + ["availability", "price_multiplier"], dtype=object)
        self.origin_caps = pd.DataFrame(
            [{"country": r["country"], "stage": r.get("stage"), "material": r.get("material"),
              "max_share": float(r["max_share"]), "per_period": _true(r.get("per_period"))}
             for r in rows("origin_caps")],
            columns=["country", "stage", "material", "max_share", "per_period"], dtype=object)
        given = {(r.get("material"), r.get("scenario")): float(r["min_fill_rate"]) for r in rows("service_levels")}
        floors = {}
        for m in self.materials.index:  # the most specific row: material and scenario, material, scenario, none
            for w in self.scenarios.index:
                for key in ((m, w), (m, None), (None, w), (None, None)):
                    if key in given:
                        floors[(m, w)] = given[key]
                        break
        self.fill_floors = pd.DataFrame({"min_fill_rate": list(floors.values())},
                                        index=_pairs(list(floors), ["material", "scenario"]))
        self.supplier_caps = pd.DataFrame(
            [{"supplier": r["supplier"], "material": r.get("material"), "max_share": float(r["max_share"])}
             for r in rows("supplier_caps")], columns=["supplier", "material", "max_share"], dtype=object)
        values = {r["key"]: r["value"] for r in rows("settings")}

        class Settings:
            cvar_weight = number(values.get("cvar_weight"), 0.0)
            cvar_level = number(values.get("cvar_level"), 0.95)
            cvar_max = None if values.get("cvar_max") is None else float(values["cvar_max"])
            budget = None if values.get("budget") is None else float(values["budget"])

        self.settings = Settings


def _pairs(keys: list, names: list):
    """A two-level index of `keys`, empty when there are none."""
    import pandas as pd

    if not keys:
        return pd.MultiIndex.from_arrays([[], []], names=names)
    return pd.MultiIndex.from_tuples(keys, names=names)


def _true(value) -> bool:
    """A per_period cell: blank is false; true/yes/1 are true."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y")
    return bool(value)


def raw_objective(tables: dict) -> float | None:
    """The optimal objective of the LP made from the raw tables (RawInputs), None if infeasible."""
    return reference_objective(RawInputs(tables))


def at_point(tables: dict, contracts: dict, reservations: dict, draws: dict, unmet: dict, stock: dict,
             tolerance: float = 1e-6) -> dict | None:
    """The LP of the raw tables with every decision but eta and z fixed to a reported point (within
    `tolerance` x (1 + |value|)): contracts {(s, m, t): x}, reservations {(s, m): r}, draws {(s, m, t, w): y}
    (spot purchases and stockpile draws), unmet {(m, t, w): u}, stock {(m, t, w): end inventory}.

    None when that point breaks a row of the LP; else its objective and, evaluated at the point by this
    module's own reading of the rules, each material's fill rate {(w, m): rate} and each cap's share
    {(country, stage or 'any', material, w, period or None): share}.
    """
    data = RawInputs(tables)
    c, a_ub, b_ub, a_eq, b_eq, bounds, ix = _build(data)
    keys, scenarios, periods = ix["offer_keys"], ix["scenarios"], ix["periods"]

    def pin(j, value):
        slack = tolerance * (1 + abs(value))
        lb, ub = bounds[j]
        low = value - slack if lb is None else max(lb, value - slack)
        high = value + slack if ub is None else min(ub, value + slack)
        bounds[j] = (low, max(low, high))

    for k, j in ix["x"].items():
        pin(j, contracts.get(keys[k], 0.0))
    for key, j in ix["r"].items():
        pin(j, reservations.get(key, 0.0))
    for (k, w), j in ix["y"].items():
        s, m, t = keys[k]
        pin(j, draws.get((s, m, t, scenarios[w]), 0.0))
    for (m, ti, w), j in ix["u"].items():
        pin(j, unmet.get((m, periods[ti], scenarios[w]), 0.0))
    for (m, ti, w), j in ix["I"].items():
        pin(j, stock.get((m, periods[ti], scenarios[w]), 0.0))
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        return None
    v = res.x
    total = ix["total_demand"]
    fill = {(w, m): 1.0 - sum(v[ix["u"][m, ti, i]] for ti in range(len(periods))) / total[m]
            for i, w in enumerate(scenarios) for m in data.materials.index if total[m] > 0}

    def inflow(k, w):
        if ix["kinds"][k] == "contract":
            return ix["a"][k, w] * v[ix["x"][k]]
        return v[ix["y"][k, w]] if (k, w) in ix["y"] else 0.0

    shares = {}
    for cap, country in _cap_countries(data):
        covered = list(data.materials.index) if _blank(cap.material) else [cap.material]
        stage = "any" if _blank(cap.stage) else cap.stage
        for m in covered:
            mine = [k for k, (s, mm, _) in enumerate(keys)
                    if mm == m and _passes_through(data.suppliers, data.stages, s, country, cap.stage)]
            for i, w in enumerate(scenarios):
                if bool(cap.per_period):
                    for ti, t in enumerate(periods):
                        through = sum(inflow(k, i) for k in mine if ix["offer_period"][k] == ti)
                        need = ix["demand"].get((m, t), 0.0)
                        shares[(country, stage, m, w, t)] = through / need if need > 0 else 0.0
                else:
                    through = sum(inflow(k, i) for k in mine)
                    shares[(country, stage, m, w, None)] = through / total[m] if total[m] > 0 else 0.0
    return {"objective": float(res.fun), "fill_rates": fill, "shares": shares}
