"""Read the input tables from an .xlsx workbook or a folder of CSV files.

Owns the file formats only: every cell comes back as None (blank), str, float,
bool or datetime, on an index of spreadsheet row numbers (header = row 1).
Types and meaning are checked by `validate`, not here.

Owns the hostile-file checks too: a path is looked at (os.stat) before it is opened, so that a FIFO,
a device or a folder is refused instead of read (a FIFO would block for ever); a workbook is checked
as a zip archive, and each sheet's XML is measured, before any reader loads it.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import stat
import warnings as python_warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .schema import (MAX_ARCHIVE_PARTS, MAX_CELLS_PER_SHEET, MAX_COLUMNS_PER_SHEET, MAX_COMPRESSION_RATIO,
                     MAX_ROWS_PER_SHEET, MAX_UNCOMPRESSED_BYTES, SHEETS, STAGE_SUFFIX)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

Tables = dict[str, pd.DataFrame]

#: Bytes read at a time when a part of a workbook is scanned.
CHUNK_BYTES = 1 << 20


@dataclass
class RawSheet:
    """One sheet as read: its name as the file spells it (a CSV file's name), the schema's sheet it is, its
    rows, and notes on cells that hold no value.

    notes: (row, column) counted from 0 -> what the cell holds instead of a value and how to fix it.
    """

    name: str
    key: str
    rows: list[list[object]]
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: frozenset = frozenset()  # the keys of notes on merged cells (the blanks under them are their fault)


class CellsWithoutValues(InputError):
    """The only problems are cells that hold no value (a formula never calculated, an error value, a merge):
    the tables, with those cells blank, can still be checked for the rest, so that every problem is reported
    at once (read_instance does)."""

    def __init__(self, problems: list[Problem], tables: Tables):
        super().__init__(problems)
        self.tables = tables


def read_tables(path: str | Path, warnings: list[str] | None = None) -> Tables:
    """Read every known sheet of a workbook or CSV folder into raw tables.

    warnings: a list to which notes for the user are appended (an unknown sheet, a CSV file separated by
    semicolons); without one they are issued as Python warnings.
    """
    path = Path(path)
    notes: list[str] = []
    kind = _kind_of_path(path)
    if kind == "folder":
        raw = _read_csv_folder(path, notes)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _read_workbook(path, notes)
    else:
        raise InputError([Problem(None, None, None,
                                  f"'{path.name}' is neither an .xlsx workbook nor a folder of CSV files.")])
    tables: Tables = {}
    problems: list[Problem] = []
    noted: list[Problem] = []  # those of problems that are cells without a value
    names: dict[str, str] = {}
    for sheet in raw:
        key = sheet.key
        if key in names:
            what = "files" if kind == "folder" else "sheets"  # a CSV file is named with its extension
            problems.append(Problem(key, None, None, f"{what} '{names[key]}' and '{sheet.name}' are both sheet "
                                                     f"'{key}'; delete or rename one of them."))
            continue
        names[key] = sheet.name
        table = _to_frame(key, sheet.rows, problems, sheet.notes, noted, sheet.merged)
        if table is not None:
            tables[key] = table
    if problems and len(noted) == len(problems):
        raise CellsWithoutValues(problems, tables)
    if problems:
        raise InputError(problems)
    for note in notes:
        if warnings is None:
            python_warnings.warn(note, stacklevel=2)
        else:
            warnings.append(note)
    return tables


def _refuse(path: Path, why: str) -> InputError:
    return InputError([Problem(None, None, None, f"'{path.name}' {why}")])


def check_archive_size(parts: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse an archive (a workbook or a zip of CSV files) with more parts than MAX_ARCHIVE_PARTS or whose
    parts claim more than MAX_UNCOMPRESSED_BYTES unpacked, before anything is unpacked."""
    if len(parts) > MAX_ARCHIVE_PARTS:
        raise InputError([Problem(None, None, None, f"'{name}' has {len(parts):,} parts, more than the limit of "
                                                    f"{MAX_ARCHIVE_PARTS:,}.")])
    total = sum(p.file_size for p in parts)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError([Problem(None, None, None, f"'{name}' would unpack to {total / 2**20:,.0f} MiB, more "
                                                    f"than the limit of {MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MiB.")])


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, in words, from its os.stat mode."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _kind_of_path(path: Path) -> str:
    """'folder' or 'file' for the instance path; anything else (missing, a loop, a FIFO) is refused."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError([Problem(None, None, None, f"'{path}' does not exist.")]) from None
    except OSError as exc:
        raise InputError([Problem(None, None, None, f"cannot read '{path}': {exc.strerror}.")]) from None
    if stat.S_ISDIR(info.st_mode):
        return "folder"
    if not stat.S_ISREG(info.st_mode):
        raise InputError([Problem(None, None, None, f"cannot read '{path}': it is {file_kind(info.st_mode)}, "
                                                    "not a file; give an .xlsx workbook or a folder of CSV files.")])
    return "file"


def _open_regular(path: Path, label: str):
    """Open a file for reading only if it is a regular file: a FIFO is never opened (it would block)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError([Problem(None, None, None, f"cannot read '{label}': it is "
                                                        f"{file_kind(info.st_mode)}, not a file.")])
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # no wait even if swapped for a FIFO meanwhile
    except InputError:
        raise
    except OSError as exc:
        raise InputError([Problem(None, None, None, f"cannot read '{label}': {exc.strerror}.")]) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise InputError([Problem(None, None, None, f"cannot read '{label}': it is not a regular file.")])
    return descriptor


# --------------------------------------------------------------------------- workbooks

#: '<!DOCTYPE' and '<!ENTITY' as UTF-8 and as UTF-16 (either byte order): an XML part may be in either.
DTD_MARKERS = tuple(marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY")
                    for encoding in ("ascii", "utf-16-le", "utf-16-be"))


def _declares_dtd(stream) -> bool:
    """Scan a part in chunks, each overlapping the last by a marker's length less one byte."""
    overlap = max(len(m) for m in DTD_MARKERS) - 1
    tail = b""
    while chunk := stream.read(CHUNK_BYTES):
        window = tail + chunk
        if any(marker in window for marker in DTD_MARKERS):
            return True
        tail = window[-overlap:]
    return False


def check_archive(path: Path) -> None:
    """Bound the work an untrusted workbook can cause, before any of its XML is parsed.

    An .xlsx file is a zip archive of XML parts: refuse empty files, password-protected (OLE)
    files, archives whose parts are too many, too large or too compressed (zip bombs), and any
    part that declares a DTD anywhere in it (XML entity bombs; no genuine workbook part has one).
    """
    import zipfile

    descriptor = _open_regular(path, path.name)
    with os.fdopen(descriptor, "rb") as handle:
        head = handle.read(8)
    if not head:
        raise _refuse(path, "is empty: it is not a workbook.")
    if head == OLE_MAGIC:
        raise _refuse(path, "is password-protected or an old-style .xls file; save it from Excel as an "
                            ".xlsx workbook without a password.")
    if not zipfile.is_zipfile(path):
        raise _refuse(path, "is not an .xlsx workbook (an .xlsx file is a zip archive); save it from Excel as "
                            ".xlsx, or use a folder of CSV files.")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            check_archive_size(parts, path.name)
            for part in parts:
                if part.file_size > 2**20 and part.file_size > MAX_COMPRESSION_RATIO * max(part.compress_size, 1):
                    raise _refuse(path, f"has a part ('{part.filename}') compressed more than "
                                        f"{MAX_COMPRESSION_RATIO}:1, as zip bombs are; it is refused.")
            for part in parts:
                if part.is_dir() or part.filename.lower().startswith("xl/media/"):
                    continue  # pictures are never parsed as XML
                with archive.open(part) as stream:
                    if _declares_dtd(stream):
                        raise _refuse(path, f"has a part ('{part.filename}') that declares XML entities; "
                                            "it is refused.")
    except zipfile.BadZipFile as exc:
        raise _refuse(path, f"is a damaged zip archive ({exc}); save it again from Excel.") from None


def _read_workbook(path: Path, notes: list[str]) -> list[RawSheet]:
    import zipfile

    from python_calamine import CalamineWorkbook

    check_archive(path)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _sheet_parts(archive)
            book = CalamineWorkbook.from_path(str(path))
            sheets = []
            for name in book.sheet_names:
                if name.strip().lower() not in SHEETS:
                    notes.append(f"sheet '{name}' is not part of the schema and is ignored.")
                    continue
                key = name.strip().lower()
                if name not in parts:
                    raise _refuse(path, f"has no worksheet part for sheet '{name}'; save it again from Excel.")
                extent = measure_sheet(archive, parts[name])
                _check_extent(key, extent)
                if extent.calamine_can_load():
                    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
                else:  # blank cells far beyond the table: read only up to its last value
                    rows = _read_bounded(path, name, extent.value_rows, extent.value_columns)
                rows = [list(r[: extent.value_columns]) for r in rows[: extent.value_rows]]
                sheets.append(RawSheet(name, key, rows, extent.notes, frozenset(extent.merged)))
        return sheets
    except InputError:
        raise
    except Exception as exc:  # calamine and zipfile raise their own error types for damaged files
        raise _refuse(path, f"cannot be read as an .xlsx workbook ({exc}).") from None


def _sheet_parts(archive) -> dict[str, str]:
    """Sheet name -> its worksheet part in the archive, from the workbook part and its relationships."""
    from defusedxml.ElementTree import fromstring

    def relationships(part: str) -> dict[str, str]:
        folder, _, name = part.rpartition("/")
        rels = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
        try:
            root = fromstring(archive.read(rels))
        except KeyError:
            return {}
        out = {}
        for item in root:
            target = item.get("Target", "")
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                resolved = os.path.normpath(f"{folder}/{target}" if folder else target).replace(os.sep, "/")
            out[item.get("Id")] = resolved
        return out

    workbook = next((t for t in relationships("").values() if t.endswith(".xml") and "workbook" in t.lower()),
                    "xl/workbook.xml")
    try:
        root = fromstring(archive.read(workbook))
    except KeyError:
        return {}
    targets = relationships(workbook)
    members = set(archive.namelist())
    relation = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    parts = {}
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet" and element.get("name") is not None:
            target = targets.get(element.get(relation) or "")
            if target in members:
                parts[element.get("name")] = target
    return parts


@dataclass
class SheetExtent:
    """How far a sheet's cells reach (1-based), measured from its XML without loading it.

    rows, columns: the last row and column with any cell; value_rows, value_columns: with a cell that holds
    something other than blanks (equal to rows and columns unless those exceed a limit).
    """

    rows: int = 0
    columns: int = 0
    value_rows: int = 0
    value_columns: int = 0
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: set[tuple[int, int]] = field(default_factory=set)  # the notes' keys that are merges

    def within_limits(self) -> bool:
        return (self.rows <= MAX_ROWS_PER_SHEET + 1 and self.columns <= MAX_COLUMNS_PER_SHEET
                and self.rows * self.columns <= MAX_CELLS_PER_SHEET)

    def calamine_can_load(self) -> bool:
        """calamine allocates rows x columns cells: only when that is not mostly blank space."""
        area, values = self.rows * self.columns, self.value_rows * self.value_columns
        return self.within_limits() and area <= max(2 * values, 100_000)


_NS = rb"(?:[A-Za-z_][\w.-]*:)?"  # a namespace prefix, as some writers put on every element
_ERROR_CELL = re.compile(rb"<" + _NS + rb"c\b([^>]*?\st=\"e\"[^>]*)>(.*?)</" + _NS + rb"c>", re.S)
_FORMULA = re.compile(rb"<" + _NS + rb"f[\s>/]")
#: The end of a cell whose formula has no saved result: </f> (or <f .../>), an empty <v>, then </c>.
_FORMULA_WITHOUT_VALUE = re.compile(rb"(?:</" + _NS + rb"f>|<" + _NS + rb"f\b[^>]*/>)\s*(?:<" + _NS + rb"v\s*/>|<"
                                    + _NS + rb"v>\s*</" + _NS + rb"v>)?\s*</" + _NS + rb"c>")
_MERGE = re.compile(rb"<" + _NS + rb"mergeCell\b[^>]*?\sref=\"([A-Z]{1,4}[0-9]{1,9}(?::[A-Z]{1,4}[0-9]{1,9})?)\"")
_REFERENCE = re.compile(rb"\sr=\"([A-Z]{1,4})([0-9]{1,9})\"")
_TYPE = re.compile(rb"\st=\"(\w+)\"")
_VALUE = re.compile(rb"<" + _NS + rb"v>([^<]*)</" + _NS + rb"v>")
_TEXT = re.compile(rb"<" + _NS + rb"t\b[^>/]*>([^<]*)</" + _NS + rb"t>")
_SHARED_ITEM = re.compile(rb"<" + _NS + rb"si\b[^>]*>(.*?)</" + _NS + rb"si>|<" + _NS + rb"si\s*/>", re.S)


def column_number(letters: str | bytes) -> int:
    """'A' -> 1, 'XFD' -> 16384."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _chunks(archive, part: str):
    """A part's bytes in windows that each end after a cell or a row, so that no cell is cut in two."""
    with archive.open(part) as stream:
        tail = b""
        while chunk := stream.read(CHUNK_BYTES):
            window = tail + chunk
            cut = max(window.rfind(b"</c>") + 4, window.rfind(b"</row>") + 6)
            if b":c>" in window:  # elements with a namespace prefix: find the last end of a cell the slow way
                ends = [m.end() for m in re.finditer(rb"</" + _NS + rb"(?:c|row)>", window)]
                cut = ends[-1] if ends else cut
            if cut < 6:  # no cell ends here: nothing can be cut
                cut = len(window)
            yield window[:cut]
            tail = window[cut:]
        if tail:
            yield tail


#: A cell as Excel, LibreOffice, openpyxl and xlsxwriter write it: the reference first. Cells are counted
#: too (a '<' never appears in text), and any cell not written this way sends the sheet to the slow walk.
_PLAIN_COLUMN = re.compile(rb'<c r="([A-Z]{1,4})[0-9]')
_PLAIN_ROW = re.compile(rb'<c r="[A-Z]{1,4}([0-9]{1,9})"')
_CELL_TAGS = (b"<c ", b"<c\t", b"<c\n", b"<c\r", b"<c>", b"<c/")


def measure_sheet(archive, part: str) -> SheetExtent:
    """The extent of a worksheet part and its cells that hold no value, read streaming from the archive.

    The first pass only collects the largest column letters and row numbers (C-speed regular expressions)
    and the cells holding an error, a formula with no saved result or a merge. A sheet whose extent is
    beyond a limit, or whose cells do not all say where they are, gets a second pass cell by cell that
    ignores cells holding only blanks (one stray space at row 1,048,576 does not make a million rows).
    """
    columns: set[bytes] = set()
    max_row = 0
    unnumbered = False
    extent = SheetExtent()
    merges: list[bytes] = []
    for window in _chunks(archive, part):
        found = _PLAIN_COLUMN.findall(window)
        if len(found) != sum(window.count(tag) for tag in _CELL_TAGS) or (
                b":c" in window and _PREFIXED_CELL.search(window)):
            unnumbered = True  # a cell written otherwise (no reference, a prefix, another attribute first)
        columns.update(found)
        rows = set(_PLAIN_ROW.findall(window))
        if rows:
            max_row = max(max_row, max(int(r) for r in rows))
        if b't="e"' in window:
            _note_errors(window, extent.notes)
        if (b"</f>" in window or b"<f " in window or b":f" in window) and _FORMULA.search(window):
            _note_formulas_without_value(window, extent.notes)
        if b"mergeCell" in window:
            merges += _MERGE.findall(window)
    extent.rows = max_row
    extent.columns = max((column_number(c) for c in columns), default=0)
    extent.value_rows, extent.value_columns = extent.rows, extent.columns
    if unnumbered or not extent.within_limits():
        rows, columns_, extent.value_rows, extent.value_columns = _walk_cells(archive, part)
        extent.rows, extent.columns = max(extent.rows, rows), max(extent.columns, columns_)
    for merged in merges:
        first, _, last = merged.decode("ascii").partition(":")
        row, column = _split_reference(first)
        if row <= extent.value_rows and column <= extent.value_columns and last and last != first:
            extent.merged.add((row - 1, column - 1))
            extent.notes[(row - 1, column - 1)] = (
                f"cells {first}:{last} are merged, so only {first} holds a value; unmerge them and fill in every "
                "cell.")
    return extent


_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s>/]")


