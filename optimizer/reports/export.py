"""Write results and inputs to formatted .xlsx workbooks (xlsxwriter).

Every workbook is written to a temporary file and renamed, and text is never
turned into a formula or a link. Nothing here solves or changes results.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .figures import add_plan_charts, frontier_share_limits
from .files import atomic_write, neutralise
from ..inputs.reader import Tables
from ..inputs.schema import SHEET_ORDER, SHEETS

WRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}

SHARE_WORDS = ("share", "fill_rate", "availability", "probability")

#: Money columns of the result tables (a whole amount: shown without cents, in the currency format).
MONEY_COLUMNS = frozenset({"cost", "expected_cost", "objective", "cvar", "worst_scenario_cost", "reservation",
                           "contract", "spot", "stockpile_draw", "holding", "shortage", "base_cost", "case_cost",
                           "change_cost", "expected_cost_saved"})
#: Money per unit of a material (shown with cents: a price of 0.20 USD/kg is not 0).
PRICE_COLUMNS = frozenset({"price_per_unit", "price", "reservation_fee", "shortage_penalty", "holding_cost"})
#: Quantities of a material (in the table's `unit`).
QUANTITY_COLUMNS = frozenset({"quantity", "capacity", "min_quantity", "expected_delivered", "opening_inventory",
                              "delivered", "unmet_demand", "demand", "closing_inventory", "supplied_through",
                              "base_quantity", "case_quantity", "change_quantity", "expected_quantity",
                              "reserve_limit", "initial_inventory"})

#: Headers a person reads, where the words differ from the column name with its underscores as spaces.
HEADER_WORDS = {"price_per_unit": "Price", "expected_delivered": "Expected delivered", "min_fill_rate": "Floor",
                "max_share": "Cap", "input_row": "Input row", "cvar": "CVaR", "worst_scenario_cost": "Worst case",
                "dependency_share": "Dependency share", "lowest_fill_rate": "Lowest fill rate",
                "relax_to": "Relax to", "min_quantity": "Take-or-pay floor",
                "one_more": "One more, re-solved", "one_fewer": "One fewer, re-solved"}

#: Landscape pages; A4.
PAPER_A4 = 9

SUMMARY_WIDTHS = {0: 40, 1: 24, 2: 20}

#: The width at which the plan workbook wraps long text (a shadow price's meaning, the VSS message, advice):
#: unwrapped, it runs on past the table and fitting the sheet to the page width shrinks every row to nothing.
WORDS_WIDTH = 80
#: Characters of a table's sentences per unit of column width (`wrapped_lines`): the sentences of the
#: result tables are plain lower-case words, of which a printed line holds about 1.2 per unit (less a word
#: broken early).
TABLE_FILL = 1.1

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


def header_label(column: str, frame: pd.DataFrame, currency: str) -> str:
    """A column's header as a person reads it, with its unit: 'Price (USD/kg)', 'Expected cost (USD)'.

    The unit of a quantity is the table's `unit` when every row has the same one (else 'in unit column')."""
    words = HEADER_WORDS.get(column, column.replace("_", " "))
    words = words[:1].upper() + words[1:]
    units = frame["unit"].dropna().unique() if "unit" in frame.columns else []
    unit = str(units[0]) if len(units) == 1 else None
    if column in MONEY_COLUMNS:
        return f"{words} ({currency})"
    if column in PRICE_COLUMNS and "unit" in frame.columns:
        return f"{words} ({currency}/{unit})" if unit else f"{words} ({currency} per unit)"
    if column in QUANTITY_COLUMNS and "unit" in frame.columns:
        return f"{words} ({unit})" if unit else f"{words} (see unit)"
    if _is_share(column) and pd.api.types.is_numeric_dtype(frame[column]):
        return f"{words} (%)"
    return words


def _is_share(column: str) -> bool:
    return any(word in column for word in SHARE_WORDS) and "per" not in column


