"""One-page PDFs for people who forward a file rather than open a workbook: the Summary's words and the
main chart on one landscape page (matplotlib), for a plan, a comparison and a de-risking curve."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .export import summary_lines
from .figures import comparison_chart, frontier_chart, glance_axis, money_text, one_page_pdf


def whole(value: float) -> int:
    """value rounded half away from zero, as a spreadsheet's '#,##0' shows it (Python's format rounds half to
    even: 3,667,362.5 printed 3,667,362 in the PDF and 3,667,363 in the workbook)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _text(value, unit: str | None, currency: str) -> str:
    if value is None or unit is None:
        return ""
    if isinstance(value, (int, float, np.floating)) and np.isfinite(value):
        if unit.startswith("share"):
            return f"{value:.1%}"
        if unit == currency:
            return f"{whole(value):,} {currency}"
        return f"{value:,.2f} {unit}"
    return str(value)


#: The Summary's pointers to the other sheets of its workbook, as the PDF (a page without those sheets) says them.
IN_THE_WORKBOOK = (("more on the Plan sheet", "more in the plan workbook's Plan sheet"),
                   ("(the Why sheet has", "(the plan workbook's Why sheet has"))


def _in_the_workbook(text: str) -> str:
    for sheet, workbook in IN_THE_WORKBOOK:
        text = text.replace(sheet, workbook)
    return text


def plan_lines(result, why=None) -> list[str]:
    """The Summary's content as lines of text ('# ' starts a section)."""
    currency = result.data.settings.currency
    lines = [f"Status: {result.status}."] + [line.strip() for line in result.message.splitlines() if line.strip()]
    if not result.optimal:
        return lines
    for line in summary_lines(result, why):
        if isinstance(line, str):
            lines.append("# " + _in_the_workbook(line))
            continue
        label, value, unit, words = line
        label, words = _in_the_workbook(label), _in_the_workbook(words or "")
        shown = _text(value, unit, currency)
        lines.append(" ".join(part for part in (f"{label}:" if shown else label, shown, words and f"({words})")
                              if part))
    return lines


def write_plan_pdf(result, path: str | Path, why=None) -> Path:
    """The plan's Summary and the plan at a glance on one page."""
    def draw(axis):
        if result.optimal:
            glance_axis(result, axis)
        else:
            axis.axis("off")
            axis.text(0, 1, "No plan: see the rules to relax on the left.", va="top", fontsize=11)

    return one_page_pdf(path, "Rare-earth sourcing plan", plan_lines(result, why), draw)


def write_comparison_pdf(comparison, path: str | Path) -> Path:
    """The cases side by side in words and the cost-against-share chart on one page."""
    currency = comparison.currency
    lines = ["# What-if cases against the base"]
    for row in comparison.summary.to_dict("records"):
        if row["status"] != "optimal":
            lines.append(f"{row['case']}: no plan ({row['status']}). {row.get('why', '')}".strip())
            continue
        lines.append(f"{row['case']}: expected cost {money_text(row['expected_cost'], currency)}, worst case "
                     f"{money_text(row['worst_scenario_cost'], currency)}, dependency share "
                     f"{row['dependency_share']:.1%}, lowest fill rate {row['lowest_fill_rate']:.1%}")
    moves = comparison.moves
    if len(moves):
        lines.append("# Biggest moves of money against the base")
        for r in moves.head(12).itertuples(index=False):
            lines.append(f"{r.case}: {r.supplier} {r.material} {r.change_quantity:+,.0f} {r.unit}, "
                         f"{money_text(r.change_cost, currency)}")
    return one_page_pdf(path, "What-if cases", lines, lambda axis: comparison_chart(comparison, axis))


def write_frontier_pdf(frontier, path: str | Path) -> Path:
    """The cost of de-risking in words and the curve on one page."""
    currency = frontier.currency
    table = frontier.table
    lines = [f"# Cost of de-risking: {frontier.cap}"]
    if frontier.tightest is not None:
        lines.append(f"Tightest feasible cap: {frontier.tightest:.2%}; no plan below it.")
    for row in table.to_dict("records"):
        if row["status"] == "optimal":
            lines.append(f"cap {row['max_share']:.1%}: objective {money_text(row['objective'], currency)}, expected "
                         f"cost {money_text(row['expected_cost'], currency)}, "
                         f"{money_text(row['shadow_price_per_point'], currency)} per point")
    if frontier.over_demand:
        lines.append(frontier.over_demand)
    if frontier.explanation:
        lines += ["# Below the tightest cap"] + frontier.explanation.splitlines()
    return one_page_pdf(path, f"Cost of de-risking: {frontier.cap}", lines,
                        lambda axis: frontier_chart(frontier, axis))
