"""Decomposition by material against the monolithic solve, and a hand-solved instance where the CVaR
coupling between materials changes the plan.

The hand-solved instance (`hedge`): one period, two equiprobable scenarios w1 and w2, two materials A and B
with a demand of 1 each and a shortage penalty of 1000. A contract supplier C sells both at 10 in every
scenario; a spot market S sells A at 4 in w1 and 14 in w2 (price multiplier 3.5) and B at 15 in w1 and 6 in
w2 (multiplier 0.4). With x_A, x_B the contracted quantities (the rest bought spot):

    cost_w1 = 19 + 6 x_A - 5 x_B,   cost_w2 = 20 - 4 x_A + 4 x_B,   E = 19.5 + x_A - 0.5 x_B.

cvar_level 0.5 with two equiprobable scenarios makes CVaR the worse scenario's cost, and cvar_weight 1
makes the objective E + max(cost_w1, cost_w2). Where cost_w2 >= cost_w1 (10 x_A - 9 x_B <= 1) it is
39.5 - 3 x_A + 3.5 x_B, least at x_B = 0, x_A = 0.1 (the edge of that region); on the other side it is
38.5 + 7 x_A - 5.5 x_B, least on the same edge x_A = 0.1 + 0.9 x_B, where both read 39.2 + 0.8 x_B. So the
unique optimum is x_A = 0.1, x_B = 0, objective 39.2: the two spot markets hedge each other. Solving each
material with its own CVaR would contract both (x_A = x_B = 1, each material's objective 20, total 40), and
ignoring risk would give x_A = 0, x_B = 1 (objective 43), so a decomposition that dropped the coupling
rows would report another plan.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import optimizer as so
from optimizer.interfaces.cli import main
from optimizer.solving import decomposition, pipeline
from test_reference import random_frames


def hedge(**settings) -> dict:
    frames = {
        "periods": [{"period": "t1"}],
        "materials": [{"material": m, "shortage_penalty": 1000} for m in ("A", "B")],
        "demand": [{"material": m, "period": "t1", "quantity": 1} for m in ("A", "B")],
        "suppliers": [{"supplier": "C", "kind": "contract", "refining_country": "Australia"},
                      {"supplier": "S", "kind": "spot", "refining_country": "China"}],
        "offers": [{"supplier": "C", "material": "A", "price": 10}, {"supplier": "C", "material": "B", "price": 10},
                   {"supplier": "S", "material": "A", "price": 4}, {"supplier": "S", "material": "B", "price": 15}],
        "scenarios": [{"scenario": "w1", "probability": 0.5}, {"scenario": "w2", "probability": 0.5}],
        "disruptions": [{"scenario": "w2", "supplier": "S", "material": "A", "price_multiplier": 3.5},
                        {"scenario": "w2", "supplier": "S", "material": "B", "price_multiplier": 0.4}],
    }
    values = {"cvar_level": 0.5, "cvar_weight": 1, **settings}
    frames["settings"] = [{"key": k, "value": v} for k, v in values.items()]
    return frames


def contracted(result) -> dict:
    plan = result.plan
    return dict(zip(plan["material"], plan["quantity"]))


def price(result, rule: str) -> float:
    rows = result.shadow_prices[result.shadow_prices["rule"] == rule]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


@pytest.mark.parametrize("method", ["monolithic", "decomposed"])
def test_the_cvar_coupling_makes_the_two_spot_markets_hedge_each_other(method):
    result = so.solve(so.from_frames(hedge()), method=method)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(39.2, rel=1e-9)
    plan = contracted(result)
    assert plan["A"] == pytest.approx(0.1, abs=1e-7)
    assert plan["B"] == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("method", ["monolithic", "decomposed"])
def test_a_binding_cvar_cap_between_materials(method):
    """cvar_weight 0, cvar_max 21: minimise E = 19.5 + x_A - 0.5 x_B with both scenario costs <= 21, i.e.
    x_B - x_A <= 1/4 and 6 x_A - 5 x_B <= 2: x_A = 0, x_B = 1/4, E = 19.375. A cap of 21 + d allows
    x_B = (1 + d) / 4, so the objective falls by d / 8 either way: the cap's shadow price is 0.125."""
    result = so.solve(so.from_frames(hedge(cvar_weight=0, cvar_max=21)), method=method)
    assert result.objective == pytest.approx(19.375, rel=1e-9)
    assert contracted(result)["B"] == pytest.approx(0.25, abs=1e-7)
    assert price(result, "CVaR cap") == pytest.approx(0.125, rel=1e-6)


