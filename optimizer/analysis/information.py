"""Value of the stochastic solution and of perfect information (Birge and Louveaux).

RP  the recourse problem: the stochastic model as given.
EV  the expected-value problem: one scenario whose availabilities and price multipliers
    are the probability-weighted means of the scenarios'.
EEV the EV plan's first-stage decisions (contracts, reservations) fixed, recourse
    re-optimised in the stochastic model.
WS  wait-and-see: each scenario solved alone with perfect foresight; WS is the objective
    of the distribution of those optimal costs.
VSS = EEV - RP, EVPI = RP - WS.

EV and WS leave out the budget and the CVaR cap, which are statements about the whole
distribution; a scenario-specific fill-rate floor applies in its own scenario (WS) and
the strictest floor of each material applies in EV.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

import pyomo.core as pyo

from ..inputs.data import SourcingData
from ..model import build
from ..model.rules import rule_named
from ..model.tree import offer_factors
from ..solving.explain import TOLERANCE, present_rules, summarise
from ..solving.results import collect_results, cvar_of, decision_value
from ..solving.solver import OPTIMAL, make_solver, run_solver


def _relaxed_settings(data: SourcingData):
    return replace(data.settings, budget=None, cvar_max=None)


def _single(data: SourcingData, name: str, floors: pd.Series) -> SourcingData:
    scenarios = pd.DataFrame({"probability": [1.0], "description": [name]}, index=pd.Index([name], name="scenario"))
    fill = pd.DataFrame({"material": floors.index, "scenario": name, "min_fill_rate": floors.to_numpy()})
    return replace(data, scenarios=scenarios, disruptions=data.disruptions.iloc[0:0],
                   fill_floors=fill.set_index(["material", "scenario"]), settings=_relaxed_settings(data))


def _objective(costs: np.ndarray, probabilities: np.ndarray, data: SourcingData) -> float:
    """The RP objective (expected cost + lambda CVaR) of a distribution of scenario costs."""
    value = float(np.dot(probabilities, costs))
    if data.settings.cvar_weight > 0:
        value += data.settings.cvar_weight * cvar_of(costs, probabilities, data.settings.cvar_level)
    return value


def value_of_information(data: SourcingData) -> pd.DataFrame:
    """RP, EV, EEV, WS, VSS and EVPI as a table (measure, value, status, meaning)."""
    currency = data.settings.currency
    availability, multiplier = offer_factors(data)
    probability = data.scenarios["probability"].to_numpy(dtype=float)
    floors = data.fill_floors["min_fill_rate"] if len(data.fill_floors) else pd.Series(dtype=float)

    rp_built = build(data)
    rp = run_solver(rp_built.model, make_solver(data.settings.time_limit))

    strictest = (floors.groupby(level="material").max() if len(floors) else pd.Series(dtype=float))
    ev_data = _single(data, "expected value", strictest.reindex(data.materials.index, fill_value=0.0))
    mean = (probability @ availability)[None, :], (probability @ multiplier)[None, :]
    ev_built = build(ev_data, factors=mean)
    ev = run_solver(ev_built.model, make_solver(data.settings.time_limit))

    eev_status, eev_value = "not solved", None
    relaxed_value, broken, breaches = None, [], []
    if ev.status == OPTIMAL:
        eev_built = build(data)
        _fix_first_stage(eev_built.model, ev_built.model)
        eev = run_solver(eev_built.model, make_solver(data.settings.time_limit))
        eev_status, eev_value = eev.status, eev.objective
        if eev.status != OPTIMAL:
            relaxed_value, broken, breaches = _relaxed_eev(data, ev_built.model)

    ws_costs, ws_status = [], OPTIMAL
    for w, scenario in enumerate(data.scenarios.index):
        own = (floors[floors.index.get_level_values("scenario") == scenario].droplevel("scenario")
               if len(floors) else pd.Series(dtype=float))
        single = _single(data, scenario, own.reindex(data.materials.index, fill_value=0.0))
        built = build(single, factors=(availability[w:w + 1], multiplier[w:w + 1]))
        run = run_solver(built.model, make_solver(data.settings.time_limit))
        if run.status != OPTIMAL:
            ws_status = f"{run.status} in '{scenario}'"
            break
        ws_costs.append(float(built.model.expected_cost()))
    ws_value = _objective(np.array(ws_costs), probability, data) if ws_status == OPTIMAL else None

    def row(measure, value, status, meaning):
        return {"measure": measure, "value": value, "status": status, "unit": currency, "meaning": meaning}

    rows = [
        row("RP", rp.objective, rp.status, "optimal objective of the stochastic plan"),
        row("EV", ev.objective, ev.status, "objective of the plan made for the average scenario, as it sees itself"),
        row("EEV", eev_value, eev_status,
            "the average-scenario plan's contracts and reservations, living through every scenario"),
        row("WS", ws_value, ws_status, "objective if the scenario were known before contracting"),
    ]
    vss_ok = rp.status == OPTIMAL and eev_status == OPTIMAL
    what = ("that put " + "; ".join(breaches)) if breaches else "that break the rules in some scenario"
    breaks = (f"planning for the average future signs contracts and reservations {what}: to live with them one "
              "would have to " + "; ".join(broken) + ". ") if broken else ""
    rows.append(row("VSS = EEV - RP", eev_value - rp.objective if vss_ok else None,
                    OPTIMAL if vss_ok else (eev_status if eev_status != OPTIMAL else rp.status),
                    "what planning for the scenarios saves over planning for the average"
                    if vss_ok or eev_status == "not solved" else
                    breaks[:1].upper() + breaks[1:] + "By Birge and Louveaux the VSS is then infinite: the "
                    "stochastic plan is the only one of the two that keeps the rules."))
    if relaxed_value is not None:
        rows.append(row("EEV, broken rules relaxed", relaxed_value, OPTIMAL,
                        "the average-scenario plan's objective in every scenario, with the rules it breaks "
                        "relaxed by the least amount (as above)"))
        rows.append(row("VSS, broken rules relaxed", relaxed_value - rp.objective if rp.status == OPTIMAL
                        else None, OPTIMAL if rp.status == OPTIMAL else rp.status,
                        "what the stochastic plan saves over the average-scenario plan when that plan is let "
                        "off the rules it breaks (it can be negative: breaking a rule can save money)"))
    evpi_ok = rp.status == OPTIMAL and ws_value is not None
    rows.append(row("EVPI = RP - WS", rp.objective - ws_value if evpi_ok else None,
                    OPTIMAL if evpi_ok else "not solved",
                    "the most that perfect intelligence about the disruptions would be worth"))
    return pd.DataFrame(rows)


def _fix_first_stage(model, source) -> None:
    """The contracts and reservations of `source` (a solved model) fixed in `model`."""
    for key, var in source.contract_quantity.items():
        model.contract_quantity[key].fix(decision_value(var))
    for key, var in source.reserved_quantity.items():
        model.reserved_quantity[key].fix(decision_value(var))


#: How many broken caps and floors the VSS sentence names (the rest are counted).
NAMED_BREACHES = 3


def _breaches(built, run) -> list[str]:
    """Where the EV plan, relaxed, breaks a cap or a floor, worst first: "China refining at 99.0% of NdFeB
    magnets in 'calm', above its 90.0% cap" (each cap and material's worst scenario, each floor's)."""
    result = collect_results(built, run)
    found = []
    shares = result.origin_shares
    over = shares[shares["share"] > shares["max_share"] + 1e-9]
    for _, group in over.groupby(["input_row", "country", "material"], sort=False):
        worst = group.loc[(group["share"] - group["max_share"]).idxmax()]
        when = f" in '{worst['scenario']}'" + (f" in {worst['period']}" if worst["period"] else "")
        found.append((float(worst["share"] - worst["max_share"]),
                      f"{worst['cap']} at {worst['share']:.1%} of {worst['material']}{when}, above its "
                      f"{worst['max_share']:.1%} cap"))
    fill = result.fill_rates
    short = fill[fill["fill_rate"] < fill["min_fill_rate"] - 1e-9]
    for r in short.itertuples(index=False):
        found.append((float(r.min_fill_rate - r.fill_rate),
                      f"{r.material} at a fill rate of {r.fill_rate:.1%} in '{r.scenario}', below its "
                      f"{r.min_fill_rate:.1%} floor"))
    found.sort(key=lambda item: -item[0])
    named = [text for _, text in found[:NAMED_BREACHES]]
    if len(found) > NAMED_BREACHES:
        named[-1] += f" (and {len(found) - NAMED_BREACHES} more)"
    return named


