"""Bad input: every problem is reported at once, with sheet, spreadsheet row and column."""

from __future__ import annotations

import pytest

import optimizer as so
from conftest import make, supplier

GOOD = dict(
    suppliers=[supplier("Lynas", "contract", "Malaysia"), supplier("Vault", "stockpile", "United States")],
    offers=[{"supplier": "Lynas", "material": "Dy", "price": 10},
            {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 50, "reservation_fee": 1}],
)


def problems(**sheets) -> list[str]:
    with pytest.raises(so.InputError) as caught:
        so.from_frames(make(**{**GOOD, **sheets}))
    return [str(p) for p in caught.value.problems]


def test_the_good_instance_is_accepted():
    data = so.from_frames(make(**GOOD))
    assert list(data.offers.index) == [("Lynas", "Dy", "t1"), ("Vault", "Dy", "t1")]


def test_missing_sheet():
    frames = make(**GOOD)
    del frames["offers"]
    with pytest.raises(so.InputError) as caught:
        so.from_frames(frames)
    assert [str(p) for p in caught.value.problems] == [
        "sheet 'offers': required sheet is missing; add a sheet named 'offers' with columns supplier, material, "
        "period, price, capacity, min_quantity, reserve_limit, reservation_fee."]


def test_missing_column():
    assert problems(demand=[{"material": "Dy", "period": "t1"}]) == [
        "sheet 'demand', row 1, column 'quantity': required column is missing; add a column headed 'quantity' "
        "(for example 1500)."]


def test_blank_required_cell_and_text_in_a_number_column_are_both_reported():
    assert problems(offers=[{"supplier": "Lynas", "material": "Dy", "price": None},
                            {"supplier": "Vault", "material": "Dy", "price": "cheap", "reserve_limit": 50}]) == [
        "sheet 'offers', row 2, column 'price': the cell is blank but 'price' is required; fill it in "
        "(for example 310).",
        "sheet 'offers', row 3, column 'price': 'cheap' is not a number; enter a number such as 120.",
    ]


@pytest.mark.parametrize("value, message", [
    (float("nan"), None),  # a NaN from pandas is a blank cell
    ("inf", "'inf' is not a finite number; enter an ordinary number."),
    (-5, "'-5' is negative; enter 0 or more."),
])
def test_nan_infinity_and_negative_quantities(value, message):
    found = problems(demand=[{"material": "Dy", "period": "t1", "quantity": value}])
    if message is None:
        assert found == ["sheet 'demand', row 2, column 'quantity': the cell is blank but 'quantity' is required; "
                         "fill it in (for example 1500)."]
    else:
        assert found == [f"sheet 'demand', row 2, column 'quantity': {message}"]


def test_shares_and_rates_outside_zero_to_one():
    assert problems(origin_caps=[{"country": "Malaysia", "max_share": 1.5}],
                    service_levels=[{"min_fill_rate": -0.1}]) == [
        "sheet 'origin_caps', row 2, column 'max_share': '1.5' is outside the allowed range; enter a value "
        "between 0 and 1 (for example 0.6 for 60%).",
        "sheet 'service_levels', row 2, column 'min_fill_rate': '-0.1' is outside the allowed range; enter a "
        "value between 0 and 1 (for example 0.6 for 60%).",
    ]


def test_percent_text_is_read_as_a_share():
    data = so.from_frames(make(**GOOD, origin_caps=[{"country": "Malaysia", "max_share": "40%"}]))
    assert data.origin_caps["max_share"].tolist() == [0.4]


def test_unknown_names():
    assert problems(demand=[{"material": "dy", "period": "2026Q1", "quantity": 1}],
                    offers=[{"supplier": "Lynsa", "material": "Dy", "price": 10},
                            {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 50}],
                    service_levels=[{"scenario": "ban", "min_fill_rate": 0.9}]) == [
        "sheet 'demand', row 2, column 'material': unknown material 'dy'; use a material listed in sheet "
        "'materials' (did you mean 'Dy'?).",
        "sheet 'demand', row 2, column 'period': unknown period '2026Q1'; use a period listed in sheet "
        "'periods': 't1'.",
        "sheet 'offers', row 2, column 'supplier': unknown supplier 'Lynsa'; use a supplier listed in sheet "
        "'suppliers' (did you mean 'Lynas'?).",
        "sheet 'service_levels', row 2, column 'scenario': unknown scenario 'ban'; use a scenario listed in "
        "sheet 'scenarios': 'base'.",
    ]


def test_duplicate_keys():
    assert problems(offers=[{"supplier": "Lynas", "material": "Dy", "price": 10},
                            {"supplier": "Lynas", "material": "Dy", "price": 12},
                            {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 50}]) == [
        "sheet 'offers', row 3: duplicate of row 2 (supplier=Lynas, material=Dy, period=(blank)); "
        "keep one of the two rows."]


def test_probabilities_must_sum_to_one():
    assert problems(scenarios=[{"scenario": "calm", "probability": 0.5},
                               {"scenario": "ban", "probability": 0.4}]) == [
        "sheet 'scenarios', column 'probability': the probabilities sum to 0.9, not 1; adjust them so they "
        "sum to 1."]


