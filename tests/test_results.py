"""The result tables read the model's Expressions: values gathered on arrays must equal them."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

import optimizer as so
from optimizer.catalog import bundled_instance
from optimizer.results import _gather, collect_results
from optimizer.solve import build, make_solver, run_solver


def test_gathered_values_equal_the_expressions():
    data = so.read_instance(bundled_instance())
    built = build(data)
    run = run_solver(built.model, make_solver())
    model = built.model
    values = _gather(built)
    for row in values.inflow.itertuples():
        assert row.quantity == pytest.approx(pyo.value(model.inflow[row.supplier, row.material, row.node]),
                                             abs=1e-9)
    result = collect_results(built, run)
    costs = result.scenario_costs.set_index("scenario")["cost_USD"]
    for scenario in model.SCENARIOS:
        assert costs[scenario] == pytest.approx(pyo.value(model.scenario_cost[scenario]), rel=1e-12)
    assert result.headline["expected_cost"] == pytest.approx(pyo.value(model.expected_cost), rel=1e-12)
    for (material, scenario), floor in data.fill_floors["min_fill_rate"].items():
        rate = result.fill_rates.set_index(["material", "scenario"]).loc[(material, scenario), "fill_rate"]
        assert rate >= floor - 1e-9
