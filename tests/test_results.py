"""The result tables read the model's Expressions: values gathered on arrays must equal them."""

from __future__ import annotations

import importlib

import pandas as pd
import pyomo.environ as pyo
import pytest

import optimizer as so
from optimizer.inputs.catalog import bundled_instance
from optimizer.model.formulation import inflow_value
from optimizer.solving.results import _gather, collect_results
from conftest import make, supplier
from optimizer.model import build
from optimizer.solving.solver import make_solver, run_solver, solve_once


def test_gathered_values_equal_the_expressions():
    data = so.read_instance(bundled_instance())
    built = build(data)
    run = run_solver(built.model, make_solver())
    model = built.model
    values = _gather(built)
    for row in values.inflow.itertuples():
        assert row.quantity == pytest.approx(inflow_value(model, (row.supplier, row.material, row.node)),
                                             abs=1e-9)
    result = collect_results(built, run)
    costs = result.scenario_costs.set_index("scenario")["cost"]
    for scenario in model.SCENARIOS:
        assert costs[scenario] == pytest.approx(pyo.value(model.scenario_cost[scenario]), rel=1e-12)
    assert result.headline["expected_cost"] == pytest.approx(pyo.value(model.expected_cost), rel=1e-12)
    for (material, scenario), floor in data.fill_floors["min_fill_rate"].items():
        rate = result.fill_rates.set_index(["material", "scenario"]).loc[(material, scenario), "fill_rate"]
        assert rate >= floor - 1e-9


def test_origin_shares_equal_the_cap_rows():
    """Each horizon cap's supplied quantity is the body of its constraint; each per-period one, its node's."""
    frames = so.read_instance(bundled_instance()).tables
    caps = frames["origin_caps"]
    # a per-period cap that leaves a plan: Australian mining (Lynas's Mt Weld) is a small part of any period's
    # supply (a China cap per period at 100% can bind when the plan stocks up ahead of a disruption)
    per_period = caps.iloc[[0]].assign(country="Australia", per_period="true", max_share="1", stage="mining")
    data = so.from_frames({**frames, "origin_caps": pd.concat([caps, per_period], ignore_index=True)})
    built = build(data)
    run = run_solver(built.model, make_solver())
    model = built.model
    shares = collect_results(built, run).origin_shares
    horizon = shares[shares["period"].isna()].set_index(["cap", "material", "scenario"])["supplied_through"]
    names = data.origin_caps["cap"].tolist()
    for (i, material, scenario), con in model.origin_cap.items():
        assert horizon[(names[i], material, scenario)] == pytest.approx(pyo.value(con.body), abs=1e-9)
    monthly = shares[shares["period"].notna()].set_index(["material", "scenario", "period"])["supplied_through"]
    scenario_nodes = built.tree.scenario_nodes()
    assert len(model.origin_cap_per_period) > 0
    for (i, material, node), con in model.origin_cap_per_period.items():
        for row in scenario_nodes[scenario_nodes["node"] == node].itertuples():
            assert monthly[(material, row.scenario, row.period)] == pytest.approx(pyo.value(con.body), abs=1e-9)


@pytest.mark.parametrize("interface", ["APPSI", "standard form"])
def test_one_model_solved_again_with_a_decision_fixed(interface, monkeypatch):
    """Demand 100; A (China) at 10, spot S at 40. Free: A takes all, cost 1000. With A's contract fixed at 70
    (the standard-form compiler moves a fixed variable into the right-hand sides, so HiGHS never sees it):
    spot buys 30, cost 700 + 1200 = 1900. The second hand-over numbers the columns differently from the
    first, and the tables must follow."""
    monkeypatch.setattr(importlib.import_module("optimizer.solving.solver"), "STANDARD_FORM_FROM",
                        0 if interface == "standard form" else 10**9)
    data = so.from_frames(make(suppliers=[supplier("A", "contract", "China"), supplier("S", "spot", "Australia")],
                               offers=[{"supplier": "A", "material": "Dy", "price": 10},
                                       {"supplier": "S", "material": "Dy", "price": 40}]))
    built = build(data)
    free = collect_results(built, solve_once(built.model))
    assert free.objective == pytest.approx(1000)
    assert free.flows.set_index("supplier")["quantity"].to_dict() == pytest.approx({"A": 100, "S": 0})
    built.model.contract_quantity["A", "Dy", "t1"].fix(70)
    fixed = collect_results(built, solve_once(built.model))
    assert fixed.objective == pytest.approx(1900)
    assert fixed.flows.set_index("supplier")["quantity"].to_dict() == pytest.approx({"A": 70, "S": 30})
    assert fixed.scenario_costs["cost"].tolist() == pytest.approx([1900])
