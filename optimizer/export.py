"""Write results and inputs to formatted .xlsx workbooks (xlsxwriter).

Every workbook is written to a temporary file and renamed, and text is never
turned into a formula or a link. Nothing here solves or changes results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .files import atomic_write
from .reader import Tables
from .schema import SHEET_ORDER, SHEETS

WRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}

SHARE_WORDS = ("share", "fill_rate", "availability", "probability")

SUMMARY_WIDTHS = {0: 40, 1: 24, 2: 20}

RESULT_SHEETS = {
    "plan": "Plan",
    "scenario_costs": "Scenarios",
    "flows": "Flows",
    "balance": "Balance",
    "fill_rates": "Fill rates",
    "origin_shares": "Origin shares",
    "dependency": "Dependency",
    "shadow_prices": "Shadow prices",
}


class Workbook:
    """A pandas ExcelWriter with the house formats: frozen header, filters, widths, number formats."""

    def __init__(self, path: Path):
        self.writer = pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": WRITER_OPTIONS})
        book = self.writer.book
        self.formats = {
            "number": book.add_format({"num_format": "#,##0.00"}),
            "share": book.add_format({"num_format": "0.0%"}),
            "integer": book.add_format({"num_format": "#,##0"}),
            "title": book.add_format({"bold": True, "font_size": 14}),
            "bold": book.add_format({"bold": True}),
        }

    def table(self, name: str, frame: pd.DataFrame, start_row: int = 0, title: str | None = None) -> None:
        """A table on its own sheet (or, with a title, further down a sheet), formatted by its columns."""
        frame = frame.reset_index(drop=True)
        if title:
            self.writer.sheets[name].write(start_row, 0, title, self.formats["bold"])
            start_row += 1
        frame.to_excel(self.writer, sheet_name=name, index=False, startrow=start_row)
        sheet = self.writer.sheets[name]
        if not title:
            sheet.freeze_panes(start_row + 1, 0)
            if len(frame.columns):
                sheet.autofilter(start_row, 0, start_row + len(frame), len(frame.columns) - 1)
        for j, column in enumerate(frame.columns):
            width = _width(frame[column], column)
            if title:  # the columns are shared with the key-value rows above
                width = max(width, SUMMARY_WIDTHS.get(j, 12))
            sheet.set_column(j, j, width, self._format_of(frame[column], column))

    def _format_of(self, values: pd.Series, column: str):
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            return None
        if any(word in column for word in SHARE_WORDS) and "per" not in column:
            return self.formats["share"]
        finite = values.dropna()
        if len(finite) and np.allclose(finite, finite.round()) and "quantity" not in column \
                and "cost" not in column and "price" not in column:
            return self.formats["integer"]
        return self.formats["number"]

    def key_values(self, name: str, title: str, rows: list[tuple[str, object, str]]) -> None:
        """A titled sheet of label / value / unit rows (the Summary)."""
        sheet = self.writer.book.add_worksheet(name)
        self.writer.sheets[name] = sheet
        sheet.write(0, 0, title, self.formats["title"])
        for i, (label, value, unit) in enumerate(rows, start=2):
            sheet.write_string(i, 0, str(label), self.formats["bold"])
            if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and np.isfinite(value):
                fmt = self.formats["share"] if unit.startswith("share") else self.formats["number"]
                sheet.write_number(i, 1, float(value), fmt)
            else:
                sheet.write_string(i, 1, "" if value is None else str(value))
            sheet.write_string(i, 2, unit)
        for j, width in SUMMARY_WIDTHS.items():
            sheet.set_column(j, j, width)
        return len(rows) + 2

    def close(self) -> None:
        self.writer.close()


def _width(values: pd.Series, header: str) -> int:
    longest = max([len(str(header))] + [len(str(v)) for v in values.head(500)])
    return min(max(10, longest + 2), 60)


def write_inputs(book: Workbook, tables: Tables, prefix: str = "In ") -> None:
    """The input tables as the solve used them, one sheet each, numbers as numbers."""
    for sheet in SHEET_ORDER:
        if sheet in tables:
            book.table(f"{prefix}{sheet}"[:31], _numbers_as_numbers(sheet, tables[sheet]))


def _numbers_as_numbers(sheet: str, table: pd.DataFrame) -> pd.DataFrame:
    table = table.reset_index(drop=True).copy()
    for column in SHEETS[sheet]:
        if column.kind == "number" and column.name in table.columns:
            parsed = pd.to_numeric(table[column.name], errors="coerce")
            if parsed.notna().sum() == table[column.name].notna().sum():
                table[column.name] = parsed
    return table


def write_plan(result, path: str | Path) -> Path:
    """Write a solve's plan workbook: Summary, the plan tables, the inputs as used, run information."""
    data = result.data

    def write(temporary: Path) -> None:
        book = Workbook(temporary)
        rows: list[tuple[str, object, str]] = [("Status", result.status, ""), ("Message", result.message, "")]
        rows += [(r.label, r.value, r.unit) for r in result.summary.itertuples(index=False)
                 if r.metric != "status"]
        rows.append(("Input", data.source, ""))
        end = book.key_values("Summary", "Rare-earth sourcing plan", rows)
        if result.optimal:
            book.table("Summary", plan_by_supplier(result), start_row=end + 1,
                       title="Plan by supplier and material (all periods)")
            for attribute, sheet in RESULT_SHEETS.items():
                book.table(sheet, getattr(result, attribute))
        elif not result.explanation.empty:
            book.table("Why no plan", result.explanation)
        write_inputs(book, data.tables)
        book.table("Run info", result.run_info)
        book.close()

    return atomic_write(path, write)


def plan_by_supplier(result) -> pd.DataFrame:
    """The first-stage plan summed over periods: what to sign and reserve, with whom."""
    plan = result.plan
    cost = [c for c in plan.columns if c.startswith("expected_cost_")][0]
    grouped = (plan.groupby(["decision", "supplier", "material", "unit"], sort=False)
               [["quantity", "expected_delivered", cost]].sum(min_count=1).reset_index())
    return grouped[grouped["quantity"] > 0][["decision", "supplier", "material", "quantity", "unit",
                                             "expected_delivered", cost]]


def write_tables(tables: Tables, path: str | Path) -> Path:
    """Input tables as a workbook a user can fill in (the template)."""

    def write(temporary: Path) -> None:
        book = Workbook(temporary)
        write_inputs(book, tables, prefix="")
        book.close()

    return atomic_write(path, write)
