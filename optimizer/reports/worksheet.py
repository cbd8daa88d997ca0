"""An xlsxwriter worksheet that writes big tables faster and produces the very same file.

xlsxwriter spends about 7 microseconds on each cell of a table: the type dispatch of `write_column`, and at
`close` an attribute list, escaping and a file write per cell. A plan workbook of a sampled instance has
400,000 cells, most of its time. `TableWorksheet` stores the plain cells of a table (numbers, strings) in
xlsxwriter's own cell table directly, and writes the sheet's rows with one string per row; every other
kind of cell, and every other part of the sheet, goes through xlsxwriter unchanged. The XML it writes is
byte for byte xlsxwriter's (tests/test_reports.py compares the two, so a change inside xlsxwriter that this
relies on fails a test instead of a file).

Nothing here decides what a sheet holds or how it looks (that is reports.export).
"""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple, Worksheet


class TableWorksheet(Worksheet):
    """xlsxwriter's Worksheet with `write_columns`, a faster `write_column` for many columns at once."""

    def write_columns(self, first_row: int, first_col: int, columns: Sequence[Sequence[object]]) -> None:
        """Write each list of values down its own column from (first_row, first_col + j), exactly as
        `write_column` would: numbers as numbers, text as shared strings, None and "" as nothing.

        One difference: a text longer than a cell holds (32,767 characters) is cut to fit and the rest of
        its column is still written, where `write_column` stops at that cell. A workbook whose options
        read text as formulas, links or numbers (the plan workbook's do not) gets `write_column`."""
        if self.constant_memory or self.strings_to_formulas or self.strings_to_urls or self.strings_to_numbers \
                or self.write_handlers:
            for j, values in enumerate(columns):
                self.write_column(first_row, first_col + j, values)
            return
        table = self.table
        shared_index = self.str_table._get_shared_string_index
        new_cell = tuple.__new__  # what the cell tuples' own __new__ calls, without its Python frame
        longest_fast = self.xls_strmax // 2  # a longer string may need truncating: xlsxwriter's path does it
        for j, values in enumerate(columns):
            col = first_col + j
            if first_row < 0 or col < 0 or col >= self.xls_colmax or first_row + len(values) > self.xls_rowmax:
                self.write_column(first_row, col, values)  # some cells fall outside the sheet: xlsxwriter drops them
                continue
            written = [i for i in (_first_written(values), _first_written(values[::-1])) if i is not None]
            if not written:
                continue
            rows = [table[row] for row in range(first_row, first_row + len(values))]
            strings: dict[str, CellStringTuple] = {}  # this column's string cells so far, by their text
            repeated = 0  # strings met again in this column: each counts once more in the shared strings
            for i, (cells, value) in enumerate(zip(rows, values)):
                kind = value.__class__
                if kind is float or kind is int:
                    if value - value == 0:  # not NaN nor an infinity (xlsxwriter writes those as error formulas)
                        cells[col] = new_cell(CellNumberTuple, (value, None))
                        continue
                elif kind is str and len(value) <= longest_fast:
                    cell = strings.get(value)
                    if cell is not None:
                        repeated += 1
                        cells[col] = cell
                    elif value:
                        cell = strings[value] = CellStringTuple(shared_index(value), None)
                        cells[col] = cell
                    continue  # a blank without a format is not written
                elif value is None:
                    continue
                self._write(first_row + i, col, value)
            self.str_table.count += repeated
            self._check_dimensions(first_row + written[0], col)
            self._check_dimensions(first_row + len(values) - 1 - written[1], col)

    def _calculate_spans(self) -> None:
        # Worksheet._calculate_spans (the columns of each block of 16 rows, from the first with data to the
        # last) from each row's lowest and highest column instead of trying every column of the sheet.
        spans = {}
        table, comments = self.table, self.comments
        first_col, last_col = self.dim_colmin, self.dim_colmax
        lows, highs = [], []
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row_num)
            if cells:
                lows.append(min(cells))
                highs.append(max(cells))
            if comments:
                noted = comments.get(row_num)
                if noted:
                    lows.append(min(noted))
                    highs.append(max(noted))
            if lows and ((row_num + 1) % 16 == 0 or row_num == self.dim_rowmax):
                low, high = min(lows), max(highs)
                if low < first_col or high > last_col:  # only the columns inside the sheet's data count
                    block = range(row_num - row_num % 16, row_num + 1)
                    inside = [col for r in block for found in (table.get(r), comments.get(r)) if found
                              for col in found if first_col <= col <= last_col]
                    low, high = (min(inside), max(inside)) if inside else (None, None)
                if low is not None:
                    spans[row_num // 16] = f"{low + 1}:{high + 1}"
                lows, highs = [], []
        self.row_spans = spans

    def _write_rows(self) -> None:
        # Worksheet._write_rows with the number and string cells written as one string per row; any other
        # cell is written by Worksheet._write_cell, in its place.
        self._calculate_spans()
        table, comments, row_info, col_info = self.table, self.comments, self.row_info, self.col_info
        write = self.fh.write
        names = [xl_col_to_name(col) for col in range(self.dim_colmax + 1)]
        styles: dict[object, str] = {}

        def style(cell_format) -> str:
            text = styles.get(cell_format)
            if text is None:
                text = styles[cell_format] = f' s="{cell_format._get_xf_index()}"'
            return text

        # each column's style attribute for cells without a format of their own (None: outside the sheet's data)
        column_styles = {}
        for col in range(self.dim_colmin, self.dim_colmax + 1):
            info = col_info.get(col)
            column_styles[col] = style(info.column_format) if info is not None and info.column_format else ""
        # rows of the default height, and no Excel 2010 attribute, start with their number and span alone
        plain_rows = self.default_row_height == self.original_row_height and self.excel_version != 2010
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row_num)
            info = row_info.get(row_num)
            if not (info is not None or row_num in comments or cells):
                continue
            span = self.row_spans.get(row_num // 16)
            if not cells:
                self._write_empty_row(row_num, span, info)
                continue
            number = str(row_num + 1)
            if info is None and plain_rows:  # what _write_row writes for a row without settings of its own
                parts = [f'<row r="{number}" spans="{span}">' if span else f'<row r="{number}">']
            else:
                self._write_row(row_num, span, info)
                parts = []
            row_style = style(info.row_format) if info is not None and info.row_format else None
            for col_num in sorted(cells):
                base = column_styles.get(col_num)
                if base is None:
                    continue
                cell = cells[col_num]
                kind = cell.__class__
                if kind is CellNumberTuple:
                    s = style(cell.format) if cell.format else base if row_style is None else row_style
                    parts.append(f'<c r="{names[col_num]}{number}"{s}><v>{cell.number:.16G}</v></c>')
                elif kind is CellStringTuple:
                    s = style(cell.format) if cell.format else base if row_style is None else row_style
                    parts.append(f'<c r="{names[col_num]}{number}"{s} t="s"><v>{cell.string}</v></c>')
                else:
                    write("".join(parts))
                    parts = []
                    self._write_cell(row_num, col_num, cell)
            parts.append("</row>")
            write("".join(parts))


def _first_written(values: Sequence[object]) -> int | None:
    """The position of the first value that makes a cell (not None, not ""), or None."""
    return next((i for i, value in enumerate(values) if value is not None and not (value.__class__ is str
                                                                                 and not value)), None)