def test_stockpile_without_reserve_limit():
    assert problems(offers=[{"supplier": "Lynas", "material": "Dy", "price": 10},
                            {"supplier": "Vault", "material": "Dy", "price": 15}]) == [
        "sheet 'offers', row 3, column 'reserve_limit': stockpile 'Vault' has no reserve_limit for 'Dy'; "
        "enter the most that can be reserved."]


def test_terms_that_belong_to_another_kind_of_supplier():
    assert problems(offers=[{"supplier": "Lynas", "material": "Dy", "price": 10, "reserve_limit": 5},
                            {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 50,
                             "min_quantity": 3}]) == [
        "sheet 'offers', row 2, column 'reserve_limit': reserve_limit applies only to stockpiles, and 'Lynas' "
        "is a contract supplier; leave the cell blank.",
        "sheet 'offers', row 3, column 'min_quantity': min_quantity applies only to contracts, and 'Vault' is "
        "a stockpile supplier; leave the cell blank.",
    ]


def test_unknown_supplier_kind_and_stage():
    assert problems(suppliers=[supplier("Lynas", "broker", "Malaysia"),
                               supplier("Vault", "stockpile", "United States")],
                    origin_caps=[{"country": "China", "stage": "smelting", "max_share": 0.5}]) == [
        "sheet 'suppliers', row 2, column 'kind': unknown kind 'broker'; use contract, spot or stockpile.",
        "sheet 'origin_caps', row 2, column 'country': no supplier has country 'China', so a cap on it would "
        "have no effect; the suppliers' countries are 'Malaysia', 'United States'. Use a country as the "
        "suppliers sheet writes it.",
        "sheet 'origin_caps', row 2, column 'stage': unknown stage 'smelting'; use one of 'mining', 'refining' "
        "(the '<stage>_country' columns of suppliers).",
    ]


def test_unknown_setting_and_bad_setting_value():
    assert problems(settings=[{"key": "cvar_weigth", "value": 1}, {"key": "cvar_level", "value": 1.5}]) == [
        "sheet 'settings', row 2, column 'key': unknown setting 'cvar_weigth'; use one of 'budget', 'currency', "
        "'cvar_level', 'cvar_max', 'cvar_weight', 'dependency_country', 'time_limit'.",
        "sheet 'settings', row 3, column 'value': cvar_level '1.5' is out of range; enter a value above 0 and "
        "below 1.",
    ]


def test_every_problem_is_listed_in_one_error():
    with pytest.raises(so.InputError) as caught:
        so.from_frames(make(**{**GOOD, "demand": [{"material": "Tb", "period": "t1", "quantity": -1}]}))
    text = str(caught.value)
    assert text.startswith("The input has 2 problems:\n  - sheet 'demand', row 2, column 'material'")
    assert "column 'quantity': '-1' is negative" in text


def test_offer_for_a_material_without_demand_is_fine():
    data = so.from_frames(make(
        materials=[{"material": "Dy", "shortage_penalty": 10}, {"material": "Tb", "shortage_penalty": 10}],
        suppliers=[supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "Lynas", "material": "Tb", "price": 10}]))
    assert data.demand.loc[("Tb", "t1"), "quantity"] == 0


def test_a_period_row_replaces_the_blank_row_for_that_period():
    data = so.from_frames(make(
        periods=[{"period": "t1"}, {"period": "t2"}],
        suppliers=[supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "Lynas", "material": "Dy", "price": 10, "capacity": 50, "min_quantity": 5},
                {"supplier": "Lynas", "material": "Dy", "period": "t2", "price": 12}]))
    offers = data.offers.reset_index()
    assert offers[["period", "price", "capacity", "min_quantity"]].values.tolist() == [
        ["t1", 10.0, 50.0, 5.0], ["t2", 12.0, float("inf"), 0.0]]


def test_a_disruption_row_that_matches_no_offer_is_a_warning_naming_the_row():
    """The first row hits Lynas and is kept without a word; the second names MP Materials, a supplier with no
    offer; the third a country no supplier has (a typo of China): each changes nothing, and says so."""
    frames = make(
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia"),
                   supplier("MP Materials", "contract", "United States")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                {"supplier": "Lynas", "material": "Dy", "price": 30}],
        scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
        disruptions=[{"scenario": "cut", "supplier": "Lynas", "availability": 0.5},
                     {"scenario": "cut", "supplier": "MP Materials", "availability": 0},
                     {"scenario": "cut", "country": "Chna", "availability": 0}])
    data = so.from_frames(frames)
    notes = [w for w in data.warnings if w.startswith("sheet 'disruptions'")]
    assert len(notes) == 2, data.warnings
    assert notes[0].startswith("sheet 'disruptions', row 3: no offer matches supplier 'MP Materials' in t1..t1")
    assert notes[0].endswith("so the row changes nothing; check its filters.")
    assert notes[1].startswith("sheet 'disruptions', row 4: no offer matches country 'Chna' in t1..t1 "
                               "(no supplier has country 'Chna'")
    assert "did you mean 'China'?" in notes[1]
