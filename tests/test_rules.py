"""One test per rule of docs/model.md: make the rule bind, check it holds exactly."""

from __future__ import annotations

import pytest

import optimizer as so
from conftest import make, solve, supplier

TWO_PERIODS = dict(
    periods=[{"period": "t1"}, {"period": "t2"}],
    demand=[{"material": "Dy", "period": "t1", "quantity": 100},
            {"material": "Dy", "period": "t2", "quantity": 100}],
)
CHEAP_CHINA_DEAR_WEST = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30}],
)


def test_origin_cap_over_the_horizon_binds_exactly():
    result = solve(make(**TWO_PERIODS, **CHEAP_CHINA_DEAR_WEST,
                        origin_caps=[{"country": "China", "max_share": 0.35}]))
    shares = result.origin_shares
    assert shares["share"].tolist() == pytest.approx([0.35])
    assert shares["supplied_through"].tolist() == pytest.approx([70])
    # 70 units at 10 and 130 at 30; one more point (2 units) saves 2 * 20.
    assert result.headline["expected_cost"] == pytest.approx(700 + 130 * 30)
    cap = result.shadow_prices.query("rule == 'origin cap'")
    assert cap["value"].tolist() == pytest.approx([40.0])


def test_origin_cap_per_period_binds_in_each_period():
    """Per period, China may not carry t1's cheap stock into t2: 40 units in each period."""
    result = solve(make(**TWO_PERIODS, **CHEAP_CHINA_DEAR_WEST,
                        origin_caps=[{"country": "China", "max_share": 0.4, "per_period": True}]))
    shares = result.origin_shares
    assert shares["period"].tolist() == ["t1", "t2"]
    assert shares["supplied_through"].tolist() == pytest.approx([40, 40])
    assert shares["share"].tolist() == pytest.approx([0.4, 0.4])


def test_origin_cap_on_one_stage_leaves_other_stages_alone():
    """A refining cap of 0 on China does not touch ore mined in China and refined in Malaysia."""
    result = solve(make(
        suppliers=[supplier("China refiners", "contract", refining="China", mining="China"),
                   supplier("Toll refiner", "contract", refining="Malaysia", mining="China"),
                   supplier("Lynas", "contract", refining="Malaysia", mining="Australia")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                {"supplier": "Toll refiner", "material": "Dy", "price": 12},
                {"supplier": "Lynas", "material": "Dy", "price": 30}],
        origin_caps=[{"country": "China", "stage": "refining", "max_share": 0}],
    ))
    plan = result.plan.set_index("supplier")["quantity"]
    assert plan.to_dict() == pytest.approx({"China refiners": 0, "Toll refiner": 100, "Lynas": 0})


def test_origin_cap_on_any_stage_counts_mining_too():
    result = solve(make(
        suppliers=[supplier("Toll refiner", "contract", refining="Malaysia", mining="China"),
                   supplier("Lynas", "contract", refining="Malaysia", mining="Australia")],
        offers=[{"supplier": "Toll refiner", "material": "Dy", "price": 12},
                {"supplier": "Lynas", "material": "Dy", "price": 30}],
        origin_caps=[{"country": "China", "max_share": 0.25}],
    ))
    plan = result.plan.set_index("supplier")["quantity"]
    assert plan.to_dict() == pytest.approx({"Toll refiner": 25, "Lynas": 75})


def test_fill_rate_floor_binds_when_shortage_is_cheaper_than_buying():
    """Penalty 5 < price 10: without a floor nothing is bought; a 90% floor buys exactly 90."""
    result = solve(make(
        materials=[{"material": "Dy", "shortage_penalty": 5}],
        suppliers=[supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "Lynas", "material": "Dy", "price": 10}],
        service_levels=[{"min_fill_rate": 0.9}],
    ))
    assert result.fill_rates["fill_rate"].tolist() == pytest.approx([0.9])
    assert result.headline["expected_cost"] == pytest.approx(90 * 10 + 10 * 5)
    floor = result.shadow_prices.query("rule == 'fill-rate floor'")
    assert floor["value"].tolist() == pytest.approx([5.0])  # one more unit at 10 instead of a 5 shortage