@pytest.mark.parametrize("method", ["monolithic", "decomposed"])
def test_a_binding_budget_between_materials(method):
    """budget 19.55 on E with the objective E + CVaR: E <= 19.55 means x_A - 0.5 x_B <= 0.05; in the region
    cost_w2 >= cost_w1 the objective 39.5 - 3 x_A + 3.5 x_B is least at x_B = 0, x_A = 0.05 (39.35), and the
    other region does not meet the budget. One more unit of budget lets x_A grow by one: the objective falls
    by 3 per unit, the budget's shadow price."""
    result = so.solve(so.from_frames(hedge(budget=19.55)), method=method)
    assert result.objective == pytest.approx(39.35, rel=1e-9)
    assert contracted(result)["A"] == pytest.approx(0.05, abs=1e-7)
    assert price(result, "budget") == pytest.approx(3.0, rel=1e-6)


@pytest.mark.parametrize("settings", [{"cvar_weight": 0, "cvar_max": 10}, {"budget": 15}])
def test_an_infeasible_coupling_rule_is_explained_the_same_way(settings):
    """Every scenario cost is at least 14 (cost_w1 >= 19 - 5) and E at least 19, so a CVaR cap of 10 or a
    budget of 15 leaves no plan: both methods say so in the same words and exit with 3."""
    data = so.from_frames(hedge(**settings))
    results = [so.solve(data, method=m) for m in ("monolithic", "decomposed")]
    assert [r.status for r in results] == ["infeasible", "infeasible"]
    assert results[0].message == results[1].message
    assert results[0].explanation.equals(results[1].explanation)


