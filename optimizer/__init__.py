"""Rare-earth sourcing optimizer: least expected cost portfolios under disruption scenarios.

    import optimizer as so
    data = so.read_instance("instances/rare_earths_2026")
    result = so.solve(data)
    so.write_plan(result, "plan.xlsx")
"""

from __future__ import annotations

from .api import from_frames, read_instance
from .data import Settings, SourcingData
from .errors import InputError, Problem
from .export import write_plan
from .solve import solve

__all__ = ["InputError", "Problem", "Settings", "from_frames", "SourcingData", "read_instance", "solve", "write_plan"]
