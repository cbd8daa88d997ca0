"""The Python API: read an instance, solve it, write the plan."""

from __future__ import annotations

from pathlib import Path

from .data import SourcingData
from .reader import read_tables
from .validate import validate


def read_instance(path: str | Path) -> SourcingData:
    """Read and validate a workbook or a CSV folder. Raises InputError on bad input."""
    return validate(read_tables(path), source=str(path))


def from_frames(frames: dict, source: str = "frames") -> SourcingData:
    """Validate tables given as pandas DataFrames (or lists of row dicts), keyed by sheet name."""
    from .reader import tables_from_frames

    return validate(tables_from_frames(frames), source=source)
