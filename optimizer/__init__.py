"""Rare-earth sourcing optimizer: least expected cost portfolios under disruption scenarios.

    import optimizer as so
    data = so.read_instance("instances/rare_earths_2026")
    result = so.solve(data)
    so.write_plan(result, "plan.xlsx")
"""

from __future__ import annotations

from .inputs import from_frames, read_instance
from .analysis.compare import Comparison, compare
from .analysis.frontier import Frontier, frontier
from .analysis.information import value_of_information
from .inputs.edits import Overrides, apply_case, case_edits
from .inputs.data import Settings, SourcingData
from .inputs.errors import InputError, Problem
from .reports.export import write_comparison, write_frontier, write_plan
from .solving.solver import solve

__all__ = [
    "Comparison", "Frontier", "InputError", "Overrides", "Problem", "Settings", "SourcingData", "apply_case",
    "case_edits", "compare", "from_frames", "frontier", "read_instance", "solve", "value_of_information",
    "write_comparison", "write_frontier", "write_plan",
]
