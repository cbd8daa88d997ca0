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

from ..inputs.data import SourcingData
from ..solving.results import cvar_of, decision_value
from ..model import build
from ..solving.solver import OPTIMAL, make_solver, run_solver
from ..model.tree import offer_factors


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
    if ev.status == OPTIMAL:
        eev_built = build(data)
        model = eev_built.model
        for key, var in ev_built.model.contract_quantity.items():
            model.contract_quantity[key].fix(decision_value(var))
        for key, var in ev_built.model.reserved_quantity.items():
            model.reserved_quantity[key].fix(decision_value(var))
        eev = run_solver(model, make_solver(data.settings.time_limit))
        eev_status, eev_value = eev.status, eev.objective

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
    rows.append(row("VSS = EEV - RP", eev_value - rp.objective if vss_ok else None,
                    OPTIMAL if vss_ok else (eev_status if eev_status != OPTIMAL else rp.status),
                    "what planning for the scenarios saves over planning for the average"
                    if vss_ok or eev_status == "not solved" else
                    "the average-scenario plan cannot meet the rules in every scenario: planning for the "
                    "scenarios is worth more than any finite amount"))
    evpi_ok = rp.status == OPTIMAL and ws_value is not None
    rows.append(row("EVPI = RP - WS", rp.objective - ws_value if evpi_ok else None,
                    OPTIMAL if evpi_ok else "not solved",
                    "the most that perfect intelligence about the disruptions would be worth"))
    return pd.DataFrame(rows)
