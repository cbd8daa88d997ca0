"""The Python API: read an instance, solve it, write the plan."""

from __future__ import annotations

from pathlib import Path

from .data import SourcingData
from .reader import read_tables
from .validate import validate


def read_instance(path: str | Path) -> SourcingData:
    """Read and validate a workbook or a CSV folder. Raises InputError on bad input.

    Notes for the user (an unknown sheet ignored, a CSV file read with semicolons) are in data.warnings.
    """
    notes: list[str] = []
    data = validate(read_tables(path, warnings=notes), source=str(path))
    data.warnings[:0] = notes
    return data


def from_frames(frames: dict, source: str = "frames") -> SourcingData:
    """Validate tables given as pandas DataFrames (or lists of row dicts), keyed by sheet name."""
    from .reader import tables_from_frames

    notes: list[str] = []
    data = validate(tables_from_frames(frames, warnings=notes), source=source)
    data.warnings[:0] = notes
    return data