def _note_errors(window: bytes, notes: dict[tuple[int, int], str]) -> None:
    for attributes, inner in _ERROR_CELL.findall(window):
        place = _REFERENCE.search(attributes)
        value = _VALUE.search(inner)
        if place:
            error = html.unescape(value.group(1).decode("utf-8", "replace")) if value else "an error"
            notes[(int(place.group(2)) - 1, column_number(place.group(1)) - 1)] = (
                f"the cell holds the error value {error}; correct the formula that gives it, or type the value.")


def _note_formulas_without_value(window: bytes, notes: dict[tuple[int, int], str]) -> None:
    for match in _FORMULA_WITHOUT_VALUE.finditer(window):
        start = max(window.rfind(b"<c ", 0, match.start()), window.rfind(b":c ", 0, match.start()))
        place = _REFERENCE.search(window, start, window.find(b">", start)) if start >= 0 else None
        if place:
            notes[(int(place.group(2)) - 1, column_number(place.group(1)) - 1)] = (
                "the cell holds a formula with no saved result (the program that saved the file did not "
                "calculate it); open the file in Excel or LibreOffice and save it again, or type the value.")


def _split_reference(reference: str) -> tuple[int, int]:
    letters = reference.rstrip("0123456789")
    return int(reference[len(letters):]), column_number(letters)


