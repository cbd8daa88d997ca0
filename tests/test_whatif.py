"""What-if cases and command-line overrides: each action, each bad edit with its exact message."""

from __future__ import annotations

import math

import pytest

import optimizer as so
from conftest import make, supplier
from optimizer.analysis.compare import compare
from optimizer.inputs.edits import Overrides, apply_case, case_edits

BASE = dict(
    periods=[{"period": "t1"}, {"period": "t2"}],
    demand=[{"material": "Dy", "period": "t1", "quantity": 100}, {"material": "Dy", "period": "t2", "quantity": 100}],
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia"),
               supplier("Project Vault", "stockpile", "United States")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30, "capacity": 40},
            {"supplier": "Lynas", "material": "Dy", "period": "t2", "price": 32, "capacity": 40},
            {"supplier": "Project Vault", "material": "Dy", "price": 15, "reserve_limit": 50,
             "reservation_fee": 2}],
    scenarios=[{"scenario": "calm", "probability": 0.6}, {"scenario": "ban", "probability": 0.4}],
    disruptions=[{"scenario": "ban", "country": "China", "start": "t2", "availability": 0}],
    origin_caps=[{"country": "China", "max_share": 0.7}],
    service_levels=[{"min_fill_rate": 0.5}],
)


def data_with(cases: list[dict]):
    return so.from_frames(make(**BASE, cases=cases))


def edited(cases: list[dict], name: str = "c"):
    data = data_with(cases)
    return apply_case(data, name, case_edits(data)[name])


def case_error(cases: list[dict]) -> list[str]:
    with pytest.raises(so.InputError) as caught:
        edited(cases)
    return [str(p) for p in caught.value.problems]


def test_scale_touches_only_matching_rows_and_keeps_blanks_blank():
    data = edited([{"case": "c", "sheet": "offers", "where": "supplier=Lynas", "column": "capacity",
                    "action": "scale", "value": 2}])
    capacity = data.offers["capacity"]
    assert capacity[("Lynas", "Dy", "t1")] == 80 and capacity[("Lynas", "Dy", "t2")] == 80
    assert capacity[("China refiners", "Dy", "t1")] == float("inf")


def test_where_with_several_conditions_and_a_blank_cell():
    data = edited([{"case": "c", "sheet": "offers", "where": "supplier=Lynas; period=", "column": "price",
                    "action": "set", "value": 25}])
    price = data.offers["price"]
    assert price[("Lynas", "Dy", "t1")] == 25 and price[("Lynas", "Dy", "t2")] == 32


def test_set_and_drop():
    data = edited([
        {"case": "c", "sheet": "origin_caps", "where": "country=China", "column": "max_share", "action": "set",
         "value": 0.4},
        {"case": "c", "sheet": "offers", "where": "supplier=Project Vault", "column": "supplier", "action": "drop"},
    ])
    assert data.origin_caps["max_share"].tolist() == [0.4]
    assert "Project Vault" not in data.offers.index.get_level_values("supplier")
    assert data.stockpiles.empty


@pytest.mark.parametrize("row, message", [
    ({"sheet": "offer"}, "sheet 'cases', row 2, column 'sheet': unknown sheet 'offer'; use one of periods, materials, "
     "demand, suppliers, offers, scenarios, disruptions, disruption_model, origin_caps, service_levels, supplier_caps, settings."),
    ({"column": "capacty"}, "sheet 'cases', row 2, column 'column': sheet 'offers' has no column 'capacty'; use one "
     "of capacity, material, min_quantity, period, price, reservation_fee, reserve_limit, supplier."),
    ({"where": "supplier=Lynsa"}, "sheet 'cases', row 2, column 'where': no row of sheet 'offers' matches "
     "'supplier=Lynsa'; check the names."),
    ({"where": "supplier Lynas"}, "sheet 'cases', row 2, column 'where': cannot read the condition 'supplier Lynas'; "
     "write column=value, several joined by ';'."),
    ({"where": "vendor=Lynas"}, "sheet 'cases', row 2, column 'where': sheet 'offers' has no column 'vendor' to match; "
     "use one of capacity, material, min_quantity, period, price, reservation_fee, reserve_limit, supplier."),
    ({"action": "double"}, "sheet 'cases', row 2, column 'action': unknown action 'double'; use set, scale or drop."),
    ({"value": "lots"}, "sheet 'cases', row 2, column 'value': scale needs a number, not 'lots'."),
])
def test_bad_edits_name_the_case_row(row, message):
    case = {"case": "c", "sheet": "offers", "where": "supplier=Lynas", "column": "capacity", "action": "scale",
            "value": 2, **row}
    assert case_error([case]) == [message]


def test_an_edit_that_breaks_the_data_says_which_case():
    assert case_error([{"case": "c", "sheet": "origin_caps", "where": "country=China", "column": "max_share",
                        "action": "set", "value": 2}]) == [
        "sheet 'cases', row 2, column 'value': case 'c' sets sheet 'origin_caps', row 2, column 'max_share': '2' is "
        "outside the allowed range; enter a value between 0 and 1 (for example 0.6 for 60%)."]


