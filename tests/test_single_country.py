"""The single-country cap (origin_caps country `*`): each single country is capped on its own.

The EU Critical Raw Materials Act's benchmark: no more than a share of a stage from any one country.
Hand-solved instances, its explanation, its sweep, its override, and random instances against the
independent formulation (tests/reference_lp.py), which reads the tables itself.
"""

from __future__ import annotations

import importlib
import random

import pytest

import optimizer as so
from conftest import make, solve, supplier
from reference_lp import reference_objective
from test_reference import assert_same_answer, random_frames, valid_draw

solve_module = importlib.import_module("optimizer.solving.solver")

#: Demand 100 of Dy in one period; refiners in three countries, and a trader whose refining country is a
#: pseudo-country, and a recycler with no refining stage at all (capacity 10).
THREE_COUNTRIES = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia"),
               supplier("Iluka", "contract", "Australia"), supplier("Trader", "contract", "Various (ex-China)"),
               supplier("Recycler", "contract", None, mining="Chile")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 20},
            {"supplier": "Iluka", "material": "Dy", "price": 30},
            {"supplier": "Trader", "material": "Dy", "price": 25},
            {"supplier": "Recycler", "material": "Dy", "price": 22, "capacity": 10}],
)


def test_each_country_is_capped_on_its_own_and_pseudo_countries_are_not_countries():
    """'*' at refining, 40%: China 40 at 10, Malaysia 40 at 20, then the recycler's 10 at 22 (no refining
    country: no cap applies), then 10 from the trader at 25 ('Various (ex-China)' names no single country,
    so no country's cap counts it); Australia at 30 is not needed.
    Cost 400 + 800 + 220 + 250 = 1670. One more point for China moves a unit from the trader (25) to China
    (10): 15 per point; for Malaysia 25 - 20 = 5; Australia's cap does not bind: 0."""
    result = solve(make(**THREE_COUNTRIES, origin_caps=[{"country": "*", "stage": "refining", "max_share": 0.4}]))
    assert result.status == "optimal"
    assert result.headline["expected_cost"] == pytest.approx(1670)
    plan = result.plan.set_index("supplier")["quantity"].to_dict()
    assert plan == pytest.approx({"China refiners": 40, "Lynas": 40, "Iluka": 0, "Trader": 10, "Recycler": 10})
    shares = result.origin_shares.set_index("country")
    assert sorted(shares.index) == ["Australia", "China", "Malaysia"]
    assert shares["share"].to_dict() == pytest.approx({"Australia": 0, "China": 0.4, "Malaysia": 0.4})
    assert set(shares["cap"]) == {"* refining"} and set(shares["input_row"]) == {"origin_caps:2"}
    prices = result.shadow_prices.query("rule == 'single-country cap'").set_index("name")["value"]
    assert prices.to_dict() == pytest.approx({"* refining: Australia": 0, "* refining: China": 15,
                                              "* refining: Malaysia": 5})


def test_a_cap_at_any_stage_counts_every_stage_of_the_chain():
    """Toll refiner: mined in China, refined in Malaysia. At any stage, 50%: China carries A and the toll
    refiner (A + T <= 50), Malaysia the toll refiner, Australia Lynas-like L, so L >= 50 and A (10) takes
    the rest: 500 + 1500 = 2000. At refining only, China is A alone: A 50 and T 50, 500 + 600 = 1100."""
    frames = dict(
        suppliers=[supplier("A", "contract", refining="China", mining="China"),
                   supplier("T", "contract", refining="Malaysia", mining="China"),
                   supplier("L", "contract", refining="Australia", mining="Australia")],
        offers=[{"supplier": "A", "material": "Dy", "price": 10}, {"supplier": "T", "material": "Dy", "price": 12},
                {"supplier": "L", "material": "Dy", "price": 30}])
    any_stage = solve(make(**frames, origin_caps=[{"country": "*", "max_share": 0.5}]))
    assert any_stage.objective == pytest.approx(2000)
    assert any_stage.plan.set_index("supplier")["quantity"].to_dict() == pytest.approx({"A": 50, "T": 0, "L": 50})
    refining = solve(make(**frames, origin_caps=[{"country": "*", "stage": "refining", "max_share": 0.5}]))
    assert refining.objective == pytest.approx(1100)