class Workbook:
    """An xlsxwriter workbook with the house formats: frozen header, filters, widths, number formats, and
    every sheet set up to print (landscape, one page wide, header rows repeated, its title in the page header).

    Tables are written column by column with xlsxwriter directly (about twice as fast as
    DataFrame.to_excel); blanks, NaN and infinities become empty cells. Headers are words with units
    (`header_label`); the Python API keeps its column names.
    """

    def __init__(self, path: Path, currency: str = "USD"):
        import xlsxwriter

        from .worksheet import TableWorksheet

        self.book = xlsxwriter.Workbook(str(path), WRITER_OPTIONS)
        self.book.worksheet_class = TableWorksheet
        self.sheets: dict[str, object] = {}
        self.titles: dict[str, str] = {}
        self.header_rows: dict[str, int] = {}
        self.one_page: set[str] = set()  # sheets printed on one page (the Summary)
        self.currency = currency
        book = self.book
        money = f'#,##0 "{currency}";-#,##0 "{currency}"' if currency.isalpha() else "#,##0"
        self.format_properties = {
            "number": {"num_format": "#,##0.00"},
            "share": {"num_format": "0.0%"},
            "integer": {"num_format": "#,##0"},
            "money": {"num_format": money},
            "price": {"num_format": "#,##0.00"},
            "title": {"bold": True, "font_size": 14},
            "bold": {"bold": True},
            "section": {"bold": True, "font_size": 11, "bottom": 1},
            "header": {"bold": True, "bottom": 1, "text_wrap": True, "valign": "bottom"},
            # an indent without a horizontal alignment is ignored by LibreOffice
            "wrap": {"text_wrap": True, "valign": "top", "indent": 1, "align": "left"},
            "words": {"indent": 1, "align": "left"},
            "note": {"italic": True, "font_color": "#555555"},
        }
        self.formats = {name: book.add_format(properties) for name, properties in self.format_properties.items()}
        self._top_formats: dict[str | None, object] = {}

    def top_aligned(self, cell_format):
        """The house format cell_format (or no format: None) at the top of its cell, for the columns beside
        wrapped text: a row two lines tall then reads along its first line."""
        name = next((n for n, f in self.formats.items() if f is cell_format), None)
        if name not in self._top_formats:
            properties = {**self.format_properties.get(name, {}), "valign": "top"}
            if "indent" in properties:  # an indent without a horizontal alignment is ignored by LibreOffice
                properties["align"] = "left"
            self._top_formats[name] = self.book.add_format(properties)
        return self._top_formats[name]

    def sheet(self, name: str, title: str | None = None):
        if name not in self.sheets:
            self.sheets[name] = self.book.add_worksheet(name)
            self.titles[name] = title or name
        elif title:
            self.titles[name] = title
        return self.sheets[name]

    def table(self, name: str, frame: pd.DataFrame, start_row: int = 0, title: str | None = None,
              labels: bool = True, wrap: int | None = None) -> int:
        """A table formatted by what its columns hold, with a bold title line above it if given; returns the
        row after it. labels=False keeps the column names as headers (the input sheets: a template must
        read back). wrap: text longer than this many characters is wrapped in a column that wide, each row
        as tall as its longest text needs. A text column right of a number column is indented, so that a
        right-aligned number does not run into the text ("89.3%share of demand").

        On a new sheet the header is frozen, filtered and repeated on every printed page; below other
        content (the Summary) it is not.
        """
        frame = frame.reset_index(drop=True)
        new_sheet = name not in self.sheets
        sheet = self.sheet(name)
        if title:
            sheet.write_string(start_row, 0, title, self.formats["bold"])
            start_row += 1
        headers = [header_label(str(column), frame, self.currency) if labels else str(column)
                   for column in frame.columns]
        for j, column in enumerate(frame.columns):
            sheet.write_string(start_row, j, headers[j], self.formats["header"])
            sheet.write_columns(start_row + 1, j, [_cells(frame[column])])
        if new_sheet:
            sheet.freeze_panes(start_row + 1, 0)
            self.header_rows[name] = start_row
            if len(frame.columns):
                sheet.autofilter(start_row, 0, start_row + len(frame), len(frame.columns) - 1)
        formats = [self._format_of(frame.iloc[:, j], str(column)) for j, column in enumerate(frame.columns)]
        texts = [_is_text(frame.iloc[:, j]) for j in range(len(frame.columns))]
        wrapped = {j: frame.iloc[:, j] for j in range(len(frame.columns))
                   if texts[j] and wrap is not None and _longest(frame.iloc[:, j]) > wrap}
        for j, column in enumerate(frame.columns):
            if j in wrapped:
                continue
            width = _width(frame.iloc[:, j], headers[j])
            if not new_sheet:  # the columns are shared with the key-value rows above
                width = max(width, SUMMARY_WIDTHS.get(j, 12))
            if texts[j] and j and not texts[j - 1]:
                formats[j] = self.formats["words"]
            sheet.set_column(j, j, width, self.top_aligned(formats[j]) if wrapped else formats[j])
        if wrapped:
            wrap_columns(self, sheet, start_row + 1, wrapped, wrap, fill=TABLE_FILL,
                         cell_format=self.top_aligned(self.formats["wrap"]))
        return start_row + 1 + len(frame)

    def _format_of(self, values: pd.Series, column: str):
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            return None
        if column in MONEY_COLUMNS:
            return self.formats["money"]
        if column in PRICE_COLUMNS:
            return self.formats["price"]
        if _is_share(column):
            return self.formats["share"]
        finite = values.dropna()
        if len(finite) and np.allclose(finite, finite.round()) and "quantity" not in column \
                and "cost" not in column and "price" not in column:
            return self.formats["integer"]
        if column in QUANTITY_COLUMNS:
            return self.formats["integer"] if not len(finite) or (finite.abs() >= 100).mean() > 0.5 \
                else self.formats["number"]
        return self.formats["number"]

    def key_values(self, name: str, title: str, rows: list[tuple[str, object, str]]) -> int:
        """A titled sheet of label / value / unit rows."""
        sheet = self.sheet(name, title)
        sheet.write(0, 0, title, self.formats["title"])
        for i, (label, value, unit) in enumerate(rows, start=2):
            sheet.write_string(i, 0, str(label), self.formats["bold"])
            self.value(sheet, i, 1, value, unit)
            sheet.write_string(i, 2, unit)
        for j, width in SUMMARY_WIDTHS.items():
            sheet.set_column(j, j, width)
        return len(rows) + 2

    def value(self, sheet, row: int, column: int, value: object, unit: str = "") -> None:
        """One value in the format its unit says: money in the currency without cents, shares as percent."""
        if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and np.isfinite(value):
            if unit.startswith("share"):
                fmt = self.formats["share"]
            elif unit == self.currency:
                fmt = self.formats["money"]
            else:
                fmt = self.formats["number"]
            sheet.write_number(row, column, float(value), fmt)
        else:
            sheet.write_string(row, column, "" if value is None else str(value))

    def note(self, name: str, row: int, text: str) -> None:
        self.sheet(name).write_string(row, 0, text, self.formats["note"])

    def close(self) -> None:
        for name, sheet in self.sheets.items():
            print_setup(sheet, self.titles.get(name, name), self.header_rows.get(name), name in self.one_page)
        self.book.close()


