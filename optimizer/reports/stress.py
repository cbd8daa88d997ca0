"""The stress test's workbook (summary, per-future tables, a histogram chart) and its PNG figure.

Writes what analysis.stress computed; computes nothing but the histogram's bins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.stress import plan_differences
from .export import MAX_DETAIL_ROWS, Workbook, _print_wide
from .files import atomic_write

BINS = 40


def histogram(result) -> pd.DataFrame:
    """Cost histogram of every plan and policy on common bins: bin_low, bin_high, bin_mid and one column of
    probabilities (share of futures) per plan and policy."""
    currency = result.currency
    futures = result.futures
    cost = futures[f"cost_{currency}"].to_numpy(dtype=float)
    low, high = (float(cost.min()), float(cost.max())) if len(cost) else (0.0, 1.0)
    if high <= low:
        high = low + max(1.0, abs(low) * 1e-6)
    edges = np.linspace(low, high, BINS + 1)
    table = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "bin_mid": (edges[:-1] + edges[1:]) / 2})
    for (plan, policy), group in futures.groupby(["plan", "policy"], sort=False):
        counts, _ = np.histogram(group[f"cost_{currency}"], bins=edges, weights=group["probability"])
        table[f"share of futures, {plan}: {policy}"] = counts
    return table


def write_stress(result, path: str | Path) -> Path:
    """Summary (statistics with their 95% intervals, materials, rules broken, the lower bound), Futures and
    Future materials (one row per future; left out beyond the sheet limit, use the Python API), Histogram."""
    currency = result.currency

    def write(temporary: Path) -> None:
        book = Workbook(temporary)
        where = "the instance's own scenarios" if result.own_scenarios else \
            f"{result.n_futures:,} futures drawn from the disruption model (seed {result.seed})"
        rows = [("Futures", where, ""), ("Plans", ", ".join(result.plans), ""),
                ("CVaR level", result.cvar_level, "share"), ("Currency", currency, ""),
                ("Seconds", round(result.seconds, 2), ""), ("Worker processes", result.workers, "")]
        end = book.key_values("Summary", "Stress test", rows)
        book.table("Summary", result.summary, start_row=end + 1, title="Cost and shortfall (95% intervals)")
        end += len(result.summary) + 4
        book.table("Summary", result.materials, start_row=end, title="Materials: fill rates and dependency share")
        end += len(result.materials) + 3
        if result.lower_bound is not None:
            book.table("Summary", result.lower_bound, start_row=end, title="How far from optimal")
            end += len(result.lower_bound) + 3
        if len(result.plans) > 1:
            differences = plan_differences(result)
            book.table("Summary", differences, start_row=end,
                       title=f"Each plan against {result.plans[0]}, future by future (the same futures)")
            end += len(differences) + 3
        book.table("Rules", result.rules)
        for name, table in (("Futures", result.futures), ("Future materials", result.future_materials)):
            if len(table) <= MAX_DETAIL_ROWS:
                book.table(name, table)
            else:
                book.table(name, pd.DataFrame({"note": [f"{len(table):,} rows are more than a sheet should hold; "
                                                        "StressResult in the Python API has them all."]}))
        bins = histogram(result)
        book.table("Histogram", bins)
        chart = book.book.add_chart({"type": "scatter", "subtype": "straight"})
        chart.set_title({"name": f"Cost over {where}"})
        chart.set_x_axis({"name": f"cost ({currency})", "num_format": "#,##0", "major_gridlines": {"visible": True}})
        chart.set_y_axis({"name": "share of futures", "num_format": "0%"})
        chart.set_size({"width": 860, "height": 460})
        for j, column in enumerate(bins.columns[3:], start=3):
            chart.add_series({"name": column, "categories": ["Histogram", 1, 2, len(bins), 2],
                              "values": ["Histogram", 1, j, len(bins), j]})
        book.sheets["Histogram"].insert_chart(1, len(bins.columns) + 1, chart)
        _print_wide(book.sheets["Histogram"])
        book.close()

    return atomic_write(path, write)


def stress_figure(result, path: str | Path) -> Path:
    """Histogram of cost per plan and policy (re-planning solid, perfect foresight dashed), CVaR marked."""
    from .figures import _money, _save, new_figure

    bins = histogram(result)
    figure = new_figure(figsize=(9, 5), dpi=120)  # no pyplot state: safe from any thread
    axis = figure.subplots()
    width = float(bins["bin_high"].iloc[0] - bins["bin_low"].iloc[0])
    for column in bins.columns[3:]:
        dashed = column.endswith("perfect foresight")
        axis.step(bins["bin_mid"], bins[column], where="mid", linestyle="--" if dashed else "-",
                  label=column.removeprefix("share of futures, "))
    summary = result.summary
    level = f"cost_cvar_{result.cvar_level:g}"
    for plan in result.plans:
        row = summary[(summary["plan"] == plan) & (summary["policy"] == "re-planning") & (summary["statistic"] == level)]
        if len(row):
            axis.axvline(float(row["value"].iloc[0]), color="grey", linewidth=0.8, linestyle=":")
    axis.xaxis.set_major_formatter(_money(result.currency))
    axis.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axis.set_xlabel(f"cost of the future (bins of {width / 1e6:,.2f}M {result.currency}); dotted: CVaR "
                    f"{result.cvar_level:.0%} under re-planning")
    axis.set_ylabel("share of futures")
    axis.set_title("Stress test: cost over " + ("the instance's scenarios" if result.own_scenarios else
                                                f"{result.n_futures:,} sampled futures"))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return _save(figure, path)
