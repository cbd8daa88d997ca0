"""The Pyomo node model against an independent extensive-form LP (tests/reference_lp.py, scipy).

The reference indexes every recourse decision by scenario and ties indistinguishable scenarios with
explicit equalities, so agreement checks the scenario tree, every rule and the costs at once.
"""

from __future__ import annotations

import importlib

import random

import pytest

import optimizer as so
from optimizer.inputs.catalog import bundled_instance
from reference_lp import at_point, raw_objective, reference_objective, reference_solution
solve_module = importlib.import_module("optimizer.solving.solver")

COUNTRIES = ["China", "Malaysia", "USA"]
STAGES = ["mining", "refining"]


def random_frames(rng: random.Random) -> dict:
    """A small instance exercising every rule and setting, drawn from rng."""
    n_periods, n_materials, n_scenarios = rng.randint(1, 4), rng.randint(1, 2), rng.randint(1, 4)
    periods = [f"t{i + 1}" for i in range(n_periods)]
    materials = [f"m{i}" for i in range(n_materials)]
    scenarios = [f"w{i}" for i in range(n_scenarios)]
    frames = {"periods": [{"period": p} for p in periods]}
    frames["materials"] = [{"material": m, "shortage_penalty": rng.choice([100, 1000]),
                            "holding_cost": rng.choice([0, 1, 3]), "initial_inventory": rng.choice([0, 0, 20])}
                           for m in materials]
    frames["demand"] = [{"material": m, "period": p, "quantity": rng.choice([0, 50, 100])}
                        for m in materials for p in periods]
    suppliers, offers = [], []
    for i in range(rng.randint(2, 4)):
        kind = rng.choice(["contract", "contract", "spot", "stockpile"])
        name = f"S{i}{kind[:2]}"
        row = {"supplier": name, "kind": kind}
        for stage in STAGES:
            row[f"{stage}_country"] = rng.choice(COUNTRIES + [None])
        suppliers.append(row)
        for m in materials:
            if rng.random() < 0.3:
                continue
            offer = {"supplier": name, "material": m, "price": rng.choice([5, 10, 20, 40])}
            if rng.random() < 0.5:
                offer["capacity"] = rng.choice([30, 80, 200])
            if kind == "contract" and rng.random() < 0.3:
                offer["min_quantity"] = min(rng.choice([10, 20]), offer.get("capacity", 1e9))
            if kind == "stockpile":
                offer["reserve_limit"] = rng.choice([50, 150])
                offer["reservation_fee"] = rng.choice([0, 1, 3])
            offers.append(offer)
            if n_periods > 1 and rng.random() < 0.3:
                override = {"supplier": name, "material": m, "period": rng.choice(periods),
                            "price": rng.choice([5, 15, 30])}
                if rng.random() < 0.5:
                    override["capacity"] = rng.choice([10, 60])
                offers.append(override)
    frames["suppliers"] = suppliers
    frames["offers"] = offers
    weights = [rng.randint(1, 4) for _ in scenarios]
    frames["scenarios"] = [{"scenario": w, "probability": p / sum(weights)} for w, p in zip(scenarios, weights)]
    disruptions = []
    for _ in range(rng.randint(0, 4)):
        d = {"scenario": rng.choice(scenarios)}
        if rng.random() < 0.3:
            d["supplier"] = rng.choice(suppliers)["supplier"]
        if rng.random() < 0.3:
            d["material"] = rng.choice(materials)
        if rng.random() < 0.4:
            d["country"] = rng.choice(COUNTRIES)
        if rng.random() < 0.3:
            d["stage"] = rng.choice(STAGES)
        if rng.random() < 0.5:
            d["start"] = rng.choice(periods)
        if rng.random() < 0.3:
            end = rng.choice(periods)
            if "start" in d and periods.index(end) < periods.index(d["start"]):
                end = d["start"]
            d["end"] = end
        if rng.random() < 0.7:
            d["availability"] = rng.choice([0, 0.3, 0.5])
        if rng.random() < 0.4:
            d["price_multiplier"] = rng.choice([0.5, 2, 3])
        disruptions.append(d)
    if disruptions:
        frames["disruptions"] = disruptions
    caps, seen = [], set()
    for _ in range(rng.randint(0, 2)):
        cap = {"country": rng.choice(COUNTRIES), "stage": rng.choice(STAGES + [None]),
               "material": rng.choice(materials + [None]), "max_share": rng.choice([0.3, 0.6, 0.9]),
               "per_period": rng.random() < 0.4}
        key = (cap["country"], cap["stage"], cap["material"])
        if key not in seen:
            seen.add(key)
            caps.append(cap)
    if caps:
        frames["origin_caps"] = caps
    if rng.random() < 0.4:
        frames["service_levels"] = [{"material": rng.choice(materials + [None]),
                                     "scenario": rng.choice(scenarios + [None]),
                                     "min_fill_rate": rng.choice([0.5, 0.9, 1.0])}]
    if rng.random() < 0.4:
        frames["supplier_caps"] = [{"supplier": rng.choice(suppliers)["supplier"],
                                    "material": rng.choice(materials + [None]), "max_share": rng.choice([0.3, 0.7])}]
    settings = []
    if rng.random() < 0.4:
        settings.append({"key": "cvar_weight", "value": rng.choice([0.2, 1.0])})
    if rng.random() < 0.3:
        settings.append({"key": "cvar_level", "value": rng.choice([0.5, 0.9])})
    if rng.random() < 0.15:
        settings.append({"key": "cvar_max", "value": rng.choice([5000, 20000])})
    if rng.random() < 0.15:
        settings.append({"key": "budget", "value": rng.choice([3000, 20000])})
    if settings:
        frames["settings"] = settings
    return frames


