"""Instances small enough to solve on paper; the optimum of each is worked out in its docstring."""

from __future__ import annotations

import pytest

from conftest import OVER_CONTRACTING, VAULT_UNDER_CAP, make, solve, supplier


def quantity(result, decision: str, name: str, period: str | None = None) -> float:
    plan = result.plan
    rows = plan[(plan["decision"] == decision) & (plan["supplier"] == name)]
    if period is not None:
        rows = rows[rows["period"] == period]
    return float(rows["quantity"].sum())


def test_over_contracting_when_deliveries_may_fall_short(approx):
    """Demand 100. Contract at 10, delivered in full in 'calm' (p 0.5), half in 'cut' (p 0.5);
    spot at 40, holding 1 per unit left over.

    Above x = 100, one more contracted unit costs 10 + 1 (held) in calm and saves 20 - 5 = 15 in cut:
    expected -2, so contract more. Above x = 200 the cut scenario is covered too: +11 and +5.5.
    So x = 200 and E = 0.5 (2000 + 100) + 0.5 (1000) = 1550.
    """
    result = solve(make(**OVER_CONTRACTING))
    assert result.status == "optimal"
    assert quantity(result, "contract", "A") == approx(200)
    assert result.headline["expected_cost"] == approx(1550)


def test_non_anticipative_plan_cannot_wait_for_the_ban():
    """Demand 0 in t1 and 100 in t2. China spot at 10 in both periods, but in 'ban' (p 0.5) it is
    gone in t2; Western spot at 20; holding 2 per unit per period.

    Both scenarios look the same in t1, so the t1 purchase must be the same in both.
    Buying s in t1 costs 12 s + 0.5 * 10 (100 - s) + 0.5 * 20 (100 - s) = 1500 - 3 s: s = 100, E = 1200.
    A model that saw the future would wait in calm (1000) and stock up only in ban (1200): E = 1100.
    """
    result = solve(make(
        periods=[{"period": "t1"}, {"period": "t2"}],
        materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 2}],
        demand=[{"material": "Dy", "period": "t1", "quantity": 0},
                {"material": "Dy", "period": "t2", "quantity": 100}],
        suppliers=[supplier("China spot", "spot", "China"), supplier("West spot", "spot", "Malaysia")],
        offers=[{"supplier": "China spot", "material": "Dy", "price": 10},
                {"supplier": "West spot", "material": "Dy", "price": 20}],
        scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "ban", "probability": 0.5}],
        disruptions=[{"scenario": "ban", "country": "China", "start": "t2", "availability": 0}],
    ))
    assert result.headline["expected_cost"] == pytest.approx(1200)
    flows = result.flows
    bought_t1 = flows[(flows["period"] == "t1") & (flows["supplier"] == "China spot")]
    assert bought_t1.set_index("scenario")["quantity"].to_dict() == pytest.approx({"calm": 100, "ban": 100})


def test_stockpile_reservation_under_an_origin_cap():
    """Demand 100, China contract at 10 (gone in 'ban', p 0.2), Project Vault release at 15 with a
    fee of 2 per unit reserved (limit 100), Western contract at 30; China capped at 60% of demand.

    Calm: 60 from China (the cap), 40 drawn from the vault. Ban: 100 drawn. Reserving the last 60
    units costs 2 each in every scenario and saves 0.2 * (1000 - 15) each: reserve 100.
    E = 0.8 (600 + 600) + 0.2 (1500) + 200 = 1460. One more point of cap moves one unit from the vault
    (15) to China (10) in calm: worth 0.8 * 5 = 4 per percentage point.
    """
    result = solve(make(**VAULT_UNDER_CAP))
    assert quantity(result, "contract", "China refiners") == pytest.approx(60)
    assert quantity(result, "stockpile reservation", "Project Vault") == pytest.approx(100)
    assert quantity(result, "contract", "Lynas") == pytest.approx(0)
    assert result.headline["expected_cost"] == pytest.approx(1460)
    prices = result.shadow_prices
    cap = prices[prices["rule"] == "origin cap"]
    assert cap["value"].tolist() == pytest.approx([4.0])
    assert result.fill_rates["fill_rate"].tolist() == pytest.approx([1.0, 1.0])
