"""The stress test: fixed plans played through futures, each figure checked against a hand calculation,
an independent solve, or an inequality that must hold."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimizer as so
from optimizer.analysis.stress import replication_seeds
from optimizer.interfaces.cli import main

from conftest import make, supplier
from test_sampling import MODEL, base

ROOT = Path(__file__).resolve().parents[1]


def calm_instance(**sheets) -> dict:
    """One scenario, no disruptions: a take-or-pay contract, spot, a stockpile, inventory that can be carried."""
    frames = make(
        periods=[{"period": f"t{i}"} for i in range(1, 4)],
        materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 1, "initial_inventory": 20}],
        demand=[{"material": "Dy", "period": f"t{i}", "quantity": q} for i, q in ((1, 100), (2, 150), (3, 90))],
        suppliers=[supplier("China", "contract", "China"), supplier("Europe", "spot", "France"),
                   supplier("Vault", "stockpile", "United States")],
        offers=[{"supplier": "China", "material": "Dy", "price": 10, "capacity": 110, "min_quantity": 30},
                {"supplier": "Europe", "material": "Dy", "price": 40},
                {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 50, "reservation_fee": 2}],
        origin_caps=[{"country": "China", "max_share": 0.9}],
    )
    frames.update(sheets)
    return frames


def test_with_one_calm_scenario_every_policy_gives_the_plans_own_cost():
    frames = calm_instance(disruption_model=[{"event": "never", "country": "China", "probability": 0,
                                              "duration_min": 1, "availability_min": 0}])
    data = so.from_frames(frames)
    result = so.solve(data)
    plan = so.plan_of(result, "optimised")
    cost = result.headline["expected_cost"]
    for stressed in (so.stress(data, [plan], own_scenarios=True, workers=0),
                     so.stress(data, [plan], futures=5, seed=1, workers=0)):
        costs = stressed.futures["cost_USD"].to_numpy()
        assert costs == pytest.approx(np.full(len(costs), cost), rel=1e-9)
        assert not stressed.futures["any_shortfall"].any() and (stressed.futures["rules_broken"] == 0).all()


def hand_plan(contracts: dict, reservations: dict) -> so.Plan:
    return so.Plan("by hand", contracts, reservations)


def test_a_ban_after_a_small_reservation_costs_what_it_costs_on_paper():
    """t1, t2, demand 100 each; China contract 100 a period at 10, Vault reservation 50 (fee 2, draw at 15),
    Europe spot at 40. In 'ban' China delivers nothing in t2 and Europe costs x2 there.

    Re-planning cannot see the ban in t1: 100 x 10 + fee 100; in t2 the 50 reserved at 15 (750) and 50 from
    Europe at 80 (4,000): 5,850. Perfect foresight buys the 50 from Europe in t1 at 40 and holds them a
    period (2,000 + 50): 1,000 + 100 + 2,050 + 750 = 3,900."""
    frames = make(
        periods=[{"period": "t1"}, {"period": "t2"}],
        materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 1}],
        demand=[{"material": "Dy", "period": t, "quantity": 100} for t in ("t1", "t2")],
        suppliers=[supplier("China", "contract", "China"), supplier("Europe", "spot", "France"),
                   supplier("Vault", "stockpile", "United States")],
        offers=[{"supplier": "China", "material": "Dy", "price": 10, "capacity": 200},
                {"supplier": "Europe", "material": "Dy", "price": 40},
                {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 100, "reservation_fee": 2}],
        scenarios=[{"scenario": "ban", "probability": 1}],
        disruptions=[{"scenario": "ban", "country": "China", "start": "t2", "availability": 0},
                     {"scenario": "ban", "supplier": "Europe", "start": "t2", "price_multiplier": 2}],
    )
    plan = hand_plan({("China", "Dy", "t1"): 100, ("China", "Dy", "t2"): 100}, {("Vault", "Dy"): 50})
    result = so.stress(so.from_frames(frames), [plan], own_scenarios=True, workers=0)
    cost = result.futures.set_index("policy")["cost_USD"]
    assert cost["re-planning"] == pytest.approx(5850)
    assert cost["perfect foresight"] == pytest.approx(3900)


def sampled_ban(duration_max: int) -> so.SourcingData:
    """t1..t3, demand 100 each; a Chinese contract; Europe spot at most 60 a period, at 40 (50 in t3); Vault
    draws at 15; a ban on China that starts in t2 for sure and lasts 1 to duration_max periods (and, since it
    starts with probability 1 whenever it is not under way, is on again in t3 if it ended)."""
    frames = make(
        periods=[{"period": f"t{i}"} for i in range(1, 4)],
        materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 1}],
        demand=[{"material": "Dy", "period": f"t{i}", "quantity": 100} for i in range(1, 4)],
        suppliers=[supplier("China", "contract", "China"), supplier("Europe", "spot", "France"),
                   supplier("Vault", "stockpile", "United States")],
        offers=[{"supplier": "China", "material": "Dy", "price": 10, "capacity": 100},
                {"supplier": "Europe", "material": "Dy", "price": 40, "capacity": 60},
                {"supplier": "Europe", "material": "Dy", "period": "t3", "price": 50, "capacity": 60},
                {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 100, "reservation_fee": 2}],
        disruption_model=[{"event": "ban", "country": "China", "probability": 1, "earliest_start": "t2",
                           "duration_min": 1, "duration_max": duration_max, "availability_min": 0,
                           "availability_max": 0}],
    )
    return so.from_frames(frames)


BAN_PLAN = {("China", "Dy", f"t{i}"): 100 for i in range(1, 4)}


def test_replanning_expects_a_ban_to_last_its_expected_remaining_duration():
    """Ban lasting 1 or 2 periods: in t2 the buyer expects round(1.5) = 2 periods, so it needs 200 from
    Europe (at most 60 a period) and the 100 reserved: Europe 60 at 40 and Vault 40 in t2 (3,000), Vault 60
    and Europe 40 at 50 in t3 (2,900); with t1's contract (1,000) and the fee (200): 7,100 in every future.
    Perfect foresight also buys 40 from Europe in t1 at 40 and holds them (1,640), 60 in t2 (2,400), the
    Vault's 100 in t3 (1,500): 1,000 + 200 + 5,540 = 6,740."""
    plan = hand_plan(BAN_PLAN, {("Vault", "Dy"): 100})
    result = so.stress(sampled_ban(2), [plan], futures=20, seed=3, workers=0)
    costs = result.futures.groupby("policy")["cost_USD"]
    assert costs.min()["re-planning"] == pytest.approx(7100) and costs.max()["re-planning"] == pytest.approx(7100)
    assert costs.min()["perfect foresight"] == pytest.approx(6740)
    assert costs.max()["perfect foresight"] == pytest.approx(6740)


