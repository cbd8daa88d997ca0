"""Edge cases a careful reader of the input schema and the model would try."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

import optimizer as so
from conftest import OVER_CONTRACTING, make, supplier
from optimizer.interfaces.cli import main
from optimizer.analysis.frontier import frontier

TWO = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30}],
    scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "ban", "probability": 0.5}],
    disruptions=[{"scenario": "ban", "supplier": "Lynas", "price_multiplier": 2}],
)


def test_vss_with_a_floor_for_one_scenario_only():
    data = so.from_frames(make(**TWO, service_levels=[{"material": "Dy", "scenario": "ban", "min_fill_rate": 0.9}]))
    table = so.value_of_information(data).set_index("measure")
    assert table.loc["RP", "value"] == pytest.approx(1000)  # China covers both scenarios at 10
    assert table.loc["EVPI = RP - WS", "value"] == pytest.approx(0)


def test_frontier_starts_from_the_truly_unconstrained_optimum():
    """Half of China's deliveries fail in 'cut': the optimum contracts 200 (China share 200% in calm), above
    a 100% cap; the curve must start there."""
    frames = make(**OVER_CONTRACTING)
    curve = so.frontier(so.from_frames(frames), "China", points=3)
    first = curve.table.iloc[0]
    assert curve.unconstrained_share == pytest.approx(2.0)
    assert first["point"] == "unconstrained" and first["objective"] == pytest.approx(1550)


def test_frontier_over_several_caps_prices_them_together():
    frames = make(
        materials=[{"material": "Dy", "shortage_penalty": 1000}, {"material": "Tb", "shortage_penalty": 1000}],
        demand=[{"material": "Dy", "period": "t1", "quantity": 100}, {"material": "Tb", "period": "t1", "quantity": 100}],
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "China refiners", "material": m, "price": 10} for m in ("Dy", "Tb")]
        + [{"supplier": "Lynas", "material": "Dy", "price": 11}, {"supplier": "Lynas", "material": "Tb", "price": 50}],
        origin_caps=[{"country": "China", "material": "Dy", "max_share": 0.5},
                     {"country": "China", "material": "Tb", "max_share": 0.5}])
    curve = so.frontier(so.from_frames(frames), "China", points=3)
    middle = curve.table[curve.table["max_share"].round(6) == 0.5].iloc[0]
    assert middle["shadow_price_per_point"] == pytest.approx(1 + 40)  # Dy moves to Lynas at +1, Tb at +40
    assert curve.cap == "China"


def test_probability_override_reads_percent_cells(tmp_path):
    data = so.from_frames(make(**{**TWO, "scenarios": [{"scenario": "calm", "probability": "50%"},
                                                        {"scenario": "ban", "probability": "50%"}]}))
    changed = so.apply_case(data, "o", so.Overrides(probability=["ban=0.2"]).edits(data.tables))
    assert changed.scenarios["probability"].to_dict() == pytest.approx({"calm": 0.8, "ban": 0.2})


def test_dropping_a_supplier_drops_every_row_that_names_it():
    data = so.from_frames(make(**TWO, supplier_caps=[{"supplier": "Lynas", "max_share": 0.5}]))
    changed = so.apply_case(data, "o", so.Overrides(drop_supplier=["Lynas"]).edits(data.tables))
    assert list(changed.suppliers.index) == ["China refiners"]
    assert changed.disruptions.empty and changed.supplier_caps.empty


def test_a_country_in_the_wrong_case_is_an_error_not_a_silent_no_op():
    with pytest.raises(so.InputError) as caught:
        so.from_frames(make(**TWO, origin_caps=[{"country": "china", "max_share": 0}],
                            settings=[{"key": "dependency_country", "value": "CHINA"}]))
    assert [str(p) for p in caught.value.problems] == [
        "sheet 'origin_caps', row 2, column 'country': unknown country 'china'; did you mean 'China'? Countries "
        "are matched exactly as the suppliers sheet writes them.",
        "sheet 'settings', row 2, column 'value': unknown country 'CHINA'; did you mean 'China'? Countries are "
        "matched exactly as the suppliers sheet writes them.",
    ]
    with pytest.raises(so.InputError) as caught:  # a cap that would hold nothing is an error too
        so.from_frames(make(**TWO, origin_caps=[{"country": "Chile", "max_share": 0}]))
    assert [str(p) for p in caught.value.problems] == [
        "sheet 'origin_caps', row 2, column 'country': no supplier has country 'Chile', so a cap on it would have "
        "no effect; the suppliers' countries are 'China', 'Malaysia'. Use a country as the suppliers sheet writes it."]


def test_pandas_missing_values_are_blanks():
    demand = pd.DataFrame({"material": ["Dy"], "period": ["t1"], "quantity": pd.array([100], dtype="Int64")})
    offers = pd.DataFrame({"supplier": ["Lynas"], "material": ["Dy"], "price": [10.0],
                           "capacity": pd.array([pd.NA], dtype="Float64"), "period": [pd.NaT]})
    data = so.from_frames(make(suppliers=[supplier("Lynas", "contract", "Malaysia")], demand=demand, offers=offers))
    assert data.offers["capacity"].tolist() == [float("inf")]


def test_values_under_a_blank_header_are_reported(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    for sheet, rows in make(**TWO).items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    (folder / "offers.csv").write_text("supplier,material,price,\nChina refiners,Dy,10,50\nLynas,Dy,30,\n")
    with pytest.raises(so.InputError) as caught:
        so.read_instance(folder)
    assert str(caught.value.problems[0]) == ("sheet 'offers', row 1: column 4 has values (from row 2) but no header; "
                                             "add the header or delete the values.")


def test_a_horizon_cap_and_a_per_period_cap_on_the_same_country_can_coexist():
    data = so.from_frames(make(**TWO, origin_caps=[{"country": "China", "max_share": 0.8},
                                                   {"country": "China", "max_share": 0.9, "per_period": True}]))
    assert data.origin_caps["cap"].tolist() == ["China", "China per period"]


def test_a_stage_named_kind_is_refused():
    frames = make(**TWO)
    frames["suppliers"] = [dict(r, kind_country="China") for r in frames["suppliers"]]
    with pytest.raises(so.InputError) as caught:
        so.from_frames(frames)
    assert "a stage cannot be named 'kind'" in str(caught.value)


def test_an_output_path_that_is_a_folder_is_exit_2(tmp_path, capsys):
    assert main(["solve", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"Error: -o/--output '{tmp_path}': it is a folder, not a regular file; give "
                                       "a file name.\n")


def test_cvar_label_keeps_the_level_exact():
    data = so.from_frames(make(**TWO, settings=[{"key": "cvar_level", "value": 0.975}]))
    summary = so.solve(data).summary.set_index("metric")
    assert summary.loc["cvar", "label"] == "CVaR 97.5%: mean cost of the worst 2.5%"
    assert summary.loc["cvar_level", "value"] == 0.975


@pytest.mark.parametrize("interface", ["APPSI", "standard form"])
def test_decisions_hidden_from_the_solver_are_reported_at_their_floor(interface, monkeypatch):
    """B (floor 5) and the vault (no fee) deliver nothing in the only scenario, so their quantities enter no
    row and no cost and HiGHS never sees them: the plan shows B at its floor and no reservation. A (China, 10)
    and spot S (40) share demand 100, so under a China cap s the cost is 1000 s + 4000 (1 - s) = 4000 - 3000 s,
    on the one-off solve and at every sweep point (which reads HiGHS's columns, not Pyomo's values)."""
    monkeypatch.setattr(importlib.import_module("optimizer.solving.solver"), "STANDARD_FORM_FROM",
                        0 if interface == "standard form" else 10**9)
    frames = make(suppliers=[supplier("A", "contract", "China"), supplier("B", "contract", "Malaysia"),
                             supplier("S", "spot", "Australia"), supplier("V", "stockpile", "United States")],
                  offers=[{"supplier": "A", "material": "Dy", "price": 10},
                          {"supplier": "B", "material": "Dy", "price": 20, "min_quantity": 5},
                          {"supplier": "S", "material": "Dy", "price": 40},
                          {"supplier": "V", "material": "Dy", "price": 15, "reserve_limit": 50, "reservation_fee": 0}],
                  scenarios=[{"scenario": "only", "probability": 1}],
                  disruptions=[{"scenario": "only", "supplier": "B", "availability": 0},
                               {"scenario": "only", "supplier": "V", "availability": 0}],
                  origin_caps=[{"country": "China", "max_share": 0.6}])
    data = so.from_frames(frames)
    result = so.solve(data)
    plan = result.plan.set_index("supplier")["quantity"]
    assert plan["B"] == 5 and plan["V"] == 0 and plan["A"] == pytest.approx(60)
    assert result.objective == pytest.approx(4000 - 3000 * 0.6)
    curve = frontier(data, "China", points=5)
    sweep = curve.table[curve.table["point"].str.startswith(("sweep", "unconstrained"))]
    assert sweep["objective"].tolist() == pytest.approx([4000 - 3000 * s for s in sweep["max_share"]])
    assert sweep["max_share"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])
