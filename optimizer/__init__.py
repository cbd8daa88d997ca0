"""Rare-earth sourcing optimizer: least expected cost portfolios under disruption scenarios.

    import optimizer as so
    data = so.read_instance("instances/rare_earths_2026")
    result = so.solve(data)
    so.write_plan(result, "plan.xlsx")
"""

from __future__ import annotations

from .api import from_frames, read_instance
from .compare import Comparison, compare
from .frontier import Frontier, frontier
from .stochastic import value_of_information
from .whatif import Overrides, apply_case, case_edits
from .data import Settings, SourcingData
from .errors import InputError, Problem
from .export import write_comparison, write_frontier, write_plan
from .solve import solve

__all__ = [
    "Comparison", "Frontier", "InputError", "Overrides", "Problem", "Settings", "SourcingData", "apply_case",
    "case_edits", "compare", "from_frames", "frontier", "read_instance", "solve", "value_of_information",
    "write_comparison", "write_frontier", "write_plan",
]
