"""The disruption model: its validation messages, and scenarios sampled from it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optimizer as so
from optimizer.analysis.sampling import sample_effects, sampled_tables
from optimizer.model.tree import build_tree

from conftest import make, supplier


def base(**sheets) -> dict:
    """Two materials over four periods; a Chinese contract, a European spot market."""
    frames = make(
        periods=[{"period": f"t{i}"} for i in range(1, 5)],
        materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 1},
                   {"material": "Tb", "shortage_penalty": 3000, "holding_cost": 1}],
        demand=[{"material": m, "period": f"t{i}", "quantity": 100} for m in ("Dy", "Tb") for i in range(1, 5)],
        suppliers=[supplier("China", "contract", "China"), supplier("Europe", "spot", "France"),
                   supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": s, "material": m, "price": p} for m in ("Dy", "Tb")
                for s, p in (("China", 10), ("Europe", 40), ("Lynas", 30))],
    )
    frames.update(sheets)
    return frames


MODEL = [
    {"event": "Dy licences", "group": "controls", "material": "Dy", "country": "China", "probability": 0.3,
     "earliest_start": "t2", "duration_min": 1, "duration_max": 3, "availability_min": 0.1, "availability_max": 0.5},
    {"event": "Tb licences", "group": "controls", "material": "Tb", "country": "China", "probability": 0.3,
     "earliest_start": "t2", "duration_min": 2, "duration_max": 2, "availability_min": 0.0, "availability_max": 0.2},
    {"event": "Europe price spike", "group": "controls", "supplier": "Europe", "probability": 0.3,
     "earliest_start": "t2", "duration_min": 1, "duration_max": 3, "price_multiplier_min": 2,
     "price_multiplier_max": 4},
    {"event": "Lynas outage", "supplier": "Lynas", "probability": 0.1, "duration_min": 1, "duration_max": 2,
     "availability_min": 0, "availability_max": 0},
]


def data(model=MODEL, **sheets):
    return so.from_frames(base(disruption_model=model, **sheets))


def test_the_same_seed_gives_the_same_scenarios_and_another_seed_others():
    first, _ = sampled_tables(data(), 300, seed=11)
    again, _ = sampled_tables(data(), 300, seed=11)
    other, _ = sampled_tables(data(), 300, seed=12)
    assert first["scenarios"].equals(again["scenarios"]) and first["disruptions"].equals(again["disruptions"])
    assert not first["disruptions"].equals(other["disruptions"])


def test_probabilities_sum_to_one_and_identical_histories_are_one_scenario():
    tables, _ = sampled_tables(data(), 400, seed=3)
    scenarios, disruptions = tables["scenarios"], tables["disruptions"]
    assert math.isclose(scenarios["probability"].sum(), 1.0, abs_tol=1e-12)
    assert (scenarios["probability"] * 400).round(9).apply(float.is_integer).all()  # counts of futures
    columns = [c for c in disruptions.columns if c not in ("scenario", "source")]
    histories = [tuple(map(tuple, group[columns].astype(str).to_numpy()))
                 for _, group in disruptions.groupby("scenario")]
    assert len(set(histories)) == len(histories)  # no two scenarios share their whole history
    calm = set(scenarios["scenario"]) - set(disruptions["scenario"])
    assert len(calm) == 1  # every undisrupted future is one scenario
    # with P(no onset in any period) = 0.7^3 * 0.9^4 for these groups
    calm_share = float(scenarios.set_index("scenario").loc[calm.pop(), "probability"])
    expected = 0.7 ** 3 * 0.9 ** 4
    assert abs(calm_share - expected) <= 4 * math.sqrt(expected * (1 - expected) / 400)


def test_sampled_scenarios_share_prefixes_in_the_tree():
    sampled = so.sample_instance(data(), 200, seed=5)
    tree = build_tree(sampled)
    per_period = tree.nodes.groupby("period_index").size()
    assert per_period.iloc[0] < len(sampled.scenarios)  # t1: only Lynas can have started
    assert per_period.is_monotonic_increasing
    assert per_period.iloc[-1] == len(sampled.scenarios)


def test_events_of_a_group_start_together_and_severities_move_together():
    effects = sample_effects(data(), 500, seed=2)
    starts: dict = {}
    for f, e, s, a, g in zip(effects.future, effects.event, effects.start, effects.availability, effects.multiplier):
        starts.setdefault((f, s), {})[e] = (a, g)
    for events in starts.values():
        group = {e for e in events if e in (0, 1, 2)}
        assert group in (set(), {0, 1, 2})
        if group:
            # one severity draw: availability at the same point of each range, multiplier likewise
            severity = (0.5 - events[0][0]) / 0.4
            assert events[1][0] == pytest.approx(round(0.2 - severity * 0.2, 2), abs=0.011)
            assert events[2][1] == pytest.approx(round(2 + severity * 2, 2), abs=0.03)


def test_onset_frequencies_match_the_model():
    """Stated tolerance: each observed frequency within 4 binomial standard deviations of the model's."""
    n = 4000
    effects = sample_effects(data(), n, seed=8)
    first_dy = {}
    for f, e, s in zip(effects.future, effects.event, effects.start):
        if e == 0:
            first_dy.setdefault(int(f), int(s))
    onset_t2 = sum(1 for s in first_dy.values() if s == 1) / n
    assert abs(onset_t2 - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / n)
    assert all(s >= 1 for s in first_dy.values())  # never before the earliest start
    lynas_t1 = sum(1 for f, e, s in zip(effects.future, effects.event, effects.start) if e == 3 and s == 0) / n
    assert abs(lynas_t1 - 0.1) <= 4 * math.sqrt(0.1 * 0.9 / n)
    # durations: Dy licences uniform on 1..3, cut at the horizon only after t2
    lengths = [t - s + 1 for e, s, t in zip(effects.event, effects.start, effects.end) if e == 0 and s == 1]
    for d in (1, 2, 3):
        share = lengths.count(d) / len(lengths)
        assert abs(share - 1 / 3) <= 4 * math.sqrt(2 / 9 / len(lengths))