def print_setup(sheet, title: str, header_row: int | None, one_page: bool = False) -> None:
    """Landscape A4, one page wide (as many pages down as it takes, or exactly one), the header row repeated
    on each page, the sheet's title in the page header and page numbers in the footer."""
    sheet.set_landscape()
    sheet.set_paper(PAPER_A4)
    sheet.fit_to_pages(1, 1 if one_page else 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.6)
    sheet.set_header(f"&L&\"-,Bold\"{_header_text(title)}&R&D")
    sheet.set_footer("&CPage &P of &N")
    if header_row is not None:
        sheet.repeat_rows(header_row)


def _header_text(text: str) -> str:
    """Text for a page header: '&' is the header's control character."""
    return text.replace("&", "&&")[:200]


def _cell(value: object) -> object:
    """A value as a cell: None, NaN and infinities are left empty."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _cells(values: pd.Series) -> list:
    """A column's values as cells (`_cell`), the common column types without a Python call per value."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        array = values.to_numpy()
        finite = np.isfinite(array)
        return array.tolist() if finite.all() else np.where(finite, array, None).tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values.tolist()
    cells = values.tolist()
    if isinstance(dtype, pd.StringDtype):  # text, or missing
        for i in np.flatnonzero(values.isna().to_numpy()):
            cells[i] = None
        return cells
    return [_cell(v) for v in cells]