def test_a_cap_per_period_holds_in_each_period():
    """Two periods of 100; per period, 50%: China 50 and Malaysia 50 in each, 2 x (500 + 1000) = 3000."""
    result = solve(make(
        periods=[{"period": "t1"}, {"period": "t2"}],
        demand=[{"material": "Dy", "period": "t1", "quantity": 100}, {"material": "Dy", "period": "t2", "quantity": 100}],
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                {"supplier": "Lynas", "material": "Dy", "price": 20}],
        origin_caps=[{"country": "*", "stage": "refining", "max_share": 0.5, "per_period": True}]))
    assert result.objective == pytest.approx(3000)
    shares = result.origin_shares
    assert shares["share"].tolist() == pytest.approx([0.5] * 4)
    assert sorted(zip(shares["country"], shares["period"])) == [("China", "t1"), ("China", "t2"),
                                                                 ("Malaysia", "t1"), ("Malaysia", "t2")]


TWO_COUNTRIES_FULL_FILL = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 20}],
    service_levels=[{"min_fill_rate": 1}])


def test_advice_when_the_cap_cannot_hold():
    """Two countries at 30% each deliver at most 60 of 100 under a 100% floor. Relaxing the cap alone: 50%
    (each country half); relaxing the floor alone: 60%."""
    result = solve(make(**TWO_COUNTRIES_FULL_FILL,
                        origin_caps=[{"country": "*", "stage": "refining", "max_share": 0.3}]))
    assert result.status == "infeasible"
    assert result.message.splitlines() == [
        "No plan meets every rule. Any one of these would give a plan:",
        "  1. let a single country supply 50.0% of each material at refining instead of 30.0% (the * refining cap)",
        "  2. lower the Dy fill-rate floor from 100.0% to 60.0% in 'base'",
    ]
    fixes = result.explanation
    assert fixes[["rule", "name", "current", "relax_to"]].values.tolist() == [
        ["single-country caps", "* refining cap", 0.3, pytest.approx(0.5)],
        ["fill-rate floors", "Dy fill-rate floor", 1.0, pytest.approx(0.6)]]


@pytest.mark.parametrize("interface", ["APPSI", "standard form"])
def test_the_frontier_sweeps_the_single_country_cap(interface, monkeypatch):
    """China 10, Malaysia 20, Australia 30, 100% floor, no cap in the input. Under share s for every country:
    s >= 1/2: China 100 s, Malaysia the rest: 1000 s + 20 (100 - 100 s) = 2000 - 1000 s;
    1/3 <= s <= 1/2: 1000 s + 2000 s + 30 (100 - 200 s) = 3000 - 3000 s; below 1/3 no plan.
    Grid 100%, 66.7%, 33.3%, 0% (and detail points at 83.3% and 50%). At 66.7% only China binds: one point moves a unit from Malaysia, 10."""
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if interface == "standard form" else 10**9)
    data = so.from_frames(make(**{**TWO_COUNTRIES_FULL_FILL,
                                  "suppliers": TWO_COUNTRIES_FULL_FILL["suppliers"]
                                  + [supplier("Iluka", "contract", "Australia")],
                                  "offers": TWO_COUNTRIES_FULL_FILL["offers"]
                                  + [{"supplier": "Iluka", "material": "Dy", "price": 30}]}))
    curve = so.frontier(data, "*:refining", points=4)
    assert curve.cap == "single-country refining" and curve.current is None
    assert curve.unconstrained_share == pytest.approx(1.0)
    assert curve.tightest == pytest.approx(1 / 3, abs=1e-4)
    table = curve.table.set_index("point")
    assert table.loc["unconstrained", "objective"] == pytest.approx(1000)
    # Every share at or above 1/3 is feasible, so the bisection's upper end never moves: 1/3 is the tightest.
    assert table.loc["tightest", "max_share"] == pytest.approx(1 / 3)
    by_share = curve.table.set_index(curve.table["max_share"].round(6))
    # the sweep, plus two detail points between the unconstrained share and the tightest cap
    assert by_share.index.tolist() == pytest.approx([1.0, 0.833333, 0.666667, 0.5, 0.333333, 0.0])
    assert by_share.loc[0.833333, "objective"] == pytest.approx(2000 - 1000 * 5 / 6)
    assert by_share.loc[0.5, "objective"] == pytest.approx(1500)  # the breakpoint: both pieces give 1500
    assert by_share.loc[0.666667, "objective"] == pytest.approx(2000 - 1000 * 2 / 3)
    assert by_share.loc[0.333333, "objective"] == pytest.approx(2000)
    assert by_share.loc[0.0, "status"] == "infeasible"
    assert by_share.loc[0.666667, "shadow_price_per_point"] == pytest.approx(10)
    assert by_share.loc[0.666667, "achieved_share"] == pytest.approx(2 / 3)