def test_sample_command_writes_an_instance_that_solves(tmp_path):
    from optimizer.interfaces.cli import main

    source = tmp_path / "model"
    so.write_instance({k: v.reset_index(drop=True) for k, v in data().tables.items()}, source)
    assert main(["sample", str(source), "--scenarios", "30", "--seed", "4", str(tmp_path / "out.xlsx")]) == 0
    sampled = so.read_instance(tmp_path / "out.xlsx")
    expected, _ = sampled_tables(data(), 30, seed=4)
    assert list(sampled.scenarios.index) == list(expected["scenarios"]["scenario"])
    assert so.solve(sampled).optimal


def test_scenario_specific_service_levels_are_left_out_with_a_note():
    frames = dict(service_levels=[{"min_fill_rate": 0.5}, {"scenario": "base", "min_fill_rate": 0.9}])
    tables, notes = sampled_tables(data(**frames), 10, seed=1)
    assert notes == ["1 service_levels row(s) name a scenario of the instance and do not apply to sampled "
                     "scenarios; they were left out."]
    assert len(tables["service_levels"]) == 1


def test_sampling_without_a_model_is_an_input_error():
    with pytest.raises(so.InputError) as error:
        sampled_tables(so.from_frames(base()), 10, seed=1)
    assert str(error.value) == ("The input has a problem: sheet 'disruption_model': Sampling futures needs a "
                                "disruption model; add a sheet 'disruption_model' with one row per event (see "
                                "docs/model.md, 'Disruption model').")


BAD_ROWS = [
    ({"probability": 1.5}, "probability",
     "'1.5' is outside the allowed range; enter a value between 0 and 1 (for example 0.6 for 60%)."),
    ({"duration_min": 0.5}, "duration_min", "'0.5' is not a whole number of periods of at least 1; enter 1, 2, 3, ..."),
    ({"duration_min": 3, "duration_max": 2}, "duration_max", "duration_max '2' is below duration_min '3'; swap them."),
    ({"availability_min": 0.6, "availability_max": 0.5}, "availability_max",
     "availability_max '0.5' is below availability_min '0.6'; swap them."),
    ({"availability_max": 1.2}, "availability_max",
     "'1.2' is outside the allowed range; enter a value between 0 and 1 (for example 0.6 for 60%)."),
    ({"price_multiplier_min": -1}, "price_multiplier_min", "'-1' is negative; enter 0 or more."),
    ({"price_multiplier_min": 3, "price_multiplier_max": 2}, "price_multiplier_max",
     "price_multiplier_max '2' is below price_multiplier_min '3'; swap them."),
    ({"earliest_start": "t9"}, "earliest_start",
     "unknown period 't9'; use a period listed in sheet 'periods': 't1', 't2', 't3', 't4'."),
    ({"supplier": "Iluka"}, "supplier",
     "unknown supplier 'Iluka'; use a supplier listed in sheet 'suppliers': 'China', 'Europe', 'Lynas'."),
    ({"country": "china"}, "country",
     "unknown country 'china'; did you mean 'China'? Countries are matched exactly as the suppliers sheet "
     "writes them."),
    ({"stage": "mine"}, "stage",
     "unknown stage 'mine'; use one of 'mining', 'refining' (the '<stage>_country' columns of suppliers)."),
    ({"duration_min": None}, "duration_min",
     "the cell is blank but 'duration_min' is required; fill it in (for example 2)."),
]


@pytest.mark.parametrize("change, column, message", BAD_ROWS)
def test_bad_disruption_model_rows_have_exact_messages(change, column, message):
    row = {"event": "ban", "country": "China", "probability": 0.1, "duration_min": 1, **change}
    with pytest.raises(so.InputError) as error:
        so.from_frames(base(disruption_model=[row]))
    assert [str(p) for p in error.value.problems] == [f"sheet 'disruption_model', row 2, column '{column}': {message}"]


def test_events_of_a_group_must_agree_on_probability_and_start():
    rows = [{"event": "a", "group": "g", "probability": 0.1, "duration_min": 1},
            {"event": "b", "group": "g", "probability": 0.2, "duration_min": 1, "earliest_start": "t2"},
            {"event": "a", "probability": 0.1, "duration_min": 1}]
    with pytest.raises(so.InputError) as error:
        so.from_frames(base(disruption_model=rows))
    assert [str(p) for p in error.value.problems] == [
        "sheet 'disruption_model', row 3, column 'earliest_start': the events of group 'g' start together, but this "
        "row gives 't2' and row 2 gives (blank); make them equal.",
        "sheet 'disruption_model', row 3, column 'probability': the events of group 'g' start together, but this "
        "row gives '0.2' and row 2 gives '0.1'; make them equal.",
        "sheet 'disruption_model', row 4, column 'event': duplicate of row 2 (event=a); keep one of the two rows.",
    ]
