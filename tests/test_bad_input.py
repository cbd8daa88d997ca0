"""The bad-input corpus: each mistake a user can upload gives its exact message and exit code 2."""

from __future__ import annotations

import csv
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from optimizer.inputs.catalog import bundled_instance
from optimizer.interfaces.cli import main
from optimizer.reports.export import write_tables
from optimizer.inputs.reader import read_tables

CORPUS = Path(__file__).parent / "corpus"
PREFIX = "Error: The input has a problem: "


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err


@pytest.fixture
def instance(tmp_path) -> Path:
    folder = tmp_path / "instance"
    shutil.copytree(bundled_instance(), folder)
    return folder


def edit(folder: Path, sheet: str, row: int, column: str, value: str) -> None:
    """Set one cell of <sheet>.csv; row as the spreadsheet shows it (header = row 1)."""
    path = folder / f"{sheet}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def solve_error(capsys, path: Path, tmp_path: Path) -> str:
    plan = tmp_path / "plan.xlsx"
    code, err = run(capsys, "solve", str(path), "-o", str(plan))
    assert code == 2
    assert not plan.exists()
    return err


@pytest.mark.parametrize("name, message", [
    ("empty.xlsx", "'empty.xlsx' is empty: it is not a workbook."),
    ("not_a_workbook.xlsx", "'not_a_workbook.xlsx' is not an .xlsx workbook (an .xlsx file is a zip archive); save "
                            "it from Excel as .xlsx, or use a folder of CSV files."),
])
def test_corpus_files(capsys, tmp_path, name, message):
    assert solve_error(capsys, CORPUS / name, tmp_path) == PREFIX + message + "\n"


