"""Read the input tables from an .xlsx workbook or a folder of CSV files.

Owns the file formats only: every cell comes back as None (blank), str, float,
bool or datetime, on an index of spreadsheet row numbers (header = row 1).
Types and meaning are checked by `validate`, not here.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .schema import (MAX_ARCHIVE_PARTS, MAX_COMPRESSION_RATIO, MAX_ROWS_PER_SHEET, MAX_UNCOMPRESSED_BYTES,
                     SHEETS)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

Tables = dict[str, pd.DataFrame]


def read_tables(path: str | Path) -> Tables:
    """Read every known sheet of a workbook or CSV folder into raw tables."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(None, None, None, f"'{path}' does not exist.")])
    if path.is_dir():
        raw = _read_csv_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _read_workbook(path)
    else:
        raise InputError([Problem(None, None, None,
                                  f"'{path.name}' is neither an .xlsx workbook nor a folder of CSV files.")])
    tables: Tables = {}
    problems: list[Problem] = []
    for name, rows in raw.items():
        key = name.strip().lower()
        if key not in SHEETS:
            warnings.warn(f"sheet '{name}' is not part of the schema and is ignored", stacklevel=2)
            continue
        table = _to_frame(key, rows, problems)
        if table is not None:
            tables[key] = table
    if problems:
        raise InputError(problems)
    return tables


def _refuse(path: Path, why: str) -> InputError:
    return InputError([Problem(None, None, None, f"'{path.name}' {why}")])


def check_archive(path: Path) -> None:
    """Bound the work an untrusted workbook can cause, before any of its XML is parsed.

    An .xlsx file is a zip archive of XML parts: refuse empty files, password-protected (OLE)
    files, archives whose parts are too many, too large or too compressed (zip bombs), and any
    part that declares a DTD (XML entity bombs; no genuine workbook part has one).
    """
    import zipfile

    with path.open("rb") as handle:
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
            if len(parts) > MAX_ARCHIVE_PARTS:
                raise _refuse(path, f"has {len(parts):,} parts, more than the limit of {MAX_ARCHIVE_PARTS:,}.")
            total = sum(p.file_size for p in parts)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise _refuse(path, f"would unpack to {total / 2**20:,.0f} MiB, more than the limit of "
                                    f"{MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MiB.")
            for part in parts:
                if part.file_size > 2**20 and part.file_size > MAX_COMPRESSION_RATIO * max(part.compress_size, 1):
                    raise _refuse(path, f"has a part ('{part.filename}') compressed more than "
                                        f"{MAX_COMPRESSION_RATIO}:1, as zip bombs are; it is refused.")
                if part.filename.endswith((".xml", ".rels")):
                    with archive.open(part) as stream:
                        start = stream.read(4096)
                    if b"<!DOCTYPE" in start or b"<!ENTITY" in start:
                        raise _refuse(path, f"has a part ('{part.filename}') that declares XML entities; "
                                            "it is refused.")
    except zipfile.BadZipFile as exc:
        raise _refuse(path, f"is a damaged zip archive ({exc}); save it again from Excel.") from None


def _read_workbook(path: Path) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    check_archive(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        raw = {}
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            if sheet.total_height > MAX_ROWS_PER_SHEET + 1 and name.strip().lower() in SHEETS:
                raise InputError([Problem(name.strip().lower(), None, None,
                                          f"{sheet.total_height - 1:,} rows is more than the limit of "
                                          f"{MAX_ROWS_PER_SHEET:,}; split the instance or aggregate rows.")])
            raw[name] = sheet.to_python(skip_empty_area=False)
        return raw
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise _refuse(path, f"cannot be read as an .xlsx workbook ({exc}).") from None


def _read_csv_folder(path: Path) -> dict[str, list[list[object]]]:
    import csv

    raw: dict[str, list[list[object]]] = {}
    for file in sorted(path.glob("*.csv")):
        try:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                rows = []
                for row in csv.reader(handle):
                    rows.append(row)
                    if len(rows) > MAX_ROWS_PER_SHEET + 1:
                        raise InputError([Problem(file.stem.lower(), None, None,
                                                  f"more than {MAX_ROWS_PER_SHEET:,} rows, the limit; split the "
                                                  "instance or aggregate rows.")])
                raw[file.stem] = rows
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError([Problem(file.stem, None, None,
                                      f"'{file.name}' is not a readable UTF-8 CSV file ({exc}).")]) from None
    if not raw:
        raise InputError([Problem(None, None, None, f"folder '{path}' holds no .csv files.")])
    return raw


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


def _to_frame(sheet: str, rows: list[list[object]], problems: list[Problem]) -> pd.DataFrame | None:
    rows = [[_clean(v) for v in r] for r in rows]
    header_at = next((i for i, r in enumerate(rows) if any(v is not None for v in r)), None)
    if header_at is None:
        return pd.DataFrame(columns=[]).astype(object)
    header = rows[header_at]
    names: list[str] = []
    for j, value in enumerate(header):
        name = str(value).strip().lower() if value is not None else f"_blank_{j}"
        if name in names and not name.startswith("_blank_"):
            problems.append(Problem(sheet, header_at + 1, name,
                                    "this column header appears twice; keep one of them."))
        names.append(name)
    body = []
    index = []
    for i, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(v is not None for v in r):
            continue
        r = list(r) + [None] * (len(names) - len(r))
        if any(v is not None for v in r[len(names):]):
            problems.append(Problem(sheet, i, None, "this row has values beyond the last column header; "
                                    "add a header for them or delete them."))
        body.append(r[: len(names)])
        index.append(i)
    frame = pd.DataFrame(body, columns=names, index=pd.Index(index, name="row"), dtype=object)
    for j, name in enumerate(names):
        if name.startswith("_blank_") and frame[name].notna().any():
            row = frame.index[frame[name].notna()][0]
            problems.append(Problem(sheet, header_at + 1, None, f"column {j + 1} has values (from row {row}) but no "
                                                                "header; add the header or delete the values."))
    keep = [n for n in names if not n.startswith("_blank_")]
    return frame[keep].copy()


def tables_from_frames(frames: dict[str, pd.DataFrame | list[dict]]) -> Tables:
    """Raw tables from pandas DataFrames (or lists of row dicts), as if read from a workbook.

    Row numbers are those the rows would have on a sheet (header = row 1).
    """
    problems: list[Problem] = []
    tables: Tables = {}
    for name, frame in frames.items():
        frame = pd.DataFrame(frame)
        key = name.strip().lower()
        if frame.empty and not len(frame.columns) and key in SHEETS:  # [] = a sheet with no rows
            frame = pd.DataFrame(columns=[c.name for c in SHEETS[key]])
        rows = [list(frame.columns)] + frame.astype(object).values.tolist()
        if key not in SHEETS:
            warnings.warn(f"sheet '{name}' is not part of the schema and is ignored", stacklevel=2)
            continue
        tables[key] = _to_frame(key, rows, problems)
    if problems:
        raise InputError(problems)
    return tables
