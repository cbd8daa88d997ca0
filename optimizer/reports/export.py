"""Write results and inputs to formatted .xlsx workbooks (xlsxwriter).

Every workbook is written to a temporary file and renamed, and text is never
turned into a formula or a link. Nothing here solves or changes results.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .figures import add_plan_charts
from .files import atomic_write, neutralise
from ..inputs.reader import Tables
from ..inputs.schema import SHEET_ORDER, SHEETS

WRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}

SHARE_WORDS = ("share", "fill_rate", "availability", "probability")

SUMMARY_WIDTHS = {0: 40, 1: 24, 2: 20}

#: A per-scenario sheet longer than this is written as its expectation over scenarios instead
#: (Excel stops at 1,048,576 rows, and nobody reads that far); `--csv` keeps every row.
MAX_DETAIL_ROWS = 100_000

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
    """An xlsxwriter workbook with the house formats: frozen header, filters, widths, number formats.

    Tables are written column by column with xlsxwriter directly (about twice as fast as
    DataFrame.to_excel); blanks, NaN and infinities become empty cells.
    """

    def __init__(self, path: Path):
        import xlsxwriter

        self.book = xlsxwriter.Workbook(str(path), WRITER_OPTIONS)
        self.sheets: dict[str, object] = {}
        book = self.book
        self.formats = {
            "number": book.add_format({"num_format": "#,##0.00"}),
            "share": book.add_format({"num_format": "0.0%"}),
            "integer": book.add_format({"num_format": "#,##0"}),
            "money": book.add_format({"num_format": "#,##0"}),
            "title": book.add_format({"bold": True, "font_size": 14}),
            "bold": book.add_format({"bold": True}),
            "header": book.add_format({"bold": True, "bottom": 1}),
        }

    def sheet(self, name: str):
        if name not in self.sheets:
            self.sheets[name] = self.book.add_worksheet(name)
        return self.sheets[name]

    def table(self, name: str, frame: pd.DataFrame, start_row: int = 0, title: str | None = None) -> None:
        """A table formatted by what its columns hold, with a bold title line above it if given.

        On a new sheet the header is frozen and filtered; below other content (the Summary) it is not.
        """
        frame = frame.reset_index(drop=True)
        new_sheet = name not in self.sheets
        sheet = self.sheet(name)
        if title:
            sheet.write_string(start_row, 0, title, self.formats["bold"])
            start_row += 1
        for j, column in enumerate(frame.columns):
            sheet.write_string(start_row, j, str(column), self.formats["header"])
            sheet.write_column(start_row + 1, j, [_cell(v) for v in frame[column].tolist()])
        if new_sheet:
            sheet.freeze_panes(start_row + 1, 0)
            if len(frame.columns):
                sheet.autofilter(start_row, 0, start_row + len(frame), len(frame.columns) - 1)
        for j, column in enumerate(frame.columns):
            width = _width(frame[column], column)
            if not new_sheet:  # the columns are shared with the key-value rows above
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
        sheet = self.sheet(name)
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
        self.book.close()


def _cell(value: object) -> object:
    """A value as a cell: None, NaN and infinities are left empty."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


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


def write_plan(result, path: str | Path, information: pd.DataFrame | None = None) -> Path:
    """Write a solve's plan workbook: Summary, the plan tables, the inputs as used, run information.

    information: the value_of_information table, written to its own sheet when given.
    """
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
                table = getattr(result, attribute)
                if len(table) > MAX_DETAIL_ROWS and "scenario" in table.columns:
                    book.table(sheet, expected_over_scenarios(table, result.scenario_costs), start_row=0,
                               title=f"Expected over the {len(result.scenario_costs)} scenarios ({len(table):,} "
                                     "rows per scenario are too many for a sheet; sourcing solve --csv writes "
                                     "them all)")
                else:
                    book.table(sheet, table)
            add_plan_charts(book, result)
        elif not result.explanation.empty:
            book.table("Why no plan", result.explanation)
        if information is not None:
            book.table("VSS and EVPI", information)
        write_inputs(book, data.tables)
        book.table("Run info", result.run_info)
        book.close()

    return atomic_write(path, write)


def expected_over_scenarios(table: pd.DataFrame, scenario_costs: pd.DataFrame) -> pd.DataFrame:
    """Probability-weighted sums of a per-scenario table's additive columns, by its other keys.

    A row missing in a scenario counts as zero (a purchase that cannot happen there); prices and
    rates, which do not add up, are left out.
    """
    weight = table["scenario"].map(dict(zip(scenario_costs["scenario"], scenario_costs["probability"])))
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
               and not any(word in c for word in ("price", "rate", "share"))]
    keys = [c for c in table.columns if c != "scenario" and c not in numeric
            and not pd.api.types.is_numeric_dtype(table[c])]
    weighted = table[numeric].mul(weight, axis=0)
    weighted[keys] = table[keys]
    out = weighted.groupby(keys, sort=False, dropna=False)[numeric].sum().reset_index()
    return out.rename(columns={c: f"expected_{c}" for c in numeric})


def plan_by_supplier(result) -> pd.DataFrame:
    """The first-stage plan summed over periods: what to sign and reserve, with whom."""
    plan = result.plan
    grouped = (plan.groupby(["decision", "supplier", "material", "unit"], sort=False)
               [["quantity", "expected_delivered", "expected_cost"]].sum(min_count=1).reset_index())
    return grouped[grouped["quantity"] > 0][["decision", "supplier", "material", "quantity", "unit",
                                             "expected_delivered", "expected_cost"]]