def test_fill_rate_floor_most_specific_row_wins():
    result = solve(make(
        materials=[{"material": "Dy", "shortage_penalty": 5}, {"material": "Tb", "shortage_penalty": 5}],
        demand=[{"material": "Dy", "period": "t1", "quantity": 100},
                {"material": "Tb", "period": "t1", "quantity": 100}],
        suppliers=[supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "Lynas", "material": "Dy", "price": 10},
                {"supplier": "Lynas", "material": "Tb", "price": 10}],
        service_levels=[{"min_fill_rate": 0.5}, {"material": "Tb", "min_fill_rate": 0.8}],
    ))
    rates = result.fill_rates.set_index("material")["fill_rate"]
    assert rates.to_dict() == pytest.approx({"Dy": 0.5, "Tb": 0.8})


def test_supplier_cap_binds_exactly():
    result = solve(make(**CHEAP_CHINA_DEAR_WEST,
                        supplier_caps=[{"supplier": "China refiners", "max_share": 0.3}]))
    plan = result.plan.set_index("supplier")["quantity"]
    assert plan.to_dict() == pytest.approx({"China refiners": 30, "Lynas": 70})


def test_contract_capacity_binds_and_prices_one_more_unit():
    result = solve(make(
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10, "capacity": 60},
                {"supplier": "Lynas", "material": "Dy", "price": 30}],
    ))
    plan = result.plan.set_index("supplier")["quantity"]
    assert plan.to_dict() == pytest.approx({"China refiners": 60, "Lynas": 40})
    capacity = result.shadow_prices.query("rule == 'contract capacity'")
    assert capacity["value"].tolist() == pytest.approx([20.0])


def test_take_or_pay_floor_forces_a_dear_contract():
    result = solve(make(
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                {"supplier": "Lynas", "material": "Dy", "price": 30, "min_quantity": 25}],
    ))
    plan = result.plan.set_index("supplier")["quantity"]
    assert plan.to_dict() == pytest.approx({"China refiners": 75, "Lynas": 25})


def test_contracts_are_paid_for_what_is_delivered():
    """Availability 0.5 in the only scenario: 200 contracted, 100 delivered, 100 x 10 paid."""
    result = solve(make(
        suppliers=[supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "Lynas", "material": "Dy", "price": 10}],
        disruptions=[{"scenario": "base", "availability": 0.5}],
    ))
    assert result.plan["quantity"].tolist() == pytest.approx([200])
    assert result.headline["expected_cost"] == pytest.approx(1000)


def test_stockpile_draws_never_exceed_the_reservation():
    """Vault capacity 30 a period, release at 15 vs spot at 50: reserve once, draw at most that in total."""
    result = solve(make(
        **TWO_PERIODS,
        suppliers=[supplier("Project Vault", "stockpile", "United States"), supplier("Spot", "spot", "Malaysia")],
        offers=[{"supplier": "Project Vault", "material": "Dy", "price": 15, "capacity": 30,
                 "reserve_limit": 45, "reservation_fee": 1},
                {"supplier": "Spot", "material": "Dy", "price": 50}],
    ))
    flows = result.flows
    drawn = flows[flows["supplier"] == "Project Vault"]["quantity"].sum()
    assert drawn == pytest.approx(45)
    assert result.headline["expected_cost"] == pytest.approx(45 + 45 * 15 + 155 * 50)


#: China at 10 is gone in 'ban' (p 0.1), Lynas at 20 always delivers, shortage costs 50.
HEDGE = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 20}],
    materials=[{"material": "Dy", "shortage_penalty": 50}],
    scenarios=[{"scenario": "calm", "probability": 0.9}, {"scenario": "ban", "probability": 0.1}],
    disruptions=[{"scenario": "ban", "country": "China", "availability": 0}],
)


