"""Every rule's shadow price, and every balance's dual, against a finite difference: re-solve with the bound moved.

Each instance is small and its optimal basis does not change for a small move of the bound, so the
one-sided differences on both sides agree with each other and with the price worked out by hand. The
bound is moved in the raw input table (the rows a user would type), not in the model, and the test
accepts a reported price between the two one-sided differences (the derivative of a convex piecewise
linear optimum), then pins it to the hand-worked value, so that a flipped sign or a missing percent
conversion cannot pass.

Units: a cap on a share is priced per percentage point (the bound moves by h, the price by 100 h); the
budget, the CVaR cap and a capacity per unit of their own; a fill-rate floor is priced as what raising it
one point costs (a tightening), every other rule as what loosening it saves.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass
from typing import Callable

import pytest

import optimizer as so
from conftest import make, supplier
from test_decomposition import hedge
from test_rules import CHEAP_CHINA_DEAR_WEST, TWO_PERIODS as RULES_TWO_PERIODS

#: test_rules' two periods of 100, with a holding cost of 1 so that no period buys ahead
TWO_PERIODS = dict(RULES_TWO_PERIODS, materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 1}])
THREE_COUNTRIES = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia"),
               supplier("Trader", "contract", "Various (ex-China)")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 20},
            {"supplier": "Trader", "material": "Dy", "price": 25}],
)


@dataclass(frozen=True)
class Case:
    frames: dict
    rule: str                                  # the shadow-price table's `rule`
    sheet: str                                 # the raw table whose row holds the bound
    row: int                                   # that row's position in the sheet
    column: str
    step: float                                # how far the bound moves (in the column's own units)
    per: float                                 # how many steps one unit of the price is (100 for a share)
    tightens_upward: bool                      # raising the bound tightens the rule (a floor)
    expected: float                            # the price worked out by hand
    why: str


def _with_settings(frames: dict, **settings) -> dict:
    return {**frames, "settings": [{"key": k, "value": v} for k, v in settings.items()]}


CASES = {
    # Over the horizon, 35% of 200: China 70 at 10, Lynas 130 at 30; one more point (2 units) saves 2 x 20.
    "origin cap": Case(make(**TWO_PERIODS, **CHEAP_CHINA_DEAR_WEST,
                            origin_caps=[{"country": "China", "max_share": 0.35}]),
                       "origin cap", "origin_caps", 0, "max_share", 1e-4, 100, False, 40.0,
                       "two units moved from Lynas (30) to China (10)"),
    # Per period, 40% of 100 in each period: one more point is one more China unit in each period (holding
    # costs 1, so no period buys ahead), 20 saved in each: 40 for the cap, summed over its periods.
    "per-period origin cap": Case(make(**TWO_PERIODS, **CHEAP_CHINA_DEAR_WEST,
                                       origin_caps=[{"country": "China", "max_share": 0.4, "per_period": True}]),
                                  "origin cap", "origin_caps", 0, "max_share", 1e-4, 100, False, 40.0,
                                  "one unit a period moved from Lynas to China"),
    # Each country at most 40% of 100: China 40 at 10, Malaysia 40 at 20, the trader (no single country) 20
    # at 25. Moving the '*' row moves every country's cap: China saves 15 a point and Malaysia 5, 20 in all.
    "single-country cap": Case(make(**THREE_COUNTRIES,
                                    origin_caps=[{"country": "*", "stage": "refining", "max_share": 0.4}]),
                               "single-country cap", "origin_caps", 0, "max_share", 1e-4, 100, False, 20.0,
                               "China's unit saves 25 - 10, Malaysia's 25 - 20"),
    # China refiners at most 30% of 100: one more point is one unit from Lynas (30) to China (10): 20.
    "supplier cap": Case(make(**CHEAP_CHINA_DEAR_WEST, supplier_caps=[{"supplier": "China refiners",
                                                                       "max_share": 0.3}]),
                         "supplier cap", "supplier_caps", 0, "max_share", 1e-4, 100, False, 20.0,
                         "one unit moved from Lynas (30) to China (10)"),
    # Penalty 5 below the price 10, floor 90%: one more point buys one more unit at 10 instead of a shortage
    # at 5: 5 added.
    "fill-rate floor": Case(make(materials=[{"material": "Dy", "shortage_penalty": 5}],
                                 suppliers=[supplier("Lynas", "contract", "Malaysia")],
                                 offers=[{"supplier": "Lynas", "material": "Dy", "price": 10}],
                                 service_levels=[{"min_fill_rate": 0.9}]),
                            "fill-rate floor", "service_levels", 0, "min_fill_rate", 1e-4, 100, True, 5.0,
                            "one unit bought at 10 instead of a shortage at 5"),
    # test_decomposition's hedge with a budget of 19.55 on the expected cost: x_A = budget - 19.5, the
    # objective 39.5 - 3 x_A falls by 3 per unit of budget.
    "budget": Case(hedge(budget=19.55), "budget", "settings", 2, "value", 1e-3, 1, False, 3.0,
                   "x_A grows one for one with the budget, 3 saved per unit"),
    # The same instance, no risk weight and CVaR at most 21: x_B = (cap - 20) / 4, E falls by 1/8 per unit.
    "CVaR cap": Case(hedge(cvar_weight=0, cvar_max=21), "CVaR cap", "settings", 2, "value", 1e-3, 1, False,
                     0.125, "x_B = (cap - 20) / 4 and E = 19.5 - x_B / 2"),
    # China's capacity 60 at 10, Lynas 30: one more unit of capacity moves a unit to China, 20 saved.
    "contract capacity": Case(make(suppliers=CHEAP_CHINA_DEAR_WEST["suppliers"],
                                   offers=[{"supplier": "China refiners", "material": "Dy", "price": 10,
                                            "capacity": 60},
                                           {"supplier": "Lynas", "material": "Dy", "price": 30}]),
                              "contract capacity", "offers", 0, "capacity", 1e-2, 1, False, 20.0,
                              "one unit moved from Lynas (30) to China (10)"),
}


def _moved(case: Case, delta: float) -> dict:
    frames = copy.deepcopy(case.frames)
    row = frames[case.sheet][case.row]
    row[case.column] = float(row[case.column]) + delta
    return frames


def _objective(frames: dict) -> float:
    result = so.solve(so.from_frames(frames))
    assert result.status == "optimal"
    return result.objective


@pytest.mark.parametrize("interface", ["persistent", "standard form"])
@pytest.mark.parametrize("kind", list(CASES))
def test_the_shadow_price_is_the_derivative_of_the_optimum(kind, interface, monkeypatch):
    monkeypatch.setattr(importlib.import_module("optimizer.solving.solver"), "STANDARD_FORM_FROM",
                        0 if interface == "standard form" else 10**9)
    case = CASES[kind]
    if case.sheet == "settings":  # the row moved is the rule's own setting
        assert case.frames["settings"][case.row]["key"] == {"budget": "budget", "CVaR cap": "cvar_max"}[kind]
    result = so.solve(so.from_frames(case.frames))
    assert result.status == "optimal"
    prices = result.shadow_prices
    price = float(prices.loc[prices["rule"] == case.rule, "value"].sum())
    up, down = _objective(_moved(case, case.step)), _objective(_moved(case, -case.step))
    scale = case.step * case.per
    if case.tightens_upward:   # what one more point of the floor costs: between the slopes below and above
        low, high = (result.objective - down) / scale, (up - result.objective) / scale
    else:                      # what one more unit of the bound saves: between the savings above and below
        low, high = (result.objective - up) / scale, (down - result.objective) / scale
    assert low * (1 - 1e-6) - 1e-6 <= price <= high * (1 + 1e-6) + 1e-6, (kind, low, price, high)
    # the basis does not change here, so both differences and the price are the hand-worked value
    assert low == pytest.approx(case.expected, rel=1e-5), case.why
    assert high == pytest.approx(case.expected, rel=1e-5), case.why
    assert price == pytest.approx(case.expected, rel=1e-6), case.why


@pytest.mark.parametrize("interface", ["persistent", "standard form"])
def test_each_balance_row_prices_one_more_unit_of_demand_in_its_period(interface, monkeypatch):
    """The balances are not in the shadow-price table, but their duals are what every other price rests
    on. China sells 60 a period at 10, Lynas the rest at 30 in t1 and 20 in t2 (holding costs 1): one more
    unit of demand in t1 is bought from Lynas at 30, in t2 at 20 (t1's stock would cost 30 + 1). The dual
    of each period's balance, d objective / d demand, must be that and the finite difference of re-solves."""
    from optimizer.model import build
    from optimizer.solving.solver import solve_once

    monkeypatch.setattr(importlib.import_module("optimizer.solving.solver"), "STANDARD_FORM_FROM",
                        0 if interface == "standard form" else 10**9)
    frames = make(**TWO_PERIODS, suppliers=CHEAP_CHINA_DEAR_WEST["suppliers"],
                  offers=[{"supplier": "China refiners", "material": "Dy", "price": 10, "capacity": 60},
                          {"supplier": "Lynas", "material": "Dy", "price": 30},
                          {"supplier": "Lynas", "material": "Dy", "period": "t2", "price": 20}])
    built = build(so.from_frames(frames))
    run = solve_once(built.model)
    assert run.status == "optimal"
    node = {period: n for n, period in built.tree.nodes["period"].items()}
    h = 1e-2
    for row, (period, expected) in enumerate([("t1", 30.0), ("t2", 20.0)]):
        dual = run.duals[built.model.material_balance["Dy", node[period]]]
        more, less = copy.deepcopy(frames), copy.deepcopy(frames)
        more["demand"][row]["quantity"] += h
        less["demand"][row]["quantity"] -= h
        above = (_objective(more) - run.objective) / h
        below = (run.objective - _objective(less)) / h
        assert below * (1 - 1e-6) - 1e-6 <= dual <= above * (1 + 1e-6) + 1e-6, (period, below, dual, above)
        assert below == pytest.approx(expected, rel=1e-5) and above == pytest.approx(expected, rel=1e-5)
        assert dual == pytest.approx(expected, rel=1e-6)