CELL_MISTAKES = [
    ("demand", 5, "quantity", "", "sheet 'demand', row 5, column 'quantity': the cell is blank but 'quantity' is "
                                  "required; fill it in (for example 1500)."),
    ("demand", 5, "quantity", "lots", "sheet 'demand', row 5, column 'quantity': 'lots' is not a number; enter a "
                                      "number such as 120."),
    ("demand", 5, "quantity", "nan", "sheet 'demand', row 5, column 'quantity': 'nan' is not a finite number; enter "
                                     "an ordinary number."),
    ("demand", 5, "quantity", "inf", "sheet 'demand', row 5, column 'quantity': 'inf' is not a finite number; enter "
                                     "an ordinary number."),
    ("demand", 5, "quantity", "-5", "sheet 'demand', row 5, column 'quantity': '-5' is negative; enter 0 or more."),
    ("offers", 2, "price", "-80", "sheet 'offers', row 2, column 'price': '-80' is negative; enter 0 or more."),
    ("origin_caps", 2, "max_share", "1.5", "sheet 'origin_caps', row 2, column 'max_share': '1.5' is outside the "
                                           "allowed range; enter a value between 0 and 1 (for example 0.6 for 60%)."),
    # a percent sign where no share is meant: read as 0.6 kg (or USD) until it was refused
    ("demand", 5, "quantity", "60%", "sheet 'demand', row 5, column 'quantity': '60%': a quantity is not a "
                                     "percentage; enter it in the material's unit (for example 1500)."),
    ("offers", 2, "capacity", "60%", "sheet 'offers', row 2, column 'capacity': '60%': a quantity is not a "
                                     "percentage; enter it in the material's unit (for example 120)."),
    ("offers", 2, "price", "80%", "sheet 'offers', row 2, column 'price': '80%': money per unit is not a "
                                  "percentage; enter it in the currency (for example 310)."),
    # a share that is not a number: the hint is a share, not "a number such as 120"
    ("service_levels", 2, "min_fill_rate", "high", "sheet 'service_levels', row 2, column 'min_fill_rate': 'high' is "
                                                   "not a number; enter a share between 0 and 1 (for example 0.6 for "
                                                   "60%)."),
    ("disruptions", 2, "availability", "2", "sheet 'disruptions', row 2, column 'availability': '2' is outside the "
                                            "allowed range; enter a value between 0 and 1 (for example 0.6 for 60%)."),
    ("demand", 5, "period", "2029Q1", "sheet 'demand', row 5, column 'period': unknown period '2029Q1'; use a period "
                                      "listed in sheet 'periods'."),
    ("demand", 5, "material", "NdFeB magnet", "sheet 'demand', row 5, column 'material': unknown material 'NdFeB "
                                              "magnet'; use a material listed in sheet 'materials' (did you mean "
                                              "'NdFeB magnets'?)."),
    ("offers", 2, "supplier", "China refiner", "sheet 'offers', row 2, column 'supplier': unknown supplier 'China "
                                               "refiner'; use a supplier listed in sheet 'suppliers' (did you mean "
                                               "'China refiners'?)."),
    ("disruptions", 2, "scenario", "war", "sheet 'disruptions', row 2, column 'scenario': unknown scenario 'war'; use "
                                          "a scenario listed in sheet 'scenarios': 'Lynas Kuantan outage', 'MP magnet "
                                          "ramp delay', 'calm', 'heavy-REE controls', 'licence regime returns'."),
    ("offers", 3, "material", "NdPr oxide", "sheet 'offers', row 3: duplicate of row 2 (supplier=China refiners, "
                                            "material=NdPr oxide, period=(blank)); keep one of the two rows."),
    ("scenarios", 2, "probability", "0.45", "sheet 'scenarios', column 'probability': the probabilities sum to 1.1, "
                                            "not 1; adjust them so they sum to 1."),
    ("offers", 23, "reserve_limit", "", "sheet 'offers', row 23, column 'reserve_limit': stockpile 'Project Vault' has "
                                        "no reserve_limit for 'NdPr oxide'; enter the most that can be reserved."),
    # negative terms: accepted, they made the model infeasible and sent the user to "check capacities"
    ("offers", 2, "capacity", "-5", "sheet 'offers', row 2, column 'capacity': '-5' is negative; enter 0 or more."),
    ("offers", 23, "reserve_limit", "-10000", "sheet 'offers', row 23, column 'reserve_limit': '-10000' is negative; "
                                              "enter 0 or more."),
    ("offers", 23, "reservation_fee", "-12", "sheet 'offers', row 23, column 'reservation_fee': '-12' is negative; "
                                             "enter 0 or more."),
    # magnitudes beyond the documented limits (README, "Safe with untrusted files"): 1e10 money per unit, 1e12 a
    # quantity, 1e3 a price multiplier; the first number past each limit is refused, the limit itself is not
    ("offers", 2, "price", "1e15", "sheet 'offers', row 2, column 'price': '1000000000000000' is above the limit of "
                                   "1e10 for money per unit; count money in thousands or millions of the currency."),
    ("offers", 2, "price", "1e308", "sheet 'offers', row 2, column 'price': '1e+308' is above the limit of 1e10 for "
                                    "money per unit; count money in thousands or millions of the currency."),
    ("offers", 2, "price", "10000000001", "sheet 'offers', row 2, column 'price': '10000000001' is above the limit of "
                                          "1e10 for money per unit; count money in thousands or millions of the "
                                          "currency."),
    ("offers", 23, "reservation_fee", "2e10", "sheet 'offers', row 23, column 'reservation_fee': '20000000000' is "
                                              "above the limit of 1e10 for money per unit; count money in thousands "
                                              "or millions of the currency."),
    ("materials", 2, "shortage_penalty", "1e20", "sheet 'materials', row 2, column 'shortage_penalty': '1e+20' is "
                                                 "above the limit of 1e10 for money per unit; count money in "
                                                 "thousands or millions of the currency."),
    ("materials", 2, "holding_cost", "1e20", "sheet 'materials', row 2, column 'holding_cost': '1e+20' is above the "
                                             "limit of 1e10 for money per unit; count money in thousands or millions "
                                             "of the currency."),
    ("demand", 2, "quantity", "1e16", "sheet 'demand', row 2, column 'quantity': '1e+16' is above the limit of 1e12 "
                                      "for a quantity; use a larger unit, e.g. tonnes instead of kg."),
    ("offers", 2, "capacity", "1e13", "sheet 'offers', row 2, column 'capacity': '10000000000000' is above the limit "
                                      "of 1e12 for a quantity; use a larger unit, e.g. tonnes instead of kg."),
    ("disruptions", 2, "price_multiplier", "1e4", "sheet 'disruptions', row 2, column 'price_multiplier': '10000' is "
                                                  "above the limit of 1e3 for a price multiplier; a multiplier that "
                                                  "large means the offer is gone: set availability 0 instead."),
    # the disruption model's ranges: sampled values beyond them were shown as if typed, or crashed the sampler
    ("disruption_model", 2, "price_multiplier_max", "1e300",
     "sheet 'disruption_model', row 2, column 'price_multiplier_max': '1e+300' is above the limit of 1e3 for a price "
     "multiplier; a multiplier that large means the offer is gone: set availability 0 instead."),
    ("disruption_model", 2, "duration_max", "1e300",
     "sheet 'disruption_model', row 2, column 'duration_max': '1e+300' is above the limit of 1e6 for a number of "
     "periods; a disruption that outlasts the horizon ends with it: enter the horizon's length."),
    ("settings", 3, "value", "1e300", "sheet 'settings', row 3, column 'value': cvar_weight: '1e+300' is above the "
                                      "limit of 1e3 for a CVaR weight; a weight of 1e3 already ranks plans by CVaR "
                                      "alone."),
]