@pytest.mark.parametrize("path", ["persistent", "standard form"])
def test_bundled_instance_matches_the_reference(path, monkeypatch):
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if path == "standard form" else 10**9)
    data = so.read_instance(bundled_instance())
    result = so.solve(data)
    reference = reference_solution(data)
    assert result.objective == pytest.approx(reference["objective"], rel=1e-7)
    assert result.headline["expected_cost"] == pytest.approx(reference["expected_cost"], rel=1e-7)


def valid_draw(rng: random.Random, frames_of=random_frames) -> tuple[dict, so.SourcingData]:
    """Frames drawn by frames_of(rng) until they validate (about 1 draw in 10 breaks a rule, e.g. a floor
    above capacity), with their data."""
    while True:
        frames = frames_of(rng)
        try:
            return frames, so.from_frames(frames)
        except so.InputError:
            continue


def assert_same_answer(result, expected: float | None) -> None:
    """The solve agrees with the reference's objective (None: the reference has no plan either)."""
    if expected is None:
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal"
        assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", range(150))
def test_random_instances_match_the_reference(seed, monkeypatch):
    """Seeds below 50 go through the standard-form path (used for large models), the others through APPSI."""
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if seed < 50 else 10**9)
    _, data = valid_draw(random.Random(seed))
    assert_same_answer(so.solve(data), reference_objective(data))


def _point_of(result) -> dict:
    """The solve's reported decisions, from its result tables, keyed as reference_lp.at_point takes them."""
    plan = result.plan
    contracts = plan[plan["decision"] == "contract"]
    reserved = plan[plan["decision"] != "contract"]
    flows = result.flows[result.flows["kind"] != "contract"]
    balance = result.balance
    return dict(
        contracts={(r.supplier, r.material, r.period): r.quantity for r in contracts.itertuples()},
        reservations={(r.supplier, r.material): r.quantity for r in reserved.itertuples()},
        draws={(r.supplier, r.material, r.period, r.scenario): r.quantity for r in flows.itertuples()},
        unmet={(r.material, r.period, r.scenario): r.unmet_demand for r in balance.itertuples()},
        stock={(r.material, r.period, r.scenario): r.closing_inventory for r in balance.itertuples()})


@pytest.mark.parametrize("seed", range(80))
def test_random_plans_shares_and_fill_rates_match_the_reference_read_from_the_raw_tables(seed, monkeypatch):
    """The reference reads the raw tables itself (reference_lp.RawInputs: offers per period, defaults, the
    most specific service level, settings), so a bug in the project's reading or assembly is not shared.
    Beyond the objective: the reported plan, draws, shortages and stocks must be a point of the reference
    LP with the optimal objective (an alternative optimum passes, a wrong plan does not), and the reported
    fill rates and shares must be the reference's, evaluated at that point."""
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if seed < 20 else 10**9)
    frames, data = valid_draw(random.Random(1000 + seed))
    result = so.solve(data)
    expected = raw_objective(frames)
    assert_same_answer(result, expected)
    if expected is None:
        return
    point = at_point(frames, **_point_of(result))
    assert point is not None, "the reported plan breaks a rule of the reference LP"
    assert point["objective"] == pytest.approx(expected, rel=1e-6, abs=1e-5)
    rates = result.fill_rates[result.fill_rates["demand"] > 0]
    assert {(r.scenario, r.material): r.fill_rate for r in rates.itertuples()} == pytest.approx(
        point["fill_rates"], abs=1e-6)
    shares = {(r.country, r.stage, r.material, r.scenario, None if r.period is None else r.period): r.share
              for r in result.origin_shares.itertuples()}
    assert shares == pytest.approx(point["shares"], abs=1e-6)


def test_a_contract_that_never_delivers_is_reported_at_its_floor():
    data = so.from_frames({
        "periods": [{"period": "t1"}],
        "materials": [{"material": "Dy", "shortage_penalty": 1000}],
        "demand": [{"material": "Dy", "period": "t1", "quantity": 100}],
        "suppliers": [{"supplier": "A", "kind": "contract", "refining_country": "China"}],
        "offers": [{"supplier": "A", "material": "Dy", "price": 10}],
        "disruptions": [{"scenario": "base", "supplier": "A", "availability": 0}],
    })
    result = so.solve(data)
    assert result.objective == pytest.approx(100 * 1000)
    assert result.plan["quantity"].tolist() == [0.0]
