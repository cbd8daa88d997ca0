"""Imported once by the app's fork server, so that every worker process starts with the library loaded:
the modules each job uses (solving, the Why analysis, the stress test, the workbooks) and matplotlib with
its fonts and PDF backend, which the plan's one-page PDF and every figure need (about 0.4 s a job
otherwise)."""

from __future__ import annotations

import optimizer as so

for _name in ("solve", "why_these_suppliers", "frontier", "compare", "stress", "plan_of", "paired_difference",
              "write_plan", "write_plan_pdf", "write_frontier", "write_comparison", "write_stress",
              "frontier_figure", "comparison_figure", "stress_figure"):
    getattr(so, _name)

import matplotlib  # noqa: E402  (the figures' backend, as the library selects it on its first figure)

matplotlib.use("Agg")
import matplotlib.backends.backend_agg  # noqa: E402,F401
import matplotlib.backends.backend_pdf  # noqa: E402,F401
import matplotlib.figure  # noqa: E402,F401
import matplotlib.font_manager  # noqa: E402,F401  (reads the font list once)
import matplotlib.ticker  # noqa: E402,F401