@pytest.mark.parametrize("sheet, row, column, value, message", CELL_MISTAKES,
                         ids=[f"{m[0]}-{m[2]}-{m[3] or 'blank'}" for m in CELL_MISTAKES])
def test_one_bad_cell(capsys, tmp_path, instance, sheet, row, column, value, message):
    edit(instance, sheet, row, column, value)
    assert solve_error(capsys, instance, tmp_path) == PREFIX + message + "\n"


@pytest.mark.parametrize("sheet, row, column, value", [
    ("offers", 2, "price", "1e10"), ("demand", 2, "quantity", "1e12"), ("disruptions", 2, "price_multiplier", "1000"),
    ("settings", 3, "value", "1000"), ("disruption_model", 2, "duration_max", "1000000"),
])
def test_a_number_at_its_limit_is_accepted(capsys, tmp_path, instance, sheet, row, column, value):
    edit(instance, sheet, row, column, value)
    code, err = run(capsys, "solve", str(instance), "-o", str(tmp_path / "plan.xlsx"))
    assert "above the limit" not in err
    assert code in (0, 3)  # solved (or a plan is impossible): never an input error


def test_a_share_may_be_typed_as_a_percentage(capsys, tmp_path, instance):
    edit(instance, "origin_caps", 2, "max_share", "95%")
    edit(instance, "service_levels", 2, "min_fill_rate", "90%")
    code, err = run(capsys, "solve", str(instance), "-o", str(tmp_path / "plan.xlsx"), "--no-why")
    assert (code, err) == (0, "")


def test_a_money_total_over_its_limit_names_the_setting(capsys, tmp_path, instance):
    with (instance / "settings.csv").open("a", encoding="utf-8") as handle:
        handle.write("budget,1e19,too much\n")
    rows = (instance / "settings.csv").read_text(encoding="utf-8").strip().splitlines()
    assert solve_error(capsys, instance, tmp_path) == (
        PREFIX + f"sheet 'settings', row {len(rows)}, column 'value': budget: '1e+19' is above the limit of 1e18 for "
                 "a money total; count money in thousands or millions of the currency.\n")


def test_a_too_large_number_in_a_workbook_names_its_sheet_row_and_column(capsys, tmp_path, instance):
    edit(instance, "offers", 7, "price", "1e300")
    book = write_tables(read_tables(instance), tmp_path / "book.xlsx")
    before = book.read_bytes()
    assert solve_error(capsys, book, tmp_path) == (
        PREFIX + "sheet 'offers', row 7, column 'price': '1e+300' is above the limit of 1e10 for money per unit; "
                 "count money in thousands or millions of the currency.\n")
    assert book.read_bytes() == before


@pytest.mark.parametrize("option, value, message", [
    ("--scale-price", "China refiners=1e300",
     "option --scale-price China refiners=1e300: scaling the price '80' in sheet 'offers', row 2 by '1e300' gives "
     "8e301, above the limit of 1e10 for money per unit; use a smaller factor."),
    ("--cvar-weight", "1e300",
     "option --cvar-weight 1e+300: cvar_weight: '1e+300' is above the limit of 1e3 for a CVaR weight; a weight of 1e3 "
     "already ranks plans by CVaR alone."),
    ("--scale-capacity", "Lynas=1e20",
     "option --scale-capacity Lynas=1e20: scaling the capacity '4000' in sheet 'offers', row 13 by '1e20' gives "
     "4e23, above the limit of 1e12 for a quantity; use a smaller factor."),
])
def test_an_override_that_scales_past_a_limit_names_the_option(capsys, tmp_path, option, value, message):
    """The scaled number is the override's result, never shown as a value the user typed (1e300 x 80 = 8e301;
    the bundled Lynas row 13 has capacity 4000, x 1e20 = 4e23)."""
    plan = tmp_path / "plan.xlsx"
    code, err = run(capsys, "solve", "-o", str(plan), option, value)
    assert (code, err) == (2, PREFIX + message + "\n")
    assert not plan.exists()