def test_the_cli_takes_the_method_and_keeps_exit_codes(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for sheet, rows in hedge(budget=15).items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    outs = []
    for method in ("monolithic", "decomposed"):
        code = main(["solve", str(folder), "--method", method, "--workers", "0", "-o", str(tmp_path / "plan.xlsx")])
        assert code == 3
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]
    assert "No plan meets every rule" in outs[0]
    assert main(["solve", str(folder), "--method", "fastest", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert capsys.readouterr().err == ("Error: The input has a problem: option --method 'fastest' is not a "
                                       "method; use one of auto, monolithic, decomposed.\n")
    assert not (tmp_path / "x.xlsx").exists()


def test_the_frontier_takes_the_method_and_prints_the_same_curve_either_way(tmp_path, capsys):
    outs = []
    for method in ("monolithic", "decomposed"):
        code = main(["frontier", "--cap", "China:refining", "--points", "3", "--method", method, "--workers", "0",
                     "-o", str(tmp_path / f"{method}.xlsx")])
        assert code == 0
        outs.append(capsys.readouterr().out.replace(f"{method}.xlsx", "curve.xlsx"))
    assert outs[0] == outs[1]
    assert main(["frontier", "--method", "fastest", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "option --method 'fastest' is not a method" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def _random_data(seed: int):
    rng = random.Random(seed)
    while True:  # a draw that breaks a validation rule is drawn again (as in test_reference)
        try:
            frames = random_frames(rng)
            # two or three materials, so that there is something to decompose
            frames["materials"] = frames["materials"] + [dict(m, material=m["material"] + "x")
                                                         for m in frames["materials"]]
            frames["demand"] = frames["demand"] + [dict(d, material=d["material"] + "x") for d in frames["demand"]]
            frames["offers"] = frames["offers"] + [dict(o, material=o["material"] + "x", price=o["price"] * 1.5)
                                                   for o in frames["offers"]]
            return so.from_frames(frames)
        except so.InputError:
            continue


def _same(monolithic, decomposed) -> None:
    assert decomposed.status == monolithic.status
    if monolithic.status != "optimal":
        assert decomposed.message == monolithic.message
        return
    assert decomposed.objective == pytest.approx(monolithic.objective, rel=1e-7, abs=1e-7)
    for name in ("expected_cost",):
        assert decomposed.headline[name] == pytest.approx(monolithic.headline[name], rel=1e-6, abs=1e-6)
    assert len(decomposed.shadow_prices) == len(monolithic.shadow_prices)


@pytest.mark.parametrize("seed", range(40))
def test_random_instances_solve_to_the_same_optimum(seed):
    """With and without CVaR weight, caps, budgets and floors as random_frames draws them (some infeasible)."""
    data = _random_data(seed)
    _same(so.solve(data, method="monolithic", explain=False), so.solve(data, method="decomposed", explain=False))


def _generated(per_period: bool, **settings):
    tables = so.generate("small", 3)
    caps = tables["origin_caps"].copy()
    caps["max_share"] = 0.45
    caps["per_period"] = per_period
    tables["origin_caps"] = caps
    kept = tables["settings"][~tables["settings"]["key"].isin(list(settings))]
    extra = [{"key": k, "value": v} for k, v in settings.items()]
    tables["settings"] = kept.to_dict("records") + extra
    return so.from_frames(tables)


@pytest.mark.parametrize("per_period", [False, True])
@pytest.mark.parametrize("settings", [{}, {"cvar_weight": 0}, {"cvar_weight": 0.5, "cvar_level": 0.8}])
def test_generated_instances_give_the_same_plan_and_shadow_prices(per_period, settings):
    data = _generated(per_period, **settings)
    monolithic = so.solve(data, method="monolithic")
    decomposed = so.solve(data, method="decomposed")
    _same(monolithic, decomposed)
    assert monolithic.status == "optimal"
    caps = monolithic.shadow_prices["rule"] == "origin cap"
    assert (monolithic.shadow_prices.loc[caps, "value"].abs() > 1e-6).any(), "the caps were meant to bind"
    for column in ("rule", "name", "material", "scenario", "period"):
        assert decomposed.shadow_prices[column].equals(monolithic.shadow_prices[column])
    # an origin cap's price is the sum of its rows' duals, unique here (checked below by finite differences)
    np.testing.assert_allclose(decomposed.shadow_prices.loc[caps, "value"], monolithic.shadow_prices.loc[caps, "value"],
                               rtol=1e-5, atol=1e-4)


def test_the_cap_prices_compared_above_are_the_derivatives_of_the_optimum():
    """One more percentage point of every cap (max_share + 0.01) moves the objective by the sum of the caps'
    prices, from both sides, so those prices are unique and the comparison above is meaningful."""
    data = _generated(True, cvar_weight=0)
    base = so.solve(data, method="monolithic")
    total = base.shadow_prices.loc[base.shadow_prices["rule"] == "origin cap", "value"].sum()
    step = 1e-4
    moved = []
    for sign in (1, -1):
        tables = {k: v.copy() for k, v in data.tables.items()}
        tables["origin_caps"]["max_share"] = 0.45 + sign * step
        moved.append(so.solve(so.from_frames(tables), method="decomposed").objective)
    assert (base.objective - moved[0]) / (100 * step) == pytest.approx(total, rel=1e-3)
    assert (moved[1] - base.objective) / (100 * step) == pytest.approx(total, rel=1e-3)


def test_the_same_answer_in_process_and_with_one_or_two_workers():
    data = so.from_frames(hedge())
    answers = []
    for workers in (0, 1, 2):
        result = so.solve(data, method="decomposed", workers=workers)
        answers.append((result.objective, tuple(result.plan["quantity"]),
                        tuple(result.scenario_costs.iloc[:, 2])))
    assert answers[0][0] == pytest.approx(39.2, rel=1e-9)
    for other in answers[1:]:
        assert other[0] == pytest.approx(answers[0][0], rel=1e-12)
        np.testing.assert_allclose(other[1], answers[0][1], atol=1e-9)
        np.testing.assert_allclose(other[2], answers[0][2], rtol=1e-9)


def test_the_blocks_are_the_materials():
    data = _generated(False)
    from optimizer.model import build
    from optimizer.solving.solver import compile_lp

    built = build(data)
    lp, form = compile_lp(built.model)
    blocks = decomposition.split_model(lp, form)
    assert blocks.count == len(data.materials)
    material_of = {}
    for b, columns in enumerate(blocks.columns):
        for j in columns:
            var = form.columns[j]  # unmet_demand[m, n], inventory[m, n]; the others [supplier, m, ...]
            index = var.index()
            material = index[0] if var.parent_component().name in ("unmet_demand", "inventory") else index[1]
            material_of.setdefault(b, set()).add(material)
    assert all(len(found) == 1 for found in material_of.values())


@pytest.mark.parametrize("edges, labels", [
    # {0, 2, 3}, {1} alone, {4, 5}: numbered by each component's lowest node
    ([(4, 5), (0, 2), (2, 3)], [0, 1, 0, 0, 2, 2]),
    # a chain listed from its far end (the lowest node is reached only through the others), and 6 alone
    ([(5, 4), (4, 3), (3, 2), (2, 1), (1, 0)], [0, 0, 0, 0, 0, 0, 1]),
    # 0 and 1 meet only through 3; 2 and 4 together
    ([(3, 0), (3, 1), (2, 4)], [0, 0, 1, 0, 1]),
    ([], [0, 1, 2]),
])
def test_connected_components_by_hand(edges, labels):
    first = np.array([a for a, _ in edges], dtype=np.int64)
    second = np.array([b for _, b in edges], dtype=np.int64)
    assert decomposition.connected_components(len(labels), first, second).tolist() == labels


def test_auto_decomposes_from_the_measured_size():
    assert pipeline.choose_method("auto", pipeline.DECOMPOSE_FROM) == "decomposed"
    assert pipeline.choose_method("auto", pipeline.DECOMPOSE_FROM - 1) == "monolithic"
    with pytest.raises(ValueError, match="method must be one of"):
        so.solve(so.from_frames(hedge()), method="fast")


def test_a_block_that_highs_refuses_is_reported_as_refused_not_as_an_answer():
    """Two independent one-column blocks; the second has a matrix value beyond what HiGHS takes (above its
    large_matrix_value, 1e15), so passModel refuses it: the whole answer must be refused, not optimal."""
    from scipy.sparse import csc_matrix

    from optimizer.solving.solver import REFUSED, StandardLP

    def lp_with(value):
        matrix = csc_matrix(np.array([[1.0, 0.0], [0.0, value]]))
        return StandardLP(np.array([1.0, 1.0]), 0.0, np.zeros(2), np.full(2, np.inf), np.array([1.0, 1.0]),
                          np.full(2, np.inf), matrix)

    blocks = decomposition.Blocks(np.array([], dtype=int), np.array([], dtype=int),
                                  [np.array([0]), np.array([1])], [np.array([0]), np.array([1])])
    good = decomposition.solve_blocks(lp_with(2.0), blocks)
    assert good.status == "optimal" and good.objective == pytest.approx(1.0 + 0.5)  # x0 >= 1, 2 x1 >= 1
    refused = decomposition.solve_blocks(lp_with(1e16), blocks)
    assert refused.status == decomposition.REFUSED_BLOCK and refused.objective is None
    assert "refused" in REFUSED


FORKED = """
import json, sys
import numpy as np
import optimizer as so
from optimizer.solving import decomposition

forked = []
real = decomposition._Forked.map
def counted(self, fn, items, shared=None):
    forked.append(len(items))
    return real(self, fn, items, shared)
decomposition._Forked.map = counted
decomposition.FORK_FROM = 0  # a small instance forks too
data = so.read_instance(sys.argv[1])
here = so.solve(data, method="decomposed", workers=0)
assert not forked
there = so.solve(data, method="decomposed")  # unasked: the blocks in forked processes
same = (here.objective == there.objective and here.plan.equals(there.plan) and here.flows.equals(there.flows)
        and here.shadow_prices.equals(there.shadow_prices))
print(json.dumps({"forked": forked, "same": bool(same), "objective": here.objective}))
"""


@pytest.mark.parametrize("settings", [{}, {"cvar_weight": 0}])
def test_blocks_solved_in_forked_processes_give_the_same_answer_as_in_process(tmp_path, settings):
    """In a fresh process (forking is left out while other threads run, as in this one); with CVaR by column
    generation (rounds of warm re-solves), without it block by block."""
    import json
    import subprocess
    import sys

    data = _generated(False, **settings)
    folder = tmp_path / "instance"
    folder.mkdir()
    for sheet, table in data.tables.items():
        table.to_csv(folder / f"{sheet}.csv", index=False)
    out = subprocess.run([sys.executable, "-c", FORKED, str(folder)], check=True, capture_output=True, text=True,
                         timeout=300)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["forked"] and all(n >= 2 for n in answer["forked"])  # every round, in the forked processes
    assert answer["same"]
    assert answer["objective"] == pytest.approx(so.solve(data, method="monolithic").objective, rel=1e-7)