_ROW_OR_CELL = re.compile(rb"<" + _NS + rb"row\b([^>]*)>|<" + _NS + rb"c\b([^>]*?)(/>|>(.*?)</" + _NS + rb"c>)",
                          re.S)


def _walk_cells(archive, part: str) -> tuple[int, int, int, int]:
    """Cell by cell (slow; only for sheets beyond a limit or with cells that do not say where they are):
    the last row and column of any cell, and of a cell that holds something other than blanks. A cell
    without a reference is the one after its left neighbour, a row without one the one after the last."""
    blank_strings = _blank_shared_strings(archive)
    rows = columns = value_rows = value_columns = 0
    row = column = 0
    for window in _chunks(archive, part):
        for row_attributes, attributes, closing, inner in _ROW_OR_CELL.findall(window):
            if not attributes and not closing:  # a <row> tag
                number = re.search(rb"\sr=\"([0-9]{1,9})\"", row_attributes)
                row = int(number.group(1)) if number else row + 1
                column = 0
                continue
            place = _REFERENCE.search(attributes)
            if place:
                row, column = int(place.group(2)), column_number(place.group(1))
            else:
                column += 1
            rows, columns = max(rows, row), max(columns, column)
            if closing != b"/>" and _holds_value(attributes, inner, blank_strings):
                value_rows, value_columns = max(value_rows, row), max(value_columns, column)
    return rows, columns, value_rows, value_columns