def test_the_override_sets_the_single_country_cap():
    """--cap '*:refining=0.65' adds the row: China 65 at 10, Malaysia 35 at 20 = 1350."""
    data = so.from_frames(make(**TWO_COUNTRIES_FULL_FILL))
    capped = so.apply_case(data, "eu", so.Overrides(caps=["*:refining=0.65"]).edits(data.tables))
    rows = capped.origin_caps[["country", "stage", "max_share"]].values.tolist()
    assert rows == [["*", "refining", 0.65]]
    assert so.solve(capped).objective == pytest.approx(1350)


def test_validation_takes_the_star_as_no_country_name():
    data = so.from_frames(make(**TWO_COUNTRIES_FULL_FILL, origin_caps=[{"country": "*", "max_share": 0.65}]))
    assert data.warnings == []
    with pytest.raises(so.InputError) as error:
        so.from_frames(make(**TWO_COUNTRIES_FULL_FILL,
                            origin_caps=[{"country": "*", "stage": "smelting", "max_share": 0.65}]))
    assert "sheet 'origin_caps', row 2, column 'stage': unknown stage 'smelting'" in str(error.value)
    with pytest.raises(so.InputError, match="unknown stage 'smelting'"):
        so.frontier(so.from_frames(make(**TWO_COUNTRIES_FULL_FILL)), "*:smelting")


def with_a_single_country_cap(rng: random.Random) -> dict:
    """test_reference's random frames with a `*` cap added (and sometimes a pseudo-country)."""
    frames = random_frames(rng)
    if rng.random() < 0.5:
        frames["suppliers"][0]["refining_country"] = rng.choice(["Various (ex-China)", "unknown", None])
    frames["origin_caps"] = frames.get("origin_caps", []) + [{"country": "*", "stage": rng.choice(["refining", None]),
                                                               "material": None, "max_share": rng.choice([0.4, 0.6, 0.8]),
                                                               "per_period": rng.random() < 0.4}]
    return frames


@pytest.mark.parametrize("seed", range(40))
def test_random_instances_with_single_country_caps_match_the_reference(seed, monkeypatch):
    """Random instances of test_reference with a `*` cap added (and sometimes a pseudo-country), solved
    through both hand-overs, against the reference formulation."""
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if seed % 2 else 10**9)
    _, data = valid_draw(random.Random(1000 + seed), with_a_single_country_cap)
    assert_same_answer(so.solve(data), reference_objective(data))


def test_the_command_line_takes_the_single_country_cap(capsys, tmp_path):
    """`sourcing solve --cap '*:refining=0.65'` on the two-country instance: 1350 (see the override test),
    and `sourcing frontier --cap '*:refining'` finds the tightest cap of 50% (two countries, 100% floor)."""
    import json

    import pandas as pd

    from optimizer.interfaces.cli import main

    folder = tmp_path / "two"
    folder.mkdir()
    for sheet, rows in make(**TWO_COUNTRIES_FULL_FILL).items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    code = main(["solve", str(folder), "--cap", "*:refining=0.65", "-o", str(tmp_path / "p.xlsx"), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["summary"]["expected_cost"] == pytest.approx(1350)
    prices = pd.read_excel(tmp_path / "p.xlsx", sheet_name="Shadow prices", engine="openpyxl")
    binding = prices[prices["Rule"] == "single-country cap"].set_index("Name")["Value"]
    assert binding.to_dict() == pytest.approx({"* refining: China": 10, "* refining: Malaysia": 0})
    code = main(["frontier", str(folder), "--cap", "*:refining", "--points", "3", "-o", str(tmp_path / "f.xlsx")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Tightest feasible single-country refining cap: 50.00%; no plan below it." in out.splitlines()


@pytest.mark.parametrize("value, one_country", [
    ("China", True), ("Korea, Republic of", True), ("Côte d'Ivoire", True),
    ("Various (ex-China)", False), ("various", False), ("Unknown", False), ("Mixed origin", False),
    ("Other", False), ("China (toll)", False), ("China/Malaysia", False), ("", False), (None, False)])
def test_which_country_values_name_a_single_country(value, one_country):
    from optimizer.model.rules.single_country_caps import is_single_country

    assert is_single_country(value) is one_country