def test_overrides_use_the_same_edits():
    data = so.from_frames(make(**BASE))
    overrides = Overrides(caps=["China:refining=0.3"], fill_rate=["0.9"], cvar_weight=0.5,
                          scale_price=["Lynas=1.5"], drop_supplier=["Project Vault"], probability=["ban=0.5"])
    changed = apply_case(data, "overrides", overrides.edits(data.tables))
    caps = list(changed.origin_caps[["country", "stage", "max_share"]].itertuples(index=False, name=None))
    assert caps == [("China", None, 0.7), ("China", "refining", 0.3)]  # a stage cap is added beside the any-stage one
    assert set(changed.fill_floors["min_fill_rate"]) == {0.9}  # every existing row set
    assert changed.settings.cvar_weight == 0.5
    assert changed.offers.loc[("Lynas", "Dy", "t2"), "price"] == pytest.approx(48)
    assert "Project Vault" not in changed.suppliers.index
    assert changed.scenarios["probability"].to_dict() == pytest.approx({"calm": 0.5, "ban": 0.5})


def test_probability_override_rescales_the_others():
    frames = make(**{**BASE, "scenarios": [{"scenario": "a", "probability": 0.5}, {"scenario": "b", "probability": 0.3},
                                           {"scenario": "ban", "probability": 0.2}]})
    data = so.from_frames(frames)
    changed = apply_case(data, "o", Overrides(probability=["ban=0.6"]).edits(data.tables))
    assert changed.scenarios["probability"].to_dict() == pytest.approx({"a": 0.25, "b": 0.15, "ban": 0.6})


def test_bad_override_is_an_input_error():
    data = so.from_frames(make(**BASE))
    with pytest.raises(so.InputError) as caught:
        apply_case(data, "o", Overrides(scale_capacity=["Lynsa=2"]).edits(data.tables))
    assert str(caught.value.problems[0]) == ("option --scale-capacity Lynsa=2: no row of sheet 'offers' matches "
                                             "'supplier=Lynsa'; check the names.")


#: 'strict' caps China at 10% with a 100% floor (no plan); 'dearer China' scales China's price by 2.5.
STRICT_AND_DEARER = [
    {"case": "strict", "sheet": "origin_caps", "where": "country=China", "column": "max_share", "action": "set",
     "value": 0.1},
    {"case": "strict", "sheet": "service_levels", "where": "", "column": "min_fill_rate", "action": "set",
     "value": 1},
    {"case": "dearer China", "sheet": "offers", "where": "supplier=China refiners", "column": "price",
     "action": "scale", "value": 2.5},
]


def test_compare_keeps_going_past_an_infeasible_case():
    """China capped at 70% over two periods; 'strict' caps it at 10% with a 100% floor: Lynas (80) and the vault
    (50) cannot cover 180 units in the ban scenario, so there is no plan."""
    data = data_with(STRICT_AND_DEARER)
    comparison = compare(data)
    summary = comparison.summary.set_index("case")
    assert summary["status"].to_dict() == {"base": "optimal", "strict": "infeasible", "dearer China": "optimal"}
    assert summary.loc["dearer China", "expected_cost"] > summary.loc["base", "expected_cost"]
    moves = comparison.moves
    assert set(moves["case"]) == {"dearer China"}
    # Purchases and fees moved = the change in expected cost less holding and shortage.
    def purchases(case: str) -> float:
        row = summary.loc[case]
        return row["expected_cost"] - row["holding"] - row["shortage"]
    assert moves["change_cost"].sum() == pytest.approx(purchases("dearer China") - purchases("base"))


def test_compare_on_two_worker_processes_gives_what_it_gives_one_case_after_the_other():
    """The cases solved at once on a local cluster of 2 workers: the same rows, in the same order, infeasible
    case included, and the same moves as solving them here one after the other."""
    import pandas as pd

    data = data_with(STRICT_AND_DEARER)
    here = compare(data)
    seen = []
    there = compare(data, workers=2, progress=seen.append)
    assert sorted(seen) == sorted(["base", "strict", "dearer China"])  # one progress step per case solved
    pd.testing.assert_frame_equal(there.summary, here.summary)
    pd.testing.assert_frame_equal(there.moves, here.moves)
    assert there.summary["status"].tolist() == ["optimal", "infeasible", "optimal"]
    assert list(there.results["strict"].explanation["rule"]) == list(here.results["strict"].explanation["rule"])


def test_the_comparison_charts_cost_axis_is_on_round_steps_around_the_feasible_cases(tmp_path):
    """Fitted to the cases with a plan, its ticks on 1, 2 or 5 times a power of ten (not 70,849,074)."""
    import re
    import zipfile

    data = data_with(STRICT_AND_DEARER)
    comparison = compare(data)
    path = so.write_comparison(comparison, tmp_path / "comparison.xlsx")
    with zipfile.ZipFile(path) as book:
        xml = next(book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/chart"))
    axes = [a for a in re.findall(r"<c:valAx>.*?</c:valAx>", xml, re.S) if "<c:majorUnit" in a]
    assert len(axes) == 1
    low = float(re.search(r'<c:min val="([^"]+)"', axes[0]).group(1))
    high = float(re.search(r'<c:max val="([^"]+)"', axes[0]).group(1))
    step = float(re.search(r'<c:majorUnit val="([^"]+)"', axes[0]).group(1))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1, 2, 5)
    assert low / step == pytest.approx(round(low / step)) and high / step == pytest.approx(round(high / step))
    costs = comparison.summary.loc[comparison.summary["status"] == "optimal", "expected_cost"]
    assert low < costs.min() and costs.max() < high
    assert (high - low) / step <= 10