def _is_text(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _longest(values: pd.Series) -> int:
    lengths = values.dropna().astype(str).str.len()
    return int(lengths.max()) if len(lengths) else 0


def wrapped_lines(text: object, width: int, fill: float = 0.85) -> int:
    """The lines a text takes wrapped in a column `width` characters wide, a line holding `fill` x width
    characters. A width counts the digit 0: LibreOffice fits about 1.2 x width of plain words on a line, less
    where words break early; 0.85 leaves room for long words and capitals."""
    per_line = max(int(width * fill), 1)
    return sum(max(1, -(-len(part) // per_line)) for part in str(text).splitlines() or [""])


def wrap_columns(book: Workbook, sheet, first_row: int, columns: dict[int, object], width: int,
                 fill: float = 0.85, cell_format=None) -> None:
    """Columns of text (column -> its texts from first_row down) wrapped at `width` characters in cell_format
    (the house "wrap" format if None), each row tall enough to show every line of its longest text
    (`wrapped_lines`)."""
    for column in columns:
        sheet.set_column(column, column, width, book.formats["wrap"] if cell_format is None else cell_format)
    texts = [["" if _cell(v) is None else v for v in values] for values in columns.values()]
    for row, row_texts in enumerate(zip(*texts), start=first_row):
        sheet.set_row(row, 15 * max(wrapped_lines(text, width, fill) for text in row_texts))


def _width(values: pd.Series, header: str) -> int:
    longest = max([len(str(header))] + [len(str(v)) for v in values.head(500)])
    return min(max(10, longest + 2), 60)


def write_inputs(book: Workbook, tables: Tables, prefix: str = "In ", wrap: int | None = None) -> None:
    """The input tables as the solve used them, one sheet each, numbers as numbers; wrap as in Workbook.table
    (the plan workbook wraps the long `source` notes, which otherwise shrink the printed sheet)."""
    for sheet in SHEET_ORDER:
        if sheet in tables:
            book.table(f"{prefix}{sheet}"[:31], _numbers_as_numbers(sheet, tables[sheet]), labels=False, wrap=wrap)


def _numbers_as_numbers(sheet: str, table: pd.DataFrame) -> pd.DataFrame:
    table = table.reset_index(drop=True).copy()
    for column in SHEETS[sheet]:
        if column.kind == "number" and column.name in table.columns:
            parsed = pd.to_numeric(table[column.name], errors="coerce")
            if parsed.notna().sum() == table[column.name].notna().sum():
                table[column.name] = parsed
    return table


def write_plan(result, path: str | Path, information: pd.DataFrame | None = None, why=None) -> Path:
    """Write a solve's plan workbook: Summary, the plan tables, charts, the inputs as used, run information.

    information: the value_of_information table, written to its own sheet when given; why: the
    analysis.why.WhyAnalysis of the same data (a "Why" sheet, and its most telling lines on the Summary).
    """
    data = result.data

    def write(temporary: Path) -> None:
        book = Workbook(temporary, data.settings.currency)
        book.sheet("Summary", "Summary")  # the first sheet
        glance = None
        if result.optimal:
            for attribute, sheet in RESULT_SHEETS.items():
                table = getattr(result, attribute)
                if attribute == "shadow_prices" and why is not None:
                    table = with_both_sides(table, why.table)
                if attribute in WORTH_FIRST:
                    worth_first(book, sheet, table, *WORTH_FIRST[attribute], wrap=WORDS_WIDTH)
                elif len(table) > MAX_DETAIL_ROWS and "scenario" in table.columns:
                    book.table(sheet, expected_over_scenarios(table, result.scenario_costs), start_row=0,
                               title=f"Expected over the {len(result.scenario_costs)} scenarios ({len(table):,} "
                                     "rows per scenario are too many for a sheet; sourcing solve --csv writes "
                                     "them all)")
                elif attribute == "flows":
                    deliveries(book, sheet, table)
                else:
                    book.table(sheet, table, wrap=WORDS_WIDTH)
            if why is not None:
                why_sheet(book, why)
            glance = add_plan_charts(book, result)
        elif not result.explanation.empty:
            why_no_plan(book, result.explanation)
        write_summary(book, result, glance, why)
        if information is not None:
            book.table("VSS and EVPI", information, wrap=WORDS_WIDTH)
        write_inputs(book, data.tables, wrap=WORDS_WIDTH)
        book.table("Run info", result.run_info, wrap=WORDS_WIDTH)
        book.close()

    return atomic_write(path, write)


#: Sheets whose rows that are worth nothing go below the rest, with a note: (value column, by size, note).
WORTH_FIRST = {
    "plan": ("expected_cost", "{n} offers with nothing signed or reserved"),
    "shadow_prices": ("value", "{n} rules that do not bind (shadow price 0)"),
}


def worth_first(book: Workbook, sheet: str, table: pd.DataFrame, column: str, note: str,
                wrap: int | None = None) -> None:
    """The rows sorted by what they are worth (largest first); those worth nothing below, after a note.
    wrap: as in Workbook.table."""
    size = table[column].abs().fillna(0.0) if column in table else pd.Series(0.0, index=table.index)
    if "quantity" in table.columns:
        zero = table["quantity"].fillna(0.0).abs() <= 1e-9
    else:
        zero = size <= 1e-9
    order = size[~zero].sort_values(ascending=False, kind="stable").index
    end = book.table(sheet, pd.concat([table.loc[order], table[zero]]), wrap=wrap)
    if zero.any():
        # beside the table, so that the rows stay one table (a plan sheet reads back as a plan)
        first_zero = end - int(zero.sum())
        words = note.format(n=int(zero.sum()))
        book.sheets[sheet].write_string(first_zero, len(table.columns), f"From here: {words}.", book.formats["note"])
        # on paper the note is the page header's and the print area stops at the table, so that the note's
        # width does not shrink the printed table
        book.sheet(sheet, f"{sheet} — from row {first_zero + 1}, {words}")
        book.sheets[sheet].print_area(0, 0, end - 1, len(table.columns) - 1)


#: The Why sheet: each sentence first, wrapped, then the figures it rests on (the API keeps every column).
WHY_SHEET_COLUMNS = ["line", "kind", "name", "scenario", "period", "now", "low", "high", "unit", "shadow_price",
                     "one_more", "one_fewer"]
WHY_WORDS_WIDTH = 80


#: The shadow-price table's keys, shared with the Why analysis's rows (both come from rules.base.Parameter)
PRICE_KEYS = ["rule", "name", "supplier", "material", "scenario", "period"]


def with_both_sides(prices: pd.DataFrame, why_table: pd.DataFrame) -> pd.DataFrame:
    """The shadow prices with what one unit more and one unit fewer are worth, re-solved by the Why analysis,
    beside each dual: at a kink the dual is neither side (blank: no room for a unit, or no plan there)."""
    sides = why_table[why_table["kind"] == "shadow price"]
    if sides.empty or prices.empty:
        return prices

    def keys(frame: pd.DataFrame) -> list[tuple]:
        cells = frame[PRICE_KEYS].astype(object)
        return [tuple("" if v is None or v != v else str(v) for v in row) for row in cells.itertuples(index=False)]

    found = {key: (more, fewer) for key, more, fewer in zip(keys(sides), sides["one_more"], sides["one_fewer"])}
    pairs = [found.get(key, (np.nan, np.nan)) for key in keys(prices)]
    out = prices.copy()
    at = list(out.columns).index("value") + 1
    out.insert(at, "one_more", [float(m) for m, _ in pairs])
    out.insert(at + 1, "one_fewer", [float(f) for _, f in pairs])
    return out


def why_sheet(book: Workbook, why) -> None:
    """The Why sheet (analysis.why.WhyAnalysis): a sentence per offer and per shadow price, with its range."""
    table = why.table[[c for c in WHY_SHEET_COLUMNS if c in why.table.columns]].rename(columns={"line": "in words"})
    end = book.table("Why", table, title=why.note or "Re-solved by HiGHS: the price range of each offer within "
                     "which the plan stays optimal, and the range of each rule or capacity within which its shadow "
                     "price holds")
    wrap_columns(book, book.sheets["Why"], end - len(table), {0: table["in words"].astype(str).tolist()},
                 WHY_WORDS_WIDTH)


def deliveries(book: Workbook, sheet: str, flows: pd.DataFrame) -> None:
    """The flows that deliver something; how many deliver nothing is said beside the header (`--csv` writes
    them: at mid-size, three in five flow rows are zero, and they were most of the workbook's cells)."""
    zero = flows["quantity"].fillna(0.0).abs() <= 1e-9
    end = book.table(sheet, flows[~zero])
    if zero.any():
        note = (f"{int(zero.sum()):,} offers with nothing delivered in their scenario and period are left out "
                "(sourcing solve --csv writes every row).")
        book.sheets[sheet].write_string(0, len(flows.columns), note, book.formats["note"])
        # on paper the note is the page header's, so that its width does not shrink the table to fit the page
        book.sheet(sheet, f"{sheet}: {note}")
        book.sheets[sheet].print_area(0, 0, end - 1, len(flows.columns) - 1)


def why_no_plan(book: Workbook, explanation: pd.DataFrame) -> None:
    """The rules to relax; a current value and its target as percent where the rule is a share."""
    book.table("Why no plan", explanation, wrap=WORDS_WIDTH)
    sheet = book.sheets["Why no plan"]
    columns = list(explanation.columns)
    for i, r in enumerate(explanation.itertuples(index=False), start=1):
        if str(getattr(r, "unit", "")).startswith("share"):
            for name in ("current", "relax_to"):
                value = getattr(r, name)
                if name in columns and isinstance(value, (int, float)) and np.isfinite(value):
                    sheet.write_number(i, columns.index(name), float(value), book.formats["share"])


#: How many commitments the Summary lists (the rest are on the Plan sheet).
SUMMARY_COMMITMENTS = 8
SUMMARY_COLUMNS = {0: 42, 1: 17, 2: 17, 3: 15, 4: 30}


def _wrapped(book: Workbook, sheet, row: int, text: str, last_column: int = 4, fmt: str = "wrap") -> int:
    """Text across the Summary's columns, wrapped, its row tall enough to show every line; returns the next row."""
    width = sum(SUMMARY_COLUMNS.get(j, 12) for j in range(last_column + 1))
    lines = sum(max(1, -(-len(part) // max(int(width * 1.1), 1))) for part in text.splitlines() or [""])
    sheet.merge_range(row, 0, row, last_column, text, book.formats[fmt])
    sheet.set_row(row, 15 * lines)
    return row + 1


def write_summary(book: Workbook, result, glance_chart=None, why=None) -> None:
    """The Summary a manager reads on one printed page: what the plan costs in plain words, the China share
    of each material against its cap, the lowest fill rates, the commitments to sign (money first), what
    de-risking further costs and what would change the plan; or, without a plan, why."""
    data = result.data
    name = "Summary"
    sheet = book.sheet(name, "Summary")
    for j, width in SUMMARY_COLUMNS.items():
        sheet.set_column(j, j, width)
    sheet.write_string(0, 0, "Rare-earth sourcing plan", book.formats["title"])
    sheet.write_string(1, 0, f"Input: {_shown_path(data.source)}", book.formats["note"])
    row = 3
    sheet.write_string(row, 0, "Status", book.formats["bold"])
    sheet.write_string(row, 1, result.status)
    row = _wrapped(book, sheet, row + 1, result.message)
    if not result.optimal:
        if not result.explanation.empty:
            row = _wrapped(book, sheet, row + 1, "The sheet 'Why no plan' lists each rule to relax and by how much.")
        _summary_print(book, sheet, row, 4)
        return
    for line in summary_lines(result, why):
        if isinstance(line, str):
            row += 1
            sheet.write_string(row, 0, line, book.formats["section"])
            for j in range(1, 5):
                sheet.write_blank(row, j, None, book.formats["section"])
        else:
            label, value, unit, words = line
            sheet.write_string(row, 0, str(label), book.formats["bold"] if unit is not None else None)
            if unit is not None:
                book.value(sheet, row, 1, value, unit)
            elif value is not None:
                sheet.write_string(row, 1, str(value))
            if words:
                sheet.merge_range(row, 2, row, 4, words, book.formats["wrap"]) if len(words) > 40 \
                    else sheet.write_string(row, 2, words, book.formats["words"])
        row += 1
    last_column = 4
    if glance_chart is not None:
        sheet.insert_chart(3, 6, glance_chart)
        last_column = 16  # the chart spans about ten default-width columns from G
    _summary_print(book, sheet, max(row, 30), last_column)


def _shown_path(source: object) -> str:
    """An input path as the user typed it from here: relative when it lies below the working folder."""
    try:
        return str(Path(str(source)).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(source)


def _summary_print(book: Workbook, sheet, last_row: int, last_column: int) -> None:
    sheet.print_area(0, 0, last_row, last_column)
    book.one_page.add("Summary")


def summary_lines(result, why=None) -> list:
    """The Summary's content: section titles (str) and (label, value, unit, words) rows; unit None is text."""
    from .figures import share_table

    data = result.data
    settings = data.settings
    currency = settings.currency
    headline = result.headline
    costs = result.scenario_costs
    worst = costs.loc[costs["cost"].idxmax(), "scenario"]
    level = settings.cvar_level
    lines: list = ["What the plan costs"]
    lines.append(("Expected cost", headline["expected_cost"], currency,
                  f"probability-weighted over the {len(costs)} scenarios"))
    lines.append(("Worst case", headline["worst_scenario_cost"], currency, f"in '{worst}'"))
    lines.append((f"CVaR {level * 100:g}%", headline["cvar"], currency,
                  f"the average cost of the worst {(1 - level) * 100:.3g}% of outcomes"))
    if settings.cvar_weight > 0:
        lines.append(("Objective", result.objective, currency,
                      f"what the plan minimises: expected cost + {settings.cvar_weight:g} x CVaR"))
    country = settings.dependency_country
    lines.append((f"{country} share, all materials", headline["dependency_share"], "share",
                  "expected, each material weighted by the value of its demand"))
    shares = share_table(result)
    lines.append(f"{country} share of each material against the cap")
    lines.append(("Material", "Expected share", None, "Highest share in a scenario, against the cap"))
    for r in shares.itertuples(index=False):
        words = (f"highest {r.highest_capped_share:.1%} against a cap of {r.cap:.0%} ({r.cap_name})"
                 if np.isfinite(r.cap) else "no cap")
        lines.append((r.material, r.expected_share, "share", words))
    fills = result.fill_rates.sort_values("fill_rate", kind="stable").head(3)
    lines.append("Lowest fill rates")
    for r in fills.itertuples(index=False):
        lines.append((f"{r.material} in '{r.scenario}'", r.fill_rate, "share", f"floor {r.min_fill_rate:.0%}"))
    commitments = plan_by_supplier(result).sort_values("expected_cost", ascending=False, kind="stable")
    lines.append("Commitments to sign (expected cost)")
    for r in commitments.head(SUMMARY_COMMITMENTS).itertuples(index=False):
        what = "reserve" if r.decision == "stockpile reservation" else "contract"
        lines.append((f"{r.supplier}: {r.material}", r.expected_cost, currency,
                      f"{what} {r.quantity:,.0f} {r.unit} over the horizon"))
    if len(commitments) > SUMMARY_COMMITMENTS:
        lines.append((f"and {len(commitments) - SUMMARY_COMMITMENTS} more on the Plan sheet", None, None, ""))
    lines.append("Cost of de-risking at the current cap")
    lines += derisking_lines(result, why)
    if why is not None and (why.lines or why.note):
        lines.append("What would change the plan (the Why sheet has every offer)")
        lines += [(text, None, None, "") for text in why.lines + ([why.note] if why.note else [])]
    return lines


def _kink_words(why, cap_name: str) -> str:
    """What the Why analysis adds to a cap's shadow price: the materials on which one point tighter leaves
    no plan, or costs more than the price says (a kink), from its re-solves; "" when it has nothing to add."""
    if why is None or why.table.empty:
        return ""
    table = why.table
    rows = table[(table["kind"] == "shadow price") & table["rule"].isin(["origin cap", "single-country cap"])
                 & (table["name"] == cap_name)]
    if rows.empty:
        return ""
    # a cap's share can always move a point down (to 0%): a missing "one fewer" is a point with no plan
    no_plan = rows[rows["one_fewer"].isna()]["material"].dropna().unique().tolist()
    dearer = rows[rows["one_fewer"] > rows["shadow_price"] * (1 + 1e-3) + 1e-6]["material"]
    dearer = dearer.dropna().unique().tolist()
    if no_plan:
        return f"; but one point tighter on {', '.join(no_plan)} leaves no plan (the Why sheet has both sides)"
    if dearer:
        return (f"; one side of a kink: one point tighter on {', '.join(dearer)} costs more (the Why sheet has "
                "both sides)")
    return ""


def derisking_lines(result, why=None) -> list:
    """One line per cap on the dependency country: what one percentage point tighter would cost (the cap's
    shadow price). With the Why analysis (analysis.why) of the same plan, a cap whose price is one side of a
    kink says so: where one point tighter on a material leaves no plan, or costs more than the price."""
    prices = result.shadow_prices
    country = result.data.settings.dependency_country
    caps = result.origin_shares
    out = []
    if len(caps):
        for input_row, group in caps[caps["country"] == country].groupby("input_row", sort=False):
            value = float(prices.loc[prices["input_row"] == input_row, "value"].sum())
            name = group["cap"].iloc[0]
            cap = float(group["max_share"].iloc[0])
            words = (f"a point below {cap:.0%} costs about this much more; it does not bind" if value <= 1e-9 else
                     f"per percentage point below {cap:.0%} (the cap's shadow price, objective)")
            words += _kink_words(why, name)
            out.append((f"{name} cap", value, result.data.settings.currency, words))
    if not out:
        out.append((f"No cap on {country} in the input", None, None, ""))
    return out


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


def _fit_axis(chart, values, name: str) -> None:
    """The money axis fitted to the data (a curve that starts its axis at 0 looks flat), on round steps (1, 2
    or 5 times a power of ten, about five of them), in millions when a step is a million or more: the ticks
    read 70 M, 80 M, ... instead of 70,849,074."""
    values = pd.to_numeric(pd.Series(np.asarray(values, dtype=float).ravel()), errors="coerce").dropna()
    if values.empty:
        return
    low, high = float(values.min()), float(values.max())
    pad = max((high - low) * 0.1, abs(high) * 0.005, 1.0)
    raw = (high - low + 2 * pad) / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    minimum, maximum = math.floor((low - pad) / step) * step, math.ceil((high + pad) / step) * step
    millions = step >= 1e6
    chart.set_y_axis({"name": name,
                      "num_format": '#,##0,," M"' if millions else "#,##0", "min": minimum, "max": maximum,
                      "major_unit": step, "major_gridlines": {"visible": True}})


def _frontier_cost_axis(chart, costs: pd.DataFrame, currency: str) -> None:
    """The curve's money axis: fitted to its costs on round steps (see _fit_axis)."""
    _fit_axis(chart, costs.to_numpy(dtype=float), currency)


def write_frontier(frontier, path: str | Path) -> Path:
    """The de-risking curve: table and a native scatter chart (current cap and tightest cap marked)."""
    table = frontier.table
    currency = frontier.currency

    def write(temporary: Path) -> None:
        book = Workbook(temporary, currency)
        book.table("Frontier", table.assign(point=frontier.points_in_words))
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
        low, high = frontier_share_limits(frontier)
        chart.set_x_axis({"name": f"{frontier.cap}: most allowed share of demand",
                          "num_format": "0.0%" if high - low < 0.1 else "0%", "min": low, "max": high,
                          "major_gridlines": {"visible": True}})
        _frontier_cost_axis(chart, table.loc[table["status"] == "optimal", ["objective", "expected_cost"]], currency)
        sheet = book.sheets[sheet_name]
        chart_row = len(table) + 3
        if frontier.over_demand:  # under the table, where the share above 100% is read; a text box, not a
            # cell, so that the sheet read back as a table is still the table
            sheet.insert_textbox(len(table) + 2, 0, frontier.over_demand, {
                "width": 760, "height": 44, "font": {"italic": True, "size": 9, "color": "#444444"},
                "line": {"none": True}, "fill": {"none": True}, "object_position": 3})
            chart_row += 3
        sheet.insert_chart(chart_row, 0, chart)
        _print_wide(sheet)
        book.close()

    return atomic_write(path, write)


def write_comparison(comparison, path: str | Path) -> Path:
    """Cases side by side, how the plan moves between suppliers, and a cost-against-share chart."""
    summary = comparison.summary
    currency = comparison.currency

    def write(temporary: Path) -> None:
        book = Workbook(temporary, currency)
        book.table("Comparison", summary)
        book.table("Moves", comparison.moves)
        share = "dependency_share"
        cost = "expected_cost"
        if share is not None and cost in summary.columns:
            columns = list(summary.columns)
            failed = [str(c) for c, s in zip(summary["case"], summary["status"]) if s != "optimal"]
            title = "What-if cases: expected cost against dependency share" + (
                f" (no plan: {', '.join(failed)})" if failed else "")
            chart = _scatter(book, title, "expected dependency share (value-weighted)", currency)
            _fit_axis(chart, summary.loc[summary["status"] == "optimal", cost], f"expected cost ({currency})")
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