@pytest.mark.parametrize("option, value", [("--fill-rate", "Dy oxide=abc"), ("--fill-rate", "abc"),
                                           ("--cap", "China=abc")])
def test_a_share_option_that_is_not_a_number_asks_for_a_share(capsys, tmp_path, option, value):
    """A fill rate or a cap is a share between 0 and 1: the hint was "enter a number such as 120"."""
    plan = tmp_path / "plan.xlsx"
    code, err = run(capsys, "solve", "-o", str(plan), option, value)
    assert (code, err) == (2, PREFIX + f"option {option} {value}: 'abc' is not a number; enter a share between 0 "
                                       "and 1 (for example 0.6 for 60%).\n")
    assert not plan.exists()


def test_an_empty_periods_sheet_is_one_problem(capsys, tmp_path, instance):
    (instance / "periods.csv").write_text("period,source\n", encoding="utf-8")
    assert solve_error(capsys, instance, tmp_path) == (
        PREFIX + "sheet 'periods': the sheet has no rows; list at least one period.\n")


def test_an_empty_demand_sheet_is_one_problem(capsys, tmp_path, instance):
    """A header-only demand sheet solved to an empty plan, 'Lowest fill rate 100%', exit 0."""
    (instance / "demand.csv").write_text("material,period,quantity\n", encoding="utf-8")
    assert solve_error(capsys, instance, tmp_path) == (
        PREFIX + "sheet 'demand': the sheet has no rows; list the quantity of at least one material in a period.\n")


def test_an_empty_suppliers_sheet_says_so_instead_of_an_empty_list(capsys, tmp_path, instance):
    (instance / "suppliers.csv").write_text("supplier,kind,mining_country,refining_country,manufacturing_country\n",
                                            encoding="utf-8")
    err = solve_error(capsys, instance, tmp_path)
    assert err.startswith("Error: The input has ")
    assert ("  - sheet 'offers', row 2, column 'supplier': unknown supplier 'China refiners'; sheet 'suppliers' "
            "lists no suppliers; add it there.\n") in err
    assert "': ." not in err


def test_a_duplicate_period_is_one_problem(capsys, tmp_path, instance):
    """The second 2026Q1 (row 14) once moved 2026Q1 after 2027Q4, so a disruption from 2026Q1 to 2027Q4 was
    reported as ending before it starts."""
    with (instance / "periods.csv").open("a", encoding="utf-8") as handle:
        handle.write("2026Q1,again\n")
    assert solve_error(capsys, instance, tmp_path) == (
        PREFIX + "sheet 'periods', row 14, column 'period': duplicate of row 2 (period=2026Q1); keep one of the two "
                 "rows.\n")


def test_missing_sheet_and_missing_column(capsys, tmp_path, instance):
    (instance / "offers.csv").unlink()
    with (instance / "demand.csv").open(encoding="utf-8") as handle:
        text = handle.read().replace("material,period,quantity", "material,period,qty", 1)
    (instance / "demand.csv").write_text(text, encoding="utf-8")
    assert solve_error(capsys, instance, tmp_path) == (
        "Error: The input has 2 problems:\n"
        "  - sheet 'demand', row 1, column 'quantity': required column is missing; add a column headed 'quantity' "
        "(for example 1500).\n"
        "  - sheet 'offers': required sheet is missing; add a sheet named 'offers' with columns supplier, material, "
        "period, price, capacity, min_quantity, reserve_limit, reservation_fee.\n")


def test_a_sheet_over_the_row_limit(capsys, tmp_path, instance):
    with (instance / "periods.csv").open("w", encoding="utf-8") as handle:
        handle.write("period\n" + "".join(f"p{i}\n" for i in range(1_000_001)))
    assert solve_error(capsys, instance, tmp_path) == (
        PREFIX + "sheet 'periods': more than 1,000,000 rows, the limit; split the instance or aggregate rows.\n")


@pytest.fixture
def workbook(tmp_path) -> Path:
    return write_tables(read_tables(bundled_instance()), tmp_path / "good.xlsx")


def test_password_protected_workbook(capsys, tmp_path, workbook):
    from msoffcrypto.format.ooxml import OOXMLFile

    locked = tmp_path / "locked.xlsx"
    with workbook.open("rb") as plain, locked.open("wb") as out:
        OOXMLFile(plain).encrypt("secret", out)
    assert solve_error(capsys, locked, tmp_path) == (
        PREFIX + "'locked.xlsx' is password-protected or an old-style .xls file; save it from Excel as an .xlsx "
                 "workbook without a password.\n")