def test_a_ban_expected_to_end_at_once_leaves_the_buyer_short():
    """Ban lasting exactly 1 period (and on again in t3): in t2 the buyer expects it to end, draws the whole
    reservation (1,500); in t3 Europe's 60 at 50 (3,000) and 40 unmet at 1,000: 1,000 + 200 + 1,500 + 3,000
    + 40,000 = 45,700. Perfect foresight: 6,740 as above."""
    plan = hand_plan(BAN_PLAN, {("Vault", "Dy"): 100})
    result = so.stress(sampled_ban(1), [plan], futures=5, seed=1, workers=0)
    cost = result.futures.groupby("policy")["cost_USD"]
    assert cost.min()["re-planning"] == pytest.approx(45700) and cost.max()["re-planning"] == pytest.approx(45700)
    assert cost.max()["perfect foresight"] == pytest.approx(6740)
    assert result.statistic("by hand", "re-planning", "probability_of_shortfall") == 1.0
    fill = result.materials.set_index("policy").loc["re-planning", "mean_fill_rate"]
    assert fill == pytest.approx(1 - 40 / 300)


def sampled_data() -> so.SourcingData:
    return so.from_frames(base(disruption_model=MODEL, origin_caps=[{"country": "China", "max_share": 0.7}],
                               service_levels=[{"min_fill_rate": 0.8}],
                               offers=[{"supplier": s, "material": m, "price": p, "capacity": c}
                                       for m in ("Dy", "Tb")
                                       for s, p, c in (("China", 10, 120), ("Europe", 40, 60), ("Lynas", 30, 40))]
                               + [{"supplier": "Vault", "material": m, "price": 20, "reserve_limit": 80,
                                   "reservation_fee": 3} for m in ("Dy", "Tb")],
                               suppliers=[supplier("China", "contract", "China"), supplier("Europe", "spot", "France"),
                                          supplier("Lynas", "contract", "Malaysia"),
                                          supplier("Vault", "stockpile", "United States")]))