def test_budget_binds_exactly_against_the_cvar_term():
    """With a CVaR weight the plan hedges above the cheapest expected cost; a budget pulls it back."""
    base = HEDGE
    hedged = solve(make(**base, settings=[{"key": "cvar_weight", "value": 1}, {"key": "cvar_level", "value": 0.9}]))
    budget = hedged.headline["expected_cost"] - 100
    capped = solve(make(**base, settings=[{"key": "cvar_weight", "value": 1}, {"key": "cvar_level", "value": 0.9},
                                          {"key": "budget", "value": budget}]))
    assert capped.headline["expected_cost"] == pytest.approx(budget)


def test_cvar_is_the_tail_scenario_and_its_cap_binds():
    """beta = 0.9 and p(ban) = 0.1: CVaR is the ban scenario's cost. Capping it at 2500 forces a hedge."""
    base = HEDGE
    free = solve(make(**base, settings=[{"key": "cvar_level", "value": 0.9}]))
    assert free.headline["cvar"] == pytest.approx(5000)  # nothing arrives in ban: 100 x 50
    capped = solve(make(**base, settings=[{"key": "cvar_level", "value": 0.9}, {"key": "cvar_max", "value": 2500}]))
    # w from Lynas is delivered in both scenarios: ban costs 20 w + 50 (100 - w) = 5000 - 30 w = 2500,
    # so w = 250 / 3; calm tops up from China, 1000 + 10 w < 2500, so ban stays the 10% tail.
    w = 250 / 3
    assert capped.headline["cvar"] == pytest.approx(2500)
    assert capped.plan.set_index("supplier")["quantity"]["Lynas"] == pytest.approx(w)


def test_material_flows_reconcile_in_every_scenario():
    result = solve(make(
        **TWO_PERIODS,
        materials=[{"material": "Dy", "shortage_penalty": 25, "holding_cost": 1, "initial_inventory": 30}],
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Spot", "spot", "Malaysia")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10, "capacity": 80},
                {"supplier": "Spot", "material": "Dy", "price": 30, "capacity": 20}],
        scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "ban", "probability": 0.5}],
        disruptions=[{"scenario": "ban", "country": "China", "start": "t2", "availability": 0.25}],
    ))
    b = result.balance
    gap = b["opening_inventory"] + b["delivered"] + b["unmet_demand"] - b["demand"] - b["closing_inventory"]
    assert gap.abs().max() < 1e-7
    by = result.flows.groupby(["scenario", "period"])["quantity"].sum()
    assert b.set_index(["scenario", "period"])["delivered"].to_dict() == pytest.approx(by.to_dict())
    assert b["opening_inventory"].iloc[0] == pytest.approx(30)


def test_a_small_relaxation_is_written_with_the_decimals_that_tell_the_two_shares_apart():
    """The bundled instance with its China refining cap at 95.7% and a per-period Tb oxide cap at 98.5% has
    no plan; the advice moves the cap and the floor by less than a tenth of a point, and each sentence must
    still say two different figures."""
    import re

    import pandas as pd

    from optimizer.model.rules.base import share_text

    assert (share_text(0.957, 0.957076), share_text(0.957076, 0.957)) == ("95.70%", "95.71%")
    assert share_text(0.6) == "60.0%" and share_text(0.6, 0.5) == "60.0%"
    data = so.read_instance(so.bundled_instance())
    caps = data.tables["origin_caps"].reset_index(drop=True)
    caps = pd.concat([caps.assign(max_share=0.957),
                      caps.assign(material="Tb oxide", max_share=0.985, per_period="true")], ignore_index=True)
    result = so.solve(so.from_frames({**data.tables, "origin_caps": caps}))
    assert result.status == "infeasible"
    sentences = list(result.explanation["advice"]) + result.message.splitlines()
    pairs = [re.search(r"from ([\d.]+%) to ([\d.]+%)", s) for s in sentences]
    assert sum(p is not None for p in pairs) >= 3
    assert all(p.group(1) != p.group(2) for p in pairs if p)
