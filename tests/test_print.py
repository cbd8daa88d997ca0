"""The plan workbook on paper: long text wrapped in rows tall enough for it, text clear of the numbers beside it,
charts clear of their tables and of page breaks."""

from __future__ import annotations

import pandas as pd
import pytest

import optimizer as so
from conftest import make, supplier

#: One material, China capped at 50%: Lynas must supply the rest, so the cap and Lynas's capacity bind.
SMALL = dict(
    materials=[{"material": "Dy", "unit": "kg", "shortage_penalty": 1000, "holding_cost": 0}],
    demand=[{"material": "Dy", "period": "t1", "quantity": 100}],
    suppliers=[supplier("China", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30}],
    origin_caps=[{"country": "China", "max_share": 0.5}],
)

#: A message of 400 characters: at any column width a person can read (at most 120 characters), 4 lines or more.
LONG = ("Planning for the average future signs contracts that break the rules in some scenario: " * 5).strip()


def column_of(sheet, header: str) -> int:
    return next(c.column for c in sheet[1] if c.value == header)


def test_the_meaning_of_each_shadow_price_is_wrapped_in_a_row_tall_enough(tmp_path):
    import openpyxl

    path = so.write_plan(so.solve(so.bundled_instance()), tmp_path / "plan.xlsx")
    sheet = openpyxl.load_workbook(path)["Shadow prices"]
    column = column_of(sheet, "Meaning")
    letter = sheet.cell(row=1, column=column).column_letter
    width = sheet.column_dimensions[letter].width
    assert 40 <= width <= 120  # readable, and not the whole page
    meanings = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert meanings and all(c.alignment.wrap_text for c in meanings)
    long = [c for c in meanings if c.value and len(c.value) > 1.3 * width]  # more than one line at any font
    assert long  # with the bundled CVaR weight a cap's meaning names the objective, the cap and the material
    for cell in long:
        assert sheet.row_dimensions[cell.row].height >= 30, cell.value


def test_the_vss_sheets_long_message_is_wrapped_and_its_row_shows_every_line(tmp_path):
    import openpyxl

    result = so.solve(so.from_frames(make(**SMALL)))
    information = pd.DataFrame({"measure": ["RP", "VSS = EEV - RP"], "value": [1.0, None],
                                "status": ["optimal", "infeasible"], "unit": ["USD", "USD"],
                                "meaning": ["optimal objective of the stochastic plan", LONG]})
    path = so.write_plan(result, tmp_path / "plan.xlsx", information)
    sheet = openpyxl.load_workbook(path)["VSS and EVPI"]
    column = column_of(sheet, "Meaning")
    width = sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width
    message = sheet.cell(row=3, column=column)
    assert message.value == LONG and message.alignment.wrap_text
    assert width <= 120
    # 400 characters in a column of at most 120: four lines or more, 15 points each
    assert sheet.row_dimensions[3].height >= 15 * 4
    assert sheet.row_dimensions[2].height in (None, 15)  # a short meaning keeps one line


def test_text_beside_a_number_is_indented_on_why_no_plan(tmp_path):
    """A right-aligned 'Relax to' percent otherwise touches its unit: '89.3%share of demand'."""
    import openpyxl

    data = so.from_frames(make(**dict(SMALL, origin_caps=[{"country": "China", "max_share": 0.0}],
                                      service_levels=[{"min_fill_rate": 1.0}],
                                      offers=[{"supplier": "China", "material": "Dy", "price": 10}])))
    result = so.solve(data)
    assert result.status == "infeasible"
    path = so.write_plan(result, tmp_path / "plan.xlsx")
    sheet = openpyxl.load_workbook(path)["Why no plan"]
    unit = sheet.cell(row=2, column=column_of(sheet, "Unit"))
    assert unit.value == "share of demand"
    # LibreOffice shows an indent only with a horizontal alignment
    assert unit.alignment.indent >= 1 and unit.alignment.horizontal == "left"
    assert sheet.cell(row=2, column=column_of(sheet, "Relax to")).number_format == "0.0%"