def test_missing_sheet_in_a_workbook(capsys, tmp_path, workbook):
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    del book["demand"]
    book.save(workbook)
    assert solve_error(capsys, workbook, tmp_path) == (
        PREFIX + "sheet 'demand': required sheet is missing; add a sheet named 'demand' with columns material, "
                 "period, quantity.\n")


def test_zip_bomb_is_refused_fast(capsys, tmp_path, workbook):
    bomb = tmp_path / "bomb.xlsx"
    shutil.copy(workbook, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet99.xml", "w") as part:
            chunk = b"0" * 2**20
            for _ in range(300):  # 300 MiB of zeros, about 300 KiB compressed
                part.write(chunk)
    started = time.perf_counter()
    message = solve_error(capsys, bomb, tmp_path)
    assert time.perf_counter() - started < 1.0
    assert message == PREFIX + "'bomb.xlsx' would unpack to 300 MiB, more than the limit of 256 MiB.\n"


def test_compression_ratio_bomb_is_refused(capsys, tmp_path, workbook):
    bomb = tmp_path / "ratio.xlsx"
    shutil.copy(workbook, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet99.xml", b"<" * (50 * 2**20))
    assert solve_error(capsys, bomb, tmp_path) == (
        PREFIX + "'ratio.xlsx' has a part ('xl/worksheets/sheet99.xml') compressed more than 200:1, as zip bombs "
                 "are; it is refused.\n")


def test_xml_entity_bomb_is_refused_fast(capsys, tmp_path, workbook):
    bomb = tmp_path / "entities.xlsx"
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                        for i in range(1, 10))
              + ']><worksheet>&lol9;</worksheet>')
    with zipfile.ZipFile(workbook) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = laughs.encode()
            target.writestr(item, data)
    started = time.perf_counter()
    message = solve_error(capsys, bomb, tmp_path)
    assert time.perf_counter() - started < 1.0
    assert message == PREFIX + ("'entities.xlsx' has a part ('xl/worksheets/sheet1.xml') that declares XML entities; "
                                "it is refused.\n")


def test_not_a_workbook_by_its_name(capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert solve_error(capsys, notes, tmp_path) == (
        PREFIX + "'notes.txt' is neither an .xlsx workbook nor a folder of CSV files.\n")


def test_the_readme_states_every_enforced_limit():
    """The 'Safe with untrusted files' section names each limit the reader and validation enforce, as the
    messages write it, so the documentation cannot drift from the code."""
    from optimizer.inputs import schema
    from optimizer.inputs.uploads import MAX_UPLOAD_BYTES
    from optimizer.inputs.validate import limit_text

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Safe with untrusted files", 1)[1].split("\n## ", 1)[0]
    stated = {
        "archive parts": f"{schema.MAX_ARCHIVE_PARTS:,} parts",
        "unpacked size": f"{schema.MAX_UNCOMPRESSED_BYTES // 2**20} MiB unpacked",
        "compression ratio": f"{schema.MAX_COMPRESSION_RATIO}:1",
        "rows": f"{schema.MAX_ROWS_PER_SHEET:,} rows",
        "columns": f"{schema.MAX_COLUMNS_PER_SHEET:,} columns",
        "cells": f"{schema.MAX_CELLS_PER_SHEET:,} cells",
        "money per unit": f"at most {limit_text(schema.MAX_MONEY_PER_UNIT)}",
        "quantities": f"at most {limit_text(schema.MAX_QUANTITY)}",
        "price multipliers": f"at most {limit_text(schema.MAX_PRICE_MULTIPLIER)}",
        "durations": f"at most {limit_text(schema.MAX_DURATION)} periods",
        "money totals": f"at most {limit_text(schema.MAX_MONEY_TOTAL)}",
        "CVaR weight": f"`cvar_weight` at most {limit_text(schema.MAX_CVAR_WEIGHT)}",
        "upload": f"at most {MAX_UPLOAD_BYTES // 2**20} MiB",
    }
    assert {what: text for what, text in stated.items() if text not in section} == {}
    for (sheet, column), _ in schema.MAGNITUDE_LIMITS.items():
        stem = column.removesuffix("_min").removesuffix("_max")
        assert f"`{column}`" in section or f"`{stem}_min`" in section, (sheet, column)
    for key in schema.SETTING_LIMITS:
        assert f"`{key}`" in section, key