def test_perfect_foresight_is_never_dearer_than_replanning():
    data = sampled_data()
    plans = [so.plan_of(so.solve(data), "five"), so.plan_of(so.solve(so.sample_instance(data, 40, 2)), "sampled")]
    result = so.stress(data, plans, futures=150, seed=9, workers=0)
    futures = result.futures
    wide = futures.pivot_table(index=["plan", "future"], columns="policy",
                               values=["cost_USD", "rules_broken"])
    clean = (wide["rules_broken"] == 0).all(axis=1)
    assert clean.mean() > 0.5
    gap = wide["cost_USD"]["re-planning"] - wide["cost_USD"]["perfect foresight"]
    assert (gap[clean] >= -1e-6 * wide["cost_USD"]["re-planning"][clean]).all()
    assert (gap > 1).any()  # the futures do bite
    for plan in ("five", "sampled"):
        assert (result.statistic(plan, "perfect foresight", "mean_penalised_cost")
                <= result.statistic(plan, "re-planning", "mean_penalised_cost") + 1e-6)


def test_on_its_own_scenarios_perfect_foresight_is_never_dearer_than_the_optimiser():
    frames = base(scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "cut", "probability": 0.3},
                             {"scenario": "late", "probability": 0.2}],
                  disruptions=[{"scenario": "cut", "country": "China", "material": "Dy", "start": "t2",
                                "availability": 0.2},
                               {"scenario": "late", "supplier": "Lynas", "start": "t3", "availability": 0}],
                  service_levels=[{"min_fill_rate": 0.9}])
    data = so.from_frames(frames)
    assert data.settings.cvar_weight == 0
    result = so.solve(data)
    stressed = so.stress(data, [so.plan_of(result)], own_scenarios=True, workers=0)
    foresight = stressed.futures[stressed.futures["policy"] == "perfect foresight"].set_index("future")["cost_USD"]
    optimiser = result.scenario_costs.set_index("scenario")["cost"]
    assert (foresight <= optimiser.reindex(foresight.index) + 1e-6).all()
    expected = float(np.dot(data.scenarios["probability"], foresight.reindex(data.scenarios.index)))
    assert expected <= result.headline["expected_cost"] + 1e-6
    assert stressed.statistic("plan", "perfect foresight", "cost_mean") == pytest.approx(expected)


def test_summary_statistics_match_the_per_future_costs():
    data = sampled_data()
    result = so.stress(data, futures=200, seed=4, workers=0)
    cost = np.sort(result.futures.query("policy == 're-planning'")["cost_USD"].to_numpy())
    assert result.statistic("optimised plan", "re-planning", "cost_mean") == pytest.approx(cost.mean())
    assert result.statistic("optimised plan", "re-planning", "cost_p90") == cost[179]  # the 180th of 200
    tail = cost[190:].mean()  # CVaR 95% of 200 equally likely futures: the mean of the worst 10
    assert result.statistic("optimised plan", "re-planning", "cost_cvar_0.95") == pytest.approx(tail)
    row = result.summary.set_index(["policy", "statistic"]).loc[("re-planning", "cost_mean")]
    half = 1.959963984540054 * cost.std(ddof=1) / np.sqrt(200)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((cost.mean() - half, cost.mean() + half))


def test_the_same_seed_gives_the_same_numbers_in_any_blocks_and_in_a_local_cluster():
    data = sampled_data()
    plan = so.plan_of(so.solve(data))
    alone = so.stress(data, [plan], futures=60, seed=5, workers=0)
    blocks = so.stress(data, [plan], futures=60, seed=5, workers=0, block=7)
    cluster = so.stress(data, [plan], futures=60, seed=5, workers=2)
    assert cluster.workers == 2
    for other in (blocks, cluster):
        pd.testing.assert_frame_equal(alone.futures, other.futures)
        pd.testing.assert_frame_equal(alone.summary, other.summary)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_running_dask_scheduler_reached_with_scheduler_gives_the_same_numbers(tmp_path, capsys):
    data = sampled_data()
    instance = so.write_instance({k: v.reset_index(drop=True) for k, v in data.tables.items()}, tmp_path / "inst")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    processes = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        code = main(["stress", str(instance), "--futures", "40", "--seed", "6", "--scheduler", address, "--json",
                     "-o", str(tmp_path / "stress.xlsx")])
        printed = json.loads(capsys.readouterr().out)
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    assert code == 0
    alone = so.stress(data, futures=40, seed=6, workers=0)
    expected = json.loads(alone.summary.to_json(orient="records"))
    got = printed["summary"]
    assert [(r["plan"], r["policy"], r["statistic"]) for r in got] == \
        [(r["plan"], r["policy"], r["statistic"]) for r in expected]
    assert [r["value"] for r in got] == pytest.approx([r["value"] for r in expected], rel=1e-12, abs=1e-9)