def _holds_value(attributes: bytes, inner: bytes, blank_strings: set[int]) -> bool:
    kind = _TYPE.search(attributes)
    kind = kind.group(1) if kind else b"n"
    if kind == b"inlineStr":
        return bool(html.unescape(b"".join(_TEXT.findall(inner)).decode("utf-8", "replace")).strip())
    value = _VALUE.search(inner)
    text = value.group(1).strip() if value else b""
    if kind == b"s":
        return text.isdigit() and int(text) not in blank_strings
    return bool(html.unescape(text.decode("utf-8", "replace")).strip()) or _FORMULA.search(inner) is not None


def _blank_shared_strings(archive) -> set[int]:
    """Indices of the shared strings that hold only blanks."""
    part = next((n for n in archive.namelist() if n.lower().endswith("sharedstrings.xml")), None)
    if part is None:
        return set()
    blank: set[int] = set()
    index = 0
    with archive.open(part) as stream:
        tail = b""
        while chunk := stream.read(CHUNK_BYTES):
            window = tail + chunk
            cut = window.rfind(b"</si>")
            cut = cut + len(b"</si>") if cut >= 0 else 0
            for match in _SHARED_ITEM.finditer(window, 0, cut):
                inner = match.group(1) or b""
                if not html.unescape(b"".join(_TEXT.findall(inner)).decode("utf-8", "replace")).strip():
                    blank.add(index)
                index += 1
            tail = window[cut:]
    return blank