def write_tables(tables: Tables, path: str | Path) -> Path:
    """Input tables as a workbook a user can fill in (the template)."""

    def write(temporary: Path) -> None:
        book = Workbook(temporary)
        write_inputs(book, tables, prefix="")
        book.close()

    return atomic_write(path, write)


def _print_wide(sheet) -> None:
    """Landscape, one page wide: how a buyer prints a table with its chart."""
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _scatter(book: Workbook, title: str, x_title: str, y_title: str):
    chart = book.book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.set_title({"name": title})
    chart.set_x_axis({"name": x_title, "num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_y_axis({"name": y_title, "num_format": "#,##0"})
    chart.set_size({"width": 760, "height": 420})
    return chart


def write_frontier(frontier, path: str | Path) -> Path:
    """The de-risking curve: table and a native scatter chart (current cap and tightest cap marked)."""
    table = frontier.table
    currency = frontier.currency

    def write(temporary: Path) -> None:
        book = Workbook(temporary)
        book.table("Frontier", table)
        if frontier.explanation:
            book.table("Why no plan", pd.DataFrame({"explanation": frontier.explanation.splitlines()}))
        sheet_name = "Frontier"
        columns = list(table.columns)
        x_col = columns.index("max_share")
        y_col = columns.index("objective")
        e_col = columns.index("expected_cost")
        feasible = [i for i, s in enumerate(table["status"]) if s == "optimal"]
        note = (f"No plan below {frontier.tightest:.1%}" if frontier.tightest else "")
        chart = _scatter(book, f"Cost of de-risking: {frontier.cap}. {note}".strip(),
                         f"{frontier.cap}: most allowed share of demand", currency)
        if feasible:
            first, last = feasible[0] + 1, feasible[-1] + 1  # rows are sorted by share, feasible ones first
            chart.add_series({"name": "objective", "categories": [sheet_name, first, x_col, last, x_col],
                              "values": [sheet_name, first, y_col, last, y_col], "marker": {"type": "circle"}})
            chart.add_series({"name": "expected cost", "categories": [sheet_name, first, x_col, last, x_col],
                              "values": [sheet_name, first, e_col, last, e_col],
                              "marker": {"type": "diamond"}, "line": {"dash_type": "dash"}})
        for label, marker, color in (("current", "diamond", "red"), ("tightest", "triangle", "black")):
            rows = [i for i, p in enumerate(table["point"]) if label in p and table["status"].iloc[i] == "optimal"]
            if rows:
                r = rows[0] + 1
                name = "current cap" if label == "current" else "tightest feasible cap"
                chart.add_series({"name": name, "categories": [sheet_name, r, x_col, r, x_col],
                                  "values": [sheet_name, r, y_col, r, y_col], "line": {"none": True},
                                  "marker": {"type": marker, "size": 11, "fill": {"color": color},
                                             "border": {"color": color}}})
        chart.set_x_axis({"name": f"{frontier.cap}: most allowed share of demand", "num_format": "0%",
                          "min": 0, "max": max(1.0, float(table["max_share"].max()))})
        sheet = book.sheets[sheet_name]
        sheet.insert_chart(len(table) + 3, 0, chart)
        _print_wide(sheet)
        book.close()

    return atomic_write(path, write)


def write_comparison(comparison, path: str | Path) -> Path:
    """Cases side by side, how the plan moves between suppliers, and a cost-against-share chart."""
    summary = comparison.summary
    currency = comparison.currency

    def write(temporary: Path) -> None:
        book = Workbook(temporary)
        book.table("Comparison", summary)
        book.table("Moves", comparison.moves)
        share = "dependency_share"
        cost = "expected_cost"
        if share is not None and cost in summary.columns:
            columns = list(summary.columns)
            chart = _scatter(book, "What-if cases: expected cost against dependency",
                             share.replace("_", " "), currency)
            for i, row in enumerate(summary.itertuples(index=False), start=1):
                if row.status != "optimal":
                    continue
                chart.add_series({"name": ["Comparison", i, 0],
                                  "categories": ["Comparison", i, columns.index(share), i, columns.index(share)],
                                  "values": ["Comparison", i, columns.index(cost), i, columns.index(cost)],
                                  "marker": {"type": "circle", "size": 9}})
            book.sheets["Comparison"].insert_chart(len(summary) + 3, 0, chart)
        _print_wide(book.sheets["Comparison"])
        book.close()

    return atomic_write(path, write)


def write_csv_tables(result, folder: str | Path) -> list[Path]:
    """Each result table as <table>.csv in folder; text that a spreadsheet would run as a formula is
    neutralised with a leading apostrophe."""
    folder = Path(folder)
    written = []
    for name, table in result.tables().items():
        if table.empty and name != "summary":
            continue
        safe = table.copy()
        for column in safe.columns:
            if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
                safe[column] = safe[column].map(neutralise)
        safe.columns = [neutralise(c) for c in safe.columns]
        written.append(atomic_write(folder / f"{name}.csv",
                                    lambda temporary, frame=safe: frame.to_csv(temporary, index=False)))
    return written


def write_instance(tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    """A folder of CSV files, or one .xlsx workbook when out ends in .xlsx."""
    out = Path(out)
    if out.suffix.lower() == ".xlsx":
        return write_tables({k: v.astype(object).where(v.notna(), None) for k, v in tables.items()}, out)
    out.mkdir(parents=True, exist_ok=True)
    for sheet, table in tables.items():
        atomic_write(out / f"{sheet}.csv", lambda temporary, t=table: t.to_csv(temporary, index=False))
    return out