def test_a_plan_workbook_is_read_back_as_the_plan_and_checked(tmp_path):
    data = sampled_data()
    result = so.solve(data)
    path = so.write_plan(result, tmp_path / "plan.xlsx")
    read = so.read_plan(path, data)
    direct = so.plan_of(result)
    assert read.contracts == pytest.approx(direct.contracts) and read.reservations == pytest.approx(direct.reservations)
    other = so.from_frames(base())  # no Vault, no capacities
    with pytest.raises(so.InputError) as error:
        so.read_plan(path, other)
    assert "plan.xlsx: Plan', row " in str(error.value)
    assert "the instance has no stockpile offer of 'Vault' for 'Dy'." in str(error.value)


def test_the_command_writes_workbook_json_and_figure(tmp_path, capsys):
    data = sampled_data()
    instance = so.write_instance({k: v.reset_index(drop=True) for k, v in data.tables.items()}, tmp_path / "inst")
    plan = tmp_path / "plan.xlsx"
    assert main(["solve", str(instance), "-o", str(plan)]) == 0
    capsys.readouterr()
    code = main(["stress", str(instance), "--plan", str(plan), "--futures", "30", "--seed", "2", "--workers", "0",
                 "-o", str(tmp_path / "stress.xlsx"), "--png", str(tmp_path / "stress.png")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Stress test over 30 futures (seed 2)" in out and f"Stress test written to {tmp_path / 'stress.xlsx'}" in out
    sheets = pd.read_excel(tmp_path / "stress.xlsx", sheet_name=None, engine="calamine")
    assert {"Summary", "Rules", "Futures", "Future materials", "Histogram"} <= set(sheets)
    assert len(sheets["Futures"]) == 60
    assert sheets["Histogram"].iloc[:, 3:].sum().to_numpy() == pytest.approx(np.ones(2))
    assert (tmp_path / "stress.png").read_bytes()[:4] == b"\x89PNG"
    code = main(["stress", str(instance), "--own-scenarios", "--workers", "0", "--json",
                 "-o", str(tmp_path / "own.xlsx")])
    printed = capsys.readouterr().out
    assert code == 0 and "NaN" not in printed
    payload = json.loads(printed)
    assert payload["own_scenarios"] is True and payload["summary"][0]["ci_low"] is None


def test_lower_bound_is_the_mean_of_independent_sampled_optima():
    data = so.from_frames(base(disruption_model=MODEL))  # no fill-rate floor: the sampled problems are as solved
    table = so.lower_bound(data, 3, 15, seed=2, workers=0)
    optima = [so.solve(so.sample_instance(data, 15, s)).objective for s in replication_seeds(2, 3)]
    bound = table.set_index("measure").loc["lower bound"]
    assert bound["value"] == pytest.approx(np.mean(optima))
    assert bound["ci_low"] < bound["value"] < bound["ci_high"]


def test_the_lower_bound_leaves_out_fill_rate_floors_no_plan_could_meet():
    """Demand 100 a period; China (the only supplier, at most 100 a period) delivers nothing for sure in t2: no
    plan meets a 90% floor, yet every sampled problem has an optimum (shortages at their penalty)."""
    frames = make(periods=[{"period": "t1"}, {"period": "t2"}],
                  demand=[{"material": "Dy", "period": t, "quantity": 100} for t in ("t1", "t2")],
                  suppliers=[supplier("China", "contract", "China")],
                  offers=[{"supplier": "China", "material": "Dy", "price": 10, "capacity": 100}],
                  service_levels=[{"min_fill_rate": 0.9}],
                  disruption_model=[{"event": "ban", "country": "China", "probability": 1, "earliest_start": "t2",
                                     "duration_min": 1, "availability_min": 0, "availability_max": 0}])
    table = so.lower_bound(so.from_frames(frames), 2, 3, seed=1, workers=0)
    # t1: 100 at 10; t2: 100 unmet at 1,000
    assert table.set_index("measure").loc["lower bound", "value"] == pytest.approx(1000 + 100_000)


def test_with_nothing_uncertain_the_lower_bound_is_the_plans_cost_and_the_gap_zero():
    frames = calm_instance(disruption_model=[{"event": "never", "country": "China", "probability": 0,
                                              "duration_min": 1, "availability_min": 0}])
    data = so.from_frames(frames)
    result = so.stress(data, futures=10, seed=1, workers=0, lower_bound_replications=2, lower_bound_scenarios=5)
    rows = result.lower_bound.set_index("measure")
    assert rows.loc["lower bound", "value"] == pytest.approx(so.solve(data).objective)
    assert rows.loc["gap to the lower bound", "value"] == pytest.approx(0, abs=1e-6)


def test_stress_takes_the_solve_method_and_refuses_an_unknown_one(tmp_path, capsys):
    """Without --plan the instance is solved first: by material or whole, the plan (and so every stressed
    number) is the same; a method that does not exist is an error of the option, before anything runs."""
    data = so.from_frames(base(disruption_model=MODEL))
    by_method = {m: so.stress(data, futures=40, seed=3, workers=0, method=m).summary for m in ("monolithic", "decomposed")}
    a, b = by_method["monolithic"], by_method["decomposed"]
    assert list(a["statistic"]) == list(b["statistic"])
    assert a["value"].to_numpy(dtype=float) == pytest.approx(b["value"].to_numpy(dtype=float), rel=1e-6, nan_ok=True)
    code = main(["stress", "--method", "fastest", "-o", str(tmp_path / "s.xlsx")])
    assert code == 2 and "option --method 'fastest' is not a method" in capsys.readouterr().err
    assert not (tmp_path / "s.xlsx").exists()


def test_the_paired_difference_of_two_plans_by_hand():
    """Plan A costs 1, 2, 3 and plan B 2, 2, 1 in three equally likely futures: A minus B is -1, 0, 2, mean 1/3,
    sample standard deviation sqrt(7/3), so the 95% interval is 1/3 +- 1.96 sqrt(7/3) / sqrt(3); A is cheaper,
    the same and dearer in a third of the futures each."""
    import math

    import pandas as pd

    from optimizer.analysis.stress import StressResult, paired_difference

    futures = pd.DataFrame([{"plan": plan, "policy": "re-planning", "future": f, "probability": 1 / 3, "cost_USD": c}
                            for plan, costs in (("A", (1, 2, 3)), ("B", (2, 2, 1))) for f, c in enumerate(costs)])
    empty = pd.DataFrame()
    result = StressResult(summary=empty, materials=empty, rules=empty, futures=futures, future_materials=empty,
                          n_futures=3, plans=["A", "B"])
    table = paired_difference(result, "A", "B").set_index("measure")
    mean = table.loc["mean cost of A minus B"]
    half = 1.96 * math.sqrt(7 / 3) / math.sqrt(3)
    assert mean["value"] == pytest.approx(1 / 3)
    assert (mean["ci_low"], mean["ci_high"]) == pytest.approx((1 / 3 - half, 1 / 3 + half))
    for label in ("A costs less", "the same cost", "B costs less"):
        assert table.loc[f"share of futures: {label}", "value"] == pytest.approx(1 / 3)
    assert set(table["policy"]) == {"re-planning"}  # a policy not played is left out
    with pytest.raises(ValueError):
        paired_difference(result, "A", "C")


def test_two_plans_from_the_command_line_are_compared_future_by_future(tmp_path, capsys):
    """The plan of the instance and a dearer plan with no Vault reservation, on the same 30 futures: the
    terminal, the JSON and the workbook give the mean difference read back from the Futures sheet."""
    data = sampled_data()
    instance = so.write_instance({k: v.reset_index(drop=True) for k, v in data.tables.items()}, tmp_path / "inst")
    plain, other = tmp_path / "plain.xlsx", tmp_path / "other.xlsx"
    assert main(["solve", str(instance), "-o", str(plain)]) == 0
    assert main(["solve", str(instance), "--scale-price", "Vault=3", "-o", str(other)]) == 0
    capsys.readouterr()
    args = ["stress", str(instance), "--plan", str(plain), "--plan", str(other), "--futures", "30", "--seed", "2",
            "--workers", "0", "-o", str(tmp_path / "stress.xlsx")]
    assert main(args) == 0
    out = capsys.readouterr().out
    futures = pd.read_excel(tmp_path / "stress.xlsx", sheet_name="Futures", engine="calamine")
    cost = next(c for c in futures.columns if str(c).lower().startswith("cost"))
    plan, policy = futures.columns[0], futures.columns[1]
    names = list(dict.fromkeys(futures[plan]))
    assert len(names) == 2
    replanned = futures[futures[policy] == "re-planning"]
    gap = (replanned[replanned[plan] == names[1]][cost].to_numpy()
           - replanned[replanned[plan] == names[0]][cost].to_numpy())
    assert np.abs(gap).max() > 0  # the plans differ
    assert f"Each plan against {names[0]}, future by future" in out
    assert main(args[:-2] + ["--json", "-o", str(tmp_path / "again.xlsx")]) == 0
    payload = json.loads(capsys.readouterr().out)
    mean = next(r for r in payload["differences"] if r["policy"] == "re-planning" and r["measure"].startswith("mean"))
    assert mean["plan"] == names[1] and mean["against"] == names[0]
    assert mean["value"] == pytest.approx(gap.mean(), rel=1e-9, abs=1e-6)
    assert mean["ci_low"] <= mean["value"] <= mean["ci_high"]