def _check_extent(sheet: str, extent: SheetExtent) -> None:
    problems = []
    if extent.value_rows > MAX_ROWS_PER_SHEET + 1:
        problems.append(f"its cells reach row {extent.value_rows:,}, beyond the limit of {MAX_ROWS_PER_SHEET:,} "
                        "rows below the header; split the instance or aggregate rows, and delete anything far "
                        "below the table.")
    if extent.value_columns > MAX_COLUMNS_PER_SHEET:
        problems.append(f"its cells reach column {column_letters(extent.value_columns)} (column "
                        f"{extent.value_columns:,}), beyond the limit of {MAX_COLUMNS_PER_SHEET:,} columns; delete "
                        "anything far to the right of the table.")
    if not problems and extent.value_rows * extent.value_columns > MAX_CELLS_PER_SHEET:
        problems.append(f"its cells span {extent.value_rows:,} rows by {extent.value_columns:,} columns, more "
                        f"than the limit of {MAX_CELLS_PER_SHEET:,} cells; split the instance or delete columns.")
    if problems:
        raise InputError([Problem(sheet, None, None, p) for p in problems])


def _read_bounded(path: Path, name: str, rows: int, columns: int) -> list[list[object]]:
    """A sheet read streaming up to its last row and column of values (openpyxl, read-only): for the rare
    sheet whose blank cells reach far beyond its table, which calamine would allocate in full."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book[name]
        return [[float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in row]
                for row in sheet.iter_rows(min_row=1, max_row=rows, max_col=columns, values_only=True)]
    finally:
        book.close()


# --------------------------------------------------------------------------- CSV folders

def _read_csv_folder(path: Path, notes: list[str]) -> list[RawSheet]:
    import csv

    try:
        files = sorted((f for f in path.iterdir() if f.suffix.lower() == ".csv"), key=lambda f: f.name)
    except OSError as exc:
        raise InputError([Problem(None, None, None, f"cannot read folder '{path}': {exc.strerror}.")]) from None
    if not files:
        raise InputError([Problem(None, None, None, f"folder '{path}' holds no .csv files.")])
    problems: list[Problem] = []
    sheets = []
    for file in files:
        key = file.stem.strip().lower()
        if key not in SHEETS:
            notes.append(f"file '{file.name}' is not a sheet of the schema and is ignored.")
            continue
        try:
            descriptor = _open_regular(file, file.name)
        except InputError as exc:
            problems += exc.problems
            continue
        try:
            with os.fdopen(descriptor, newline="", encoding="utf-8-sig") as handle:
                delimiter = _sniff_delimiter(handle)
                if delimiter != ",":
                    notes.append(f"'{file.name}' is separated by {SEPARATOR_NAMES[delimiter]}, not commas; it "
                                 f"was read with {SEPARATOR_NAMES[delimiter]} between columns (numbers need a "
                                 "decimal point).")
                rows = []
                filled = 0
                for row in csv.reader(handle, delimiter=delimiter):
                    rows.append(row)
                    if any(v.strip() for v in row):
                        filled += 1
                    if filled > MAX_ROWS_PER_SHEET + 1:
                        raise InputError([Problem(key, None, None,
                                                  f"more than {MAX_ROWS_PER_SHEET:,} rows, the limit; split the "
                                                  "instance or aggregate rows.")])
                    if len(row) > MAX_COLUMNS_PER_SHEET and any(v.strip() for v in row[MAX_COLUMNS_PER_SHEET:]):
                        raise InputError([Problem(key, len(rows), None,
                                                  f"this row has values beyond column {MAX_COLUMNS_PER_SHEET:,}, "
                                                  "the limit; delete them.")])
                sheets.append(RawSheet(file.name, key, rows))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError([Problem(key, None, None,
                                      f"'{file.name}' is not a readable UTF-8 CSV file ({exc}).")]) from None
    if problems:
        raise InputError(problems)
    return sheets


SEPARATOR_NAMES = {";": "semicolons", "\t": "tabs", ",": "commas"}


def _sniff_delimiter(handle) -> str:
    """',' unless the first non-blank line has no comma but semicolons or tabs (a European Excel's CSV)."""
    start = handle.tell()
    line = ""
    for _ in range(100):
        line = handle.readline(1 << 16)
        if not line or line.strip():
            break
    handle.seek(start)
    if "," in line:
        return ","
    for separator in (";", "\t"):
        if separator in line:
            return separator
    return ","


# --------------------------------------------------------------------------- rows to tables

def _clean(value: object) -> object:
    """None for blanks; strings stripped; everything else as the reader typed it."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    try:
        if pd.isna(value):  # NaN, pandas' NA and NaT are blanks too
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    return value


def _known_column(sheet: str, name: str) -> bool:
    return any(c.name == name for c in SHEETS.get(sheet, ())) or (sheet == "suppliers"
                                                                   and name.endswith(STAGE_SUFFIX))


def _title_rows(sheet: str, rows: list[list[object]], header_at: int) -> int | None:
    """The row (from 0) that holds the column names when the first filled row is a title above them."""
    if sheet not in SHEETS or any(isinstance(v, str) and _known_column(sheet, v.strip().lower())
                                  for v in rows[header_at]):
        return None
    required = {c.name for c in SHEETS[sheet] if c.required}
    for k in range(header_at + 1, min(len(rows), header_at + 21)):
        if any(isinstance(v, str) and v.strip().lower() in required for v in rows[k]):
            return k
    return None


def _to_frame(sheet: str, rows: list[list[object]], problems: list[Problem],
              notes: dict[tuple[int, int], str] | None = None,
              noted: list[Problem] | None = None, merged: frozenset = frozenset()) -> pd.DataFrame | None:
    rows = [[_clean(v) for v in r] for r in rows]
    header_at = next((i for i, r in enumerate(rows) if any(v is not None for v in r)), None)
    if header_at is None:
        return pd.DataFrame(columns=[]).astype(object)
    names_at = _title_rows(sheet, rows, header_at)
    if names_at is not None:
        above = f"row {header_at + 1}" if names_at == header_at + 1 else f"rows {header_at + 1}-{names_at}"
        problems.append(Problem(sheet, header_at + 1, None,
                                f"the column names are in row {names_at + 1}, below a title; delete {above} so "
                                "that the column names are the first row."))
        return None
    header = rows[header_at]
    names: list[str] = []
    for j, value in enumerate(header):
        name = str(value).strip().lower() if value is not None else f"_blank_{j}"
        if name in names and not name.startswith("_blank_"):
            problems.append(Problem(sheet, header_at + 1, name,
                                    "this column header appears twice; keep one of them."))
        names.append(name)
    for (i, j), note in sorted((notes or {}).items()):
        if i == header_at or (i > header_at and j < len(names) and _known_column(sheet, names[j])):
            problems.append(Problem(sheet, i + 1, names[j] if i > header_at else None, note))
            if noted is not None and i > header_at and (i, j) not in merged:
                noted.append(problems[-1])
    body = []
    index = []
    beyond: list[int] = []
    for i, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(v is not None for v in r):
            continue
        r = list(r) + [None] * (len(names) - len(r))
        if any(v is not None for v in r[len(names):]):
            beyond.append(i)
        body.append(r[: len(names)])
        index.append(i)
    if beyond:
        more = f" (and {len(beyond) - 1:,} more rows below it)" if len(beyond) > 1 else ""
        problems.append(Problem(sheet, beyond[0], None, f"this row{more} has values beyond the last column header; "
                                                        "add a header for them or delete them."))
    frame = pd.DataFrame(body, columns=names, index=pd.Index(index, name="row"), dtype=object)
    for j, name in enumerate(names):
        if name.startswith("_blank_") and frame[name].notna().any():
            row = frame.index[frame[name].notna()][0]
            problems.append(Problem(sheet, header_at + 1, None, f"column {j + 1} has values (from row {row}) but no "
                                                                "header; add the header or delete the values."))
    keep = [n for n in names if not n.startswith("_blank_")]
    return frame[keep].copy()


def tables_from_frames(frames: dict[str, pd.DataFrame | list[dict]], warnings: list[str] | None = None) -> Tables:
    """Raw tables from pandas DataFrames (or lists of row dicts), as if read from a workbook.

    Row numbers are those the rows would have on a sheet (header = row 1). warnings: as for read_tables.
    """
    problems: list[Problem] = []
    tables: Tables = {}
    seen: dict[str, str] = {}
    for name, frame in frames.items():
        frame = pd.DataFrame(frame)
        key = name.strip().lower()
        if key not in SHEETS:
            note = f"sheet '{name}' is not part of the schema and is ignored."
            if warnings is None:
                python_warnings.warn(note, stacklevel=2)
            else:
                warnings.append(note)
            continue
        if key in seen:
            problems.append(Problem(key, None, None, f"sheets '{seen[key]}' and '{name}' are both sheet '{key}'; "
                                                     "delete or rename one of them."))
            continue
        seen[key] = name
        if frame.empty and not len(frame.columns):  # [] = a sheet with no rows
            frame = pd.DataFrame(columns=[c.name for c in SHEETS[key]])
        rows = [list(frame.columns)] + frame.astype(object).values.tolist()
        table = _to_frame(key, rows, problems)
        if table is not None:
            tables[key] = table
    if problems:
        raise InputError(problems)
    return tables