def _relaxed_eev(data: SourcingData, ev_model) -> tuple[float | None, list[str], list[str]]:
    """When the EV plan cannot keep the rules: what breaks (each rule's advice, relaxed by the least total
    amount, as `explain` words it), the EV plan's objective with exactly those relaxations allowed, and where
    that plan then breaks a cap or a floor (_breaches)."""
    rules = frozenset(present_rules(data))
    if not rules:
        return None, [], []
    built = build(data, elastic=rules)
    model = built.model
    _fix_first_stage(model, ev_model)
    least = run_solver(model, make_solver(data.settings.time_limit))
    if least.status != OPTIMAL:
        return None, ["relax the balances or capacities themselves (no relaxation of the rules is enough)"], []
    advice = []
    for relaxation in model.relaxations:
        amount = float(relaxation.variable.value or 0.0)
        if amount > TOLERANCE:
            advice.append(rule_named(relaxation.rule).advise(data, relaxation.instance, amount))
        relaxation.variable.setub(amount * (1 + 1e-9) + 1e-9)
    model.total_objective.deactivate()
    weight = data.settings.cvar_weight
    model.cost_objective = pyo.Objective(expr=model.expected_cost + (weight * model.cvar if weight > 0 else 0))
    relaxed = run_solver(model, make_solver(data.settings.time_limit))
    if relaxed.status != OPTIMAL:
        return None, summarise(advice), []
    return relaxed.objective, summarise(advice), _breaches(built, relaxed)
