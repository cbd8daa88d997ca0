"""Rare-earth sourcing optimizer: least expected cost portfolios under disruption scenarios.

    import optimizer as so
    data = so.read_instance("instances/rare_earths_2026")
    result = so.solve(data)
    so.write_plan(result, "plan.xlsx")

The names below are the public API. Each is imported when first used, so that a command pays
only for the stages it runs (Pyomo, pandas and matplotlib are slow to import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: public name -> module that defines it
_PUBLIC = {
    "read_instance": ".inputs", "from_frames": ".inputs",
    "Settings": ".inputs.data", "SourcingData": ".inputs.data",
    "InputError": ".inputs.errors", "Problem": ".inputs.errors",
    "Overrides": ".inputs.edits", "cap_label": ".inputs.edits", "apply_case": ".inputs.edits",
    "case_edits": ".inputs.edits",
    "Levers": ".inputs.levers", "read_upload": ".inputs.uploads", "MAX_UPLOAD_BYTES": ".inputs.uploads",
    "solve": ".solving.pipeline", "Result": ".solving.results",
    "Comparison": ".analysis.compare", "compare": ".analysis.compare",
    "Frontier": ".analysis.frontier", "frontier": ".analysis.frontier", "at_share": ".analysis.frontier",
    "value_of_information": ".analysis.information",
    "why_these_suppliers": ".analysis.why", "WhyAnalysis": ".analysis.why",
    "sample_instance": ".analysis.sampling", "sampled_tables": ".analysis.sampling",
    "stress": ".analysis.stress", "StressResult": ".analysis.stress", "Plan": ".analysis.stress",
    "paired_difference": ".analysis.stress", "plan_differences": ".analysis.stress",
    "plan_of": ".analysis.stress", "read_plan": ".analysis.stress", "lower_bound": ".analysis.stress",
    "write_stress": ".reports.stress", "stress_figure": ".reports.stress",
    "write_plan": ".reports.export", "write_comparison": ".reports.export", "write_frontier": ".reports.export",
    "write_tables": ".reports.export", "write_csv_tables": ".reports.export", "write_instance": ".reports.export",
    "check_outputs": ".reports.files", "Output": ".reports.files", "OutputPathError": ".reports.files",
    "comparison_figure": ".reports.figures", "frontier_figure": ".reports.figures", "plan_figure": ".reports.figures",
    "supply_chart": ".reports.figures", "cost_chart": ".reports.figures", "share_chart": ".reports.figures",
    "frontier_chart": ".reports.figures", "comparison_chart": ".reports.figures",
    "supply_table": ".reports.figures", "cost_table": ".reports.figures", "share_table": ".reports.figures",
    "write_plan_pdf": ".reports.pdf", "write_comparison_pdf": ".reports.pdf", "write_frontier_pdf": ".reports.pdf",
    "bundled_instance": ".inputs.catalog", "read_tables": ".inputs.reader",
    "generate": ".inputs.generate", "SCALES": ".inputs.generate",
    "OPTIMAL": ".solving.solver", "INFEASIBLE": ".solving.solver", "TIME_LIMIT": ".solving.solver",
    "UNBOUNDED": ".solving.solver", "SolveStopped": ".solving.solver",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:  # for type checkers and editors; never executed
    from .analysis.compare import Comparison, compare
    from .analysis.frontier import Frontier, at_share, frontier
    from .analysis.information import value_of_information
    from .analysis.why import WhyAnalysis, why_these_suppliers
    from .analysis.sampling import sample_instance, sampled_tables
    from .analysis.stress import Plan, StressResult, lower_bound, plan_of, read_plan, stress
    from .reports.stress import stress_figure, write_stress
    from .inputs import from_frames, read_instance
    from .inputs.data import Settings, SourcingData
    from .inputs.edits import Overrides, apply_case, case_edits
    from .inputs.errors import InputError, Problem
    from .inputs.levers import Levers
    from .inputs.uploads import MAX_UPLOAD_BYTES, read_upload
    from .inputs.catalog import bundled_instance
    from .inputs.generate import SCALES, generate
    from .inputs.reader import read_tables
    from .reports.export import (write_comparison, write_csv_tables, write_frontier, write_instance, write_plan,
                                 write_tables)
    from .reports.figures import (comparison_chart, comparison_figure, cost_chart, cost_table, frontier_chart,
                                  frontier_figure, plan_figure, share_chart, share_table, supply_chart, supply_table)
    from .reports.files import Output, OutputPathError, check_outputs
    from .reports.pdf import write_comparison_pdf, write_frontier_pdf, write_plan_pdf
    from .solving.pipeline import solve
    from .solving.solver import INFEASIBLE, OPTIMAL, TIME_LIMIT, UNBOUNDED, SolveStopped
    from .solving.results import Result
