"""The Python API: read an instance, solve it, write the plan."""

from __future__ import annotations

from pathlib import Path

from .data import SourcingData
from .errors import InputError
from .reader import CellsWithoutValues, read_tables
from .validate import validate


def read_instance(path: str | Path) -> SourcingData:
    """Read and validate a workbook or a CSV folder. Raises InputError on bad input.

    Notes for the user (an unknown sheet ignored, a CSV file read with semicolons) are in data.warnings.
    """
    notes: list[str] = []
    try:
        tables = read_tables(path, warnings=notes)
    except CellsWithoutValues as blank:  # check the rest too, so that every problem is reported at once
        try:
            validate(blank.tables, source=str(path))
        except InputError as error:
            seen = {(p.sheet, p.row, p.column) for p in blank.problems}
            raise InputError(blank.problems + [p for p in error.problems
                                               if (p.sheet, p.row, p.column) not in seen]) from None
        raise InputError(blank.problems) from None
    data = validate(tables, source=str(path))
    data.warnings[:0] = notes
    return data


def from_frames(frames: dict, source: str = "frames") -> SourcingData:
    """Validate tables given as pandas DataFrames (or lists of row dicts), keyed by sheet name."""
    from .reader import tables_from_frames

    notes: list[str] = []
    data = validate(tables_from_frames(frames, warnings=notes), source=source)
    data.warnings[:0] = notes
    return data
