"""PNG figures (matplotlib) of the de-risking curve and the case comparison."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from .files import atomic_write  # noqa: E402


def _save(figure, path: str | Path) -> Path:
    """Write the figure atomically, in the format its extension names (.png, .pdf, .svg, ...)."""
    image_format = Path(path).suffix.lower().lstrip(".") or "png"
    return atomic_write(path, lambda temporary: figure.savefig(temporary, format=image_format))


def _money(currency: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}M {currency}")


def frontier_figure(frontier, path: str | Path) -> Path:
    """Objective and expected cost against the cap's max_share; infeasible region shaded, current plan marked."""
    table = frontier.table
    feasible = table[table["status"] == "optimal"].sort_values("max_share")
    currency = frontier.currency
    figure, axis = plt.subplots(figsize=(8, 5), dpi=120)
    axis.plot(feasible["max_share"], feasible["objective"], marker="o", label="objective (expected cost + risk)")
    axis.plot(feasible["max_share"], feasible[f"expected_cost_{currency}"], marker=".", linestyle="--",
              label="expected cost")
    if frontier.tightest is not None and frontier.tightest > 0:
        axis.axvspan(0, frontier.tightest, color="grey", alpha=0.25,
                     label=f"no plan below {frontier.tightest:.1%}")
    if frontier.current is not None:
        current = table[(table["max_share"] - frontier.current).abs() < 1e-12]
        if len(current) and current["status"].iloc[0] == "optimal":
            axis.scatter(current["max_share"], current["objective"], s=120, marker="*", color="red", zorder=5,
                         label=f"current cap {frontier.current:.0%}")
    axis.xaxis.set_major_formatter(PercentFormatter(1.0))
    axis.yaxis.set_major_formatter(_money(currency))
    axis.set_xlabel(f"{frontier.cap}: most allowed share of demand")
    axis.set_ylabel(currency)
    axis.set_title(f"Cost of de-risking: {frontier.cap}")
    axis.set_xlim(0, max(1.0, float(table["max_share"].max())))
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    try:
        return _save(figure, path)
    finally:
        plt.close(figure)


def comparison_figure(comparison, path: str | Path) -> Path:
    """Expected cost against the dependency share, one labelled point per solved case."""
    summary = comparison.summary
    currency = comparison.currency
    share = next((c for c in summary.columns if c.startswith("expected_") and c.endswith("_share")), None)
    solved = summary[summary["status"] == "optimal"]
    figure, axis = plt.subplots(figsize=(8, 5), dpi=120)
    if share is not None:
        for row in solved.itertuples(index=False):
            x, y = getattr(row, share), getattr(row, f"expected_cost_{currency}")
            axis.scatter([x], [y], s=60)
            axis.annotate(row.case, (x, y), textcoords="offset points", xytext=(6, 4))
        axis.xaxis.set_major_formatter(PercentFormatter(1.0))
        axis.set_xlabel(share.replace("_", " "))
    axis.yaxis.set_major_formatter(_money(currency))
    axis.set_ylabel("expected cost")
    axis.set_title("What-if cases")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    try:
        return _save(figure, path)
    finally:
        plt.close(figure)
