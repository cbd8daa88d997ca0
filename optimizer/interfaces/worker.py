"""Imported once by the app's fork server, so that every worker process starts with the library loaded."""

from __future__ import annotations

import optimizer as so

for _name in ("solve", "frontier", "compare", "write_plan", "write_frontier", "write_comparison",
              "frontier_figure"):
    getattr(so, _name)
