"""Every figure of the plan, the comparison and the de-risking curve, made from the result tables.

Each figure has one function that shapes its data from the result tables (`supply_table`, `cost_table`,
`share_table`), one that draws it with matplotlib and returns the Figure (`supply_chart`, `cost_chart`,
`share_chart`, `frontier_chart`, `comparison_chart`: a web app shows them as they are), and the workbook
gets the same figures as native xlsxwriter charts over the same numbers (`add_plan_charts`). Nothing here
solves; `*_figure(..., path)` writes a file atomically.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .files import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(**options) -> "Figure":
    """A matplotlib Figure (Agg, no pyplot state: safe from any thread). matplotlib is imported here, on the
    first figure, so that writing a workbook (whose charts are xlsxwriter's) does not pay for it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(**options)


def _formatter(function):
    """matplotlib's FuncFormatter (imported on use)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(function)


def _percent(decimals: int | None = None):
    """matplotlib's PercentFormatter for shares (1.0 = 100%); decimals None: as many as the axis needs."""
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=decimals)

#: The parts of a scenario's cost as the charts name them (solving.results.COST_PARTS, in that order).
PART_LABELS = {"reservation": "stockpile fees", "contract": "contracts", "spot": "spot purchases",
               "stockpile_draw": "stockpile draws", "holding": "holding stock", "shortage": "shortage penalty"}
UNMET = "unmet demand"
#: Supply taken out of stock (opening stock or what was bought ahead): a period's opening less closing inventory.
FROM_STOCK = "from stock"


def _save(figure: Figure, path: str | Path) -> Path:
    """Write the figure atomically, in the format its extension names (.png, .pdf, .svg, ...)."""
    image_format = Path(path).suffix.lower().lstrip(".") or "png"
    return atomic_write(path, lambda temporary: figure.savefig(temporary, format=image_format))


def _money(currency: str):
    return _formatter(lambda v, _: money_text(v, currency))


def money_text(value: float, currency: str) -> str:
    """Money as a person reads it on an axis or a label: 1.2M USD, 45k USD, 310 USD."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.1f}M {currency}"
    if size >= 1e4:
        return f"{value / 1e3:,.0f}k {currency}"
    return f"{value:,.0f} {currency}"


#: matplotlib's "tab20" palette, written out so that a workbook's native charts need no matplotlib import
#: (a test holds it equal to matplotlib's)
PALETTE = tuple(tuple(int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)) for h in (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
    "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"))


def _colours(names) -> dict:
    """One colour per name, the same in every chart of a plan (unmet demand always grey)."""
    palette = PALETTE
    colours = {name: palette[i % len(palette)] for i, name in enumerate(n for n in names
                                                                          if n not in (UNMET, FROM_STOCK))}
    colours[UNMET] = (0.55, 0.55, 0.55)
    colours[FROM_STOCK] = (0.82, 0.80, 0.74)
    return colours


def _hex(colour) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in colour[:3])


# --------------------------------------------------------------------------- the plan's tables

def supply_table(result) -> pd.DataFrame:
    """Expected supply per material, period and supplier (contract deliveries, spot purchases, stockpile
    draws, probability-weighted over the scenarios), with what a period takes out of stock as the supplier
    `from stock` and unmet demand as `unmet demand`, so that each period's bars reach its demand.

    Columns material, period, supplier, quantity, unit; periods in time order, suppliers by their total."""
    probability = dict(zip(result.scenario_costs["scenario"], result.scenario_costs["probability"]))
    flows = result.flows
    weighted = flows.assign(quantity=flows["quantity"].astype(float) * flows["scenario"].map(probability).astype(float))
    supplied = weighted.groupby(["material", "period", "supplier"], sort=False)["quantity"].sum().reset_index()
    balance = result.balance
    unmet = (balance.assign(quantity=balance["unmet_demand"].astype(float) * balance["scenario"].map(probability))
             .groupby(["material", "period"], sort=False)["quantity"].sum().reset_index())
    unmet = unmet[unmet["quantity"] > 1e-9].assign(supplier=UNMET)
    drawn = (balance["opening_inventory"].astype(float) - balance["closing_inventory"].astype(float)).clip(lower=0.0)
    stock = (balance.assign(quantity=drawn * balance["scenario"].map(probability))
             .groupby(["material", "period"], sort=False)["quantity"].sum().reset_index())
    stock = stock[stock["quantity"] > 1e-9].assign(supplier=FROM_STOCK)
    table = pd.concat([supplied, stock, unmet], ignore_index=True)
    data = result.data
    period_rank = {t: i for i, t in enumerate(data.periods)}
    material_rank = {m: i for i, m in enumerate(data.materials.index)}
    totals = table.groupby("supplier")["quantity"].sum()
    supplier_rank = {name: (name == UNMET, name == FROM_STOCK, -total) for name, total in totals.items()}
    table = table.sort_values(["material", "period", "supplier"], key=lambda c: c.map(
        material_rank if c.name == "material" else period_rank if c.name == "period" else supplier_rank))
    table["unit"] = table["material"].map(data.materials["unit"].fillna("unit"))
    return table[table["quantity"] > 1e-9].reset_index(drop=True)[["material", "period", "supplier", "quantity",
                                                                    "unit"]]


def supply_pivot(table: pd.DataFrame, material: str, periods: list[str]) -> pd.DataFrame:
    """One material's supply as periods x suppliers (the bars of its chart)."""
    rows = table[table["material"] == material]
    suppliers = list(dict.fromkeys(rows["supplier"]))
    return (rows.groupby(["period", "supplier"], sort=False)["quantity"].sum().unstack("supplier")
            .reindex(index=periods, columns=suppliers).fillna(0.0))


def cost_table(result) -> pd.DataFrame:
    """Each scenario's cost split into its parts (columns scenario, probability, one per part, cost)."""
    from ..solving.results import COST_PARTS

    costs = result.scenario_costs
    parts = [part for part in COST_PARTS if (costs[part].abs() > 1e-9).any()]
    return costs[["scenario", "probability"] + parts + ["cost"]].reset_index(drop=True)


def share_table(result) -> pd.DataFrame:
    """Per material: the expected share of demand supplied through the dependency country (any stage), the
    highest share any cap on that country reached in a scenario, and that cap's max_share (NaN: no cap).

    Columns material, expected_share, highest_capped_share, cap, cap_name."""
    dependency = result.dependency
    expected = (dependency["share"] * dependency["probability"]).groupby(dependency["material"], sort=False).sum()
    country = result.data.settings.dependency_country
    shares = result.origin_shares
    capped = shares[shares["country"] == country] if len(shares) else shares
    tightest_of = {}
    if len(capped):
        # per material, the cap that binds hardest: the least room left between its max_share and the share reached
        room = capped.groupby(["material", "input_row"], sort=False).agg(
            share=("share", "max"), cap=("max_share", "first"), name=("cap", "first"))
        room = room.assign(room=room["cap"] - room["share"])
        for material, caps in room.groupby(level="material", sort=False):
            tightest_of[material] = caps.loc[caps["room"].idxmin()]
    rows = []
    for material in result.data.materials.index:
        row = {"material": material, "expected_share": float(expected.get(material, 0.0)),
               "highest_capped_share": np.nan, "cap": np.nan, "cap_name": ""}
        tightest = tightest_of.get(material)
        if tightest is not None:
            row.update(highest_capped_share=float(tightest["share"]), cap=float(tightest["cap"]),
                       cap_name=str(tightest["name"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=["material", "expected_share", "highest_capped_share", "cap", "cap_name"])


# --------------------------------------------------------------------------- matplotlib

def supply_chart(result, materials: list[str] | None = None) -> Figure:
    """Expected supply by supplier over time, one panel per material (stacked bars, unmet demand grey)."""
    table = supply_table(result)
    data = result.data
    materials = materials or [m for m in data.materials.index if (table["material"] == m).any()]
    colours = _colours(dict.fromkeys(table["supplier"]))
    columns = 2 if len(materials) > 1 else 1
    rows = max(1, int(np.ceil(len(materials) / columns)))
    figure = new_figure(figsize=(11, 2.6 * rows + 1.0), dpi=110)
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis, material in zip(axes.ravel(), materials):
        pivot = supply_pivot(table, material, list(data.periods))
        bottom = np.zeros(len(pivot))
        for supplier in pivot.columns:
            values = pivot[supplier].to_numpy()
            axis.bar(range(len(pivot)), values, bottom=bottom, color=colours[supplier], label=supplier, width=0.8)
            bottom += values
        demand = data.demand["quantity"].xs(material, level="material").reindex(data.periods).fillna(0.0)
        axis.step(np.arange(len(pivot) + 1) - 0.5, np.append(demand.to_numpy(), demand.to_numpy()[-1:]),
                  where="post", color="black", linewidth=1, label="demand")
        unit = data.materials.loc[material, "unit"] if pd.notna(data.materials.loc[material, "unit"]) else "unit"
        axis.set_title(f"{material} ({unit} per period)", fontsize=10, loc="left")
        axis.set_xticks(range(len(pivot)))
        axis.set_xticklabels(pivot.index, rotation=90 if len(pivot) > 8 else 0, fontsize=7)
        axis.yaxis.set_major_formatter(_formatter(lambda v, _: f"{v:,.0f}"))
        axis.tick_params(axis="y", labelsize=7)
        axis.grid(axis="y", alpha=0.3)
    for axis in axes.ravel()[len(materials):]:
        axis.set_visible(False)
    handles = {}
    for axis in axes.ravel():
        for handle, label in zip(*axis.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 5), fontsize=8,
                  frameon=False)
    figure.suptitle("Expected supply by supplier (probability-weighted over the scenarios)", fontsize=11)
    figure.tight_layout(rect=(0, 0.04 + 0.03 * int(np.ceil(len(handles) / 5)), 1, 0.97))
    return figure


def cost_chart(result) -> Figure:
    """Each scenario's cost as stacked parts, labelled with its probability and total."""
    table = cost_table(result)
    currency = result.data.settings.currency
    parts = [c for c in table.columns if c in PART_LABELS]
    figure = new_figure(figsize=(9, 4.5), dpi=110)
    axis = figure.subplots()
    bottom = np.zeros(len(table))
    colours = _colours(PART_LABELS.values())
    for part in parts:
        values = table[part].to_numpy()
        axis.bar(range(len(table)), values, bottom=bottom, label=PART_LABELS[part], color=colours[PART_LABELS[part]])
        bottom += values
    for i, total in enumerate(table["cost"]):
        axis.annotate(money_text(total, currency), (i, total), textcoords="offset points", xytext=(0, 3),
                      ha="center", fontsize=8)
    axis.set_xticks(range(len(table)))
    axis.set_xticklabels([f"{textwrap.fill(str(w), 14)}\n(p = {p:.0%})"
                          for w, p in zip(table["scenario"], table["probability"])], fontsize=8)
    axis.yaxis.set_major_formatter(_money(currency))
    axis.set_ylim(0, float(table["cost"].max()) * 1.12 if len(table) else 1)
    axis.set_title("Cost of the plan in each scenario, by part", fontsize=11)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.tight_layout()
    return figure


def share_chart(result) -> Figure:
    """Per material, the dependency country's share of demand against its cap."""
    table = share_table(result)
    country = result.data.settings.dependency_country
    figure = new_figure(figsize=(8, 4), dpi=110)
    axis = figure.subplots()
    x = np.arange(len(table))
    axis.bar(x - 0.2, table["expected_share"], width=0.4, color="#4C72B0",
             label=f"expected {country} share, any stage")
    capped = table["cap"].notna()
    if capped.any():
        axis.bar(x[capped] + 0.2, table.loc[capped, "highest_capped_share"], width=0.4, color="#DD8452",
                 label="highest share under the cap (worst scenario)")
        for i in np.flatnonzero(capped.to_numpy()):
            axis.hlines(table["cap"].iloc[i], i - 0.45, i + 0.45, colors="black", linewidth=2,
                        label="cap" if i == np.flatnonzero(capped.to_numpy())[0] else None)
            axis.annotate(f"cap {table['cap'].iloc[i]:.0%}", (i + 0.45, table["cap"].iloc[i]), fontsize=7,
                          xytext=(2, 2), textcoords="offset points")
    axis.set_xticks(x)
    axis.set_xticklabels(table["material"], fontsize=8)
    axis.yaxis.set_major_formatter(_percent())
    axis.set_ylim(0, max(1.0, float(np.nanmax(table[["expected_share", "highest_capped_share", "cap"]]
                                              .to_numpy(dtype=float), initial=0.0))) * 1.25)
    axis.set_title(f"{country} share of each material's demand, against the cap", fontsize=11)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8, loc="upper center", ncol=3, frameon=False)
    figure.tight_layout()
    return figure


def plan_figure(result, path: str | Path, chart: str = "supply") -> Path:
    """Write one of the plan's charts (supply, cost or share) to a file."""
    return _save({"supply": supply_chart, "cost": cost_chart, "share": share_chart}[chart](result), path)


# --------------------------------------------------------------------------- native workbook charts

def glance_table(result, supply: pd.DataFrame | None = None) -> pd.DataFrame:
    """The whole plan at a glance: each material's demand split by supplier (the stock held at the start and
    used up, and unmet demand), as shares of
    its demand over the horizon, expected over the scenarios (materials x suppliers).

    supply: the result's supply_table, when the caller has it already."""
    table = supply_table(result) if supply is None else supply
    # over the horizon only the stock held at the start and not left at the end supplies demand (what a
    # period bought ahead is counted once, as its supplier's delivery)
    table = table[table["supplier"] != FROM_STOCK]
    balance = result.balance
    periods = result.data.periods
    probability = dict(zip(result.scenario_costs["scenario"], result.scenario_costs["probability"]))
    first = balance[balance["period"] == periods[0]].set_index(["scenario", "material"])["opening_inventory"]
    last = balance[balance["period"] == periods[-1]].set_index(["scenario", "material"])["closing_inventory"]
    net = (first.astype(float) - last.reindex(first.index).astype(float)).clip(lower=0.0)
    net = (net * net.index.get_level_values("scenario").map(probability)).groupby(level="material").sum()
    net = net[net > 1e-9]
    if len(net):
        table = pd.concat([table, pd.DataFrame({"material": net.index, "period": None, "supplier": FROM_STOCK,
                                                "quantity": net.to_numpy()})], ignore_index=True)
    demand = result.data.total_demand()
    pivot = table.pivot_table(index="material", columns="supplier", values="quantity", aggfunc="sum", sort=False)
    suppliers = list(dict.fromkeys(table["supplier"]))
    materials = [m for m in result.data.materials.index if m in pivot.index]
    pivot = pivot.reindex(index=materials, columns=suppliers).fillna(0.0)
    return pivot.div(demand.reindex(materials).replace(0, np.nan), axis=0).fillna(0.0)


#: The Charts sheet's column widths (characters): labels, then numbers.
LABEL_WIDTH, NUMBER_WIDTH = 22, 14
#: A row of the default height (15 points) in pixels, as a chart's height counts them.
ROW_PIXELS = 20
#: How far a chart sits below the top of its block's first row, in pixels.
CHART_OFFSET = 4
#: The printable part of a landscape A4 page (export.print_setup's margins) in pixels at 96 per inch.
PAGE_PIXELS = (round((11.69 - 0.5 - 0.5) * 96), round((8.27 - 0.75 - 0.6) * 96))


def _column_pixels(width: float) -> int:
    """A column `width` characters wide in pixels (Excel's rule for its default font, as xlsxwriter's)."""
    return int(width * 7 + 0.5) + 5


def _header(book, sheet, row: int, headers: list[str]) -> int:
    """A header row over the Charts sheet's columns, tall enough for its longest wrapped header; returns its
    height in pixels."""
    from .export import wrapped_lines

    for j, header in enumerate(headers):
        sheet.write_string(row, j, header, book.formats["header"])
    lines = max(wrapped_lines(header, LABEL_WIDTH if j == 0 else NUMBER_WIDTH) for j, header in enumerate(headers))
    if lines > 1:
        sheet.set_row(row, 15 * lines)
    return ROW_PIXELS * lines


def _write_grid(book, sheet, row: int, corner: str, frame, cell_format) -> tuple[int, int, int]:
    """A frame as a block of cells from (row, 0): a header row (corner, then the column names), then one row
    per index label with its numbers. Returns the first and last rows of numbers, for a chart's ranges, and
    the header row's height in pixels."""
    header_pixels = _header(book, sheet, row, [corner] + [str(column) for column in frame.columns])
    values = frame.to_numpy(dtype=float).tolist()
    for i, (label, numbers) in enumerate(zip(frame.index, values), start=row + 1):
        sheet.write_string(i, 0, str(label))
        for j, number in enumerate(numbers, start=1):
            sheet.write_number(i, j, number, cell_format)
    return row + 1, row + len(frame), header_pixels


def _glance_chart(book, result, sheet, sheet_name: str, row: int, supply: pd.DataFrame):
    """Write the glance block at row and return a stacked bar chart over it (for the Summary), or None, the
    row after the block and the block's height in pixels."""
    shares = glance_table(result, supply)
    if shares.empty or not len(shares.columns):
        return None, row, 0
    colours = _colours(list(shares.columns))
    sheet.write_string(row, 0, "The plan at a glance: expected supply by supplier, share of each material's demand",
                       book.formats["bold"])
    first, last, header_pixels = _write_grid(book, sheet, row + 1, "Material", shares, book.formats["share"])
    chart = book.book.add_chart({"type": "bar", "subtype": "stacked"})
    for j, supplier in enumerate(shares.columns, start=1):
        chart.add_series({"name": [sheet_name, row + 1, j], "categories": [sheet_name, first, 0, last, 0],
                          "values": [sheet_name, first, j, last, j], "fill": {"color": _hex(colours[supplier])},
                          "gap": 50})
    chart.set_title({"name": "The plan: expected supply by supplier (share of demand)", "name_font": {"size": 10}})
    chart.set_x_axis({"num_format": "0%", "min": 0, "major_gridlines": {"visible": True}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 620, "height": 430})
    following = last + 2
    return chart, following, header_pixels + ROW_PIXELS * (following - row - 1)


def chart_page_breaks(blocks: list[tuple[int, int]], page_pixels: float) -> list[int]:
    """The rows to start a new printed page at, so that no block (its first row, its height in pixels) is cut:
    each page takes the blocks that fit in page_pixels, the next one starts a page. A block taller than a page
    gets a page of its own."""
    breaks, used = [], 0.0
    for first_row, height in blocks:
        if used and used + height > page_pixels:
            breaks.append(first_row)
            used = 0.0
        used += height
    return breaks


def add_plan_charts(book, result, sheet_name: str = "Charts"):
    """The plan's figures as native charts on their own sheet, over a copy of the numbers they show:
    supply by supplier per material over time, cost by scenario by part, dependency share against the cap.

    book: reports.export.Workbook. The data blocks sit at the left of the sheet, each chart to the right of
    the widest of them, the next block below the taller of the two; on paper a page break falls between
    blocks, never through a chart or its table. Returns the plan-at-a-glance chart (materials by supplier)
    for the Summary to show, or None.
    """
    sheet = book.sheet(sheet_name)
    bold, number, share_format = book.formats["bold"], book.formats["integer"], book.formats["share"]
    data = result.data
    currency = data.settings.currency
    sheet.write_string(0, 0, "Charts of the plan (the numbers each chart shows are beside it)", book.formats["title"])
    table = supply_table(result)
    glance, row, glance_pixels = _glance_chart(book, result, sheet, sheet_name, 2, table)
    blocks = [(0, 2 * ROW_PIXELS + glance_pixels)]  # (first row, height in pixels) of each block
    colours = _colours(dict.fromkeys(table["supplier"]))
    materials = [m for m in data.materials.index if (table["material"] == m).any()]
    pivots = {material: supply_pivot(table, material, list(data.periods)) for material in materials}
    costs = cost_table(result)
    parts = [c for c in costs.columns if c in PART_LABELS]
    # right of every table a chart stands beside (a block's columns: its labels, then its numbers), one apart
    widest = max([len(pivot.columns) + 1 for pivot in pivots.values()] + [len(parts) + 3 if parts else 0, 4])
    charts_column = widest + 1

    def place(chart, first_row: int, table_rows: int, header_pixels: int, chart_pixels: int) -> int:
        """Insert the chart beside its block (a title row, a header row, table_rows rows) and return the row
        after both, with one empty row."""
        # a few pixels below the block's first row: LibreOffice draws a chart whose edge touches a page break on
        # both pages (clipped on the first)
        sheet.insert_chart(first_row, charts_column, chart, {"y_offset": CHART_OFFSET})
        chart_pixels += CHART_OFFSET
        table_pixels = ROW_PIXELS + header_pixels + ROW_PIXELS * table_rows
        rows_beside = table_rows + 2
        if chart_pixels > table_pixels:  # the chart reaches below the table: rows of the default height
            rows_beside += -(-(chart_pixels - table_pixels) // ROW_PIXELS)
        blocks.append((first_row, max(table_pixels, chart_pixels) + ROW_PIXELS))
        return first_row + rows_beside + 1

    for material in materials:
        pivot = pivots[material]
        unit = table.loc[table["material"] == material, "unit"].iloc[0]
        sheet.write_string(row, 0, f"{material}: expected supply ({unit} per period)", bold)
        first, last, header_pixels = _write_grid(book, sheet, row + 1, "Period", pivot, number)
        chart = book.book.add_chart({"type": "column", "subtype": "stacked"})
        for j, supplier in enumerate(pivot.columns, start=1):
            chart.add_series({"name": [sheet_name, row + 1, j], "categories": [sheet_name, first, 0, last, 0],
                              "values": [sheet_name, first, j, last, j],
                              "fill": {"color": _hex(colours[supplier])}, "gap": 40})
        chart.set_title({"name": f"{material}: expected supply by supplier", "name_font": {"size": 11}})
        chart.set_y_axis({"name": f"{unit} per period", "num_format": "#,##0"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 640, "height": 300})
        row = place(chart, row, len(pivot), header_pixels, 300)
    if parts:  # when nothing costs anything there is no chart: a chart needs at least one series
        sheet.write_string(row, 0, f"Cost of the plan in each scenario, by part ({currency})", bold)
        header_pixels = _header(book, sheet, row + 1, ["Scenario", "Probability"]
                                + [PART_LABELS[p].capitalize() for p in parts] + ["Total"])
        for i, r in enumerate(costs.itertuples(index=False), start=row + 2):
            sheet.write_string(i, 0, str(r.scenario))
            sheet.write_number(i, 1, float(r.probability), share_format)
            for j, part in enumerate(parts + ["cost"], start=2):
                sheet.write_number(i, j, float(getattr(r, part)), book.formats["money"])
        first, last = row + 2, row + 1 + len(costs)
        chart = book.book.add_chart({"type": "column", "subtype": "stacked"})
        part_colours = _colours(PART_LABELS.values())
        for j, part in enumerate(parts, start=2):
            chart.add_series({"name": [sheet_name, row + 1, j], "categories": [sheet_name, first, 0, last, 0],
                              "values": [sheet_name, first, j, last, j],
                              "fill": {"color": _hex(part_colours[PART_LABELS[part]])}, "gap": 60})
        chart.set_title({"name": "Cost of the plan in each scenario", "name_font": {"size": 11}})
        chart.set_y_axis({"name": currency, "num_format": "#,##0,,\"M\""})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 640, "height": 320})
        row = place(chart, row, len(costs), header_pixels, 320)
        shares = share_table(result)
        country = data.settings.dependency_country
        sheet.write_string(row, 0, f"{country} share of each material's demand, against the cap", bold)
        header_pixels = _header(book, sheet, row + 1, ["Material", f"Expected {country} share (any stage)",
                                                       "Highest share under the cap", "Cap"])
        for i, r in enumerate(shares.itertuples(index=False), start=row + 2):
            sheet.write_string(i, 0, str(r.material))
            for j, value in enumerate((r.expected_share, r.highest_capped_share, r.cap), start=1):
                if np.isfinite(value):
                    sheet.write_number(i, j, float(value), share_format)
        first, last = row + 2, row + 1 + len(shares)
        chart = book.book.add_chart({"type": "column"})
        for j, colour in ((1, "#4C72B0"), (2, "#DD8452")):
            chart.add_series({"name": [sheet_name, row + 1, j], "categories": [sheet_name, first, 0, last, 0],
                              "values": [sheet_name, first, j, last, j], "fill": {"color": colour}})
        cap_line = book.book.add_chart({"type": "line"})
        cap_line.add_series({"name": [sheet_name, row + 1, 3], "categories": [sheet_name, first, 0, last, 0],
                             "values": [sheet_name, first, 3, last, 3], "line": {"none": True},
                             "marker": {"type": "dash", "size": 14, "fill": {"color": "black"},
                                        "border": {"color": "black"}}})
        chart.combine(cap_line)
        chart.set_title({"name": f"{country} share against the cap", "name_font": {"size": 11}})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 640, "height": 300})
        place(chart, row, len(shares), header_pixels, 300)
    last_column = max(charts_column - 1, sheet.dim_colmax or 0)  # the glance table may be the widest
    sheet.set_column(0, 0, LABEL_WIDTH)
    sheet.set_column(1, last_column, NUMBER_WIDTH)
    # printed one page wide (export.print_setup): the page's height in the sheet's pixels at that scale
    sheet_pixels = max(_column_pixels(LABEL_WIDTH) + _column_pixels(NUMBER_WIDTH) * (charts_column - 1) + 640,
                       _column_pixels(LABEL_WIDTH) + _column_pixels(NUMBER_WIDTH) * last_column)
    scale = min(1.0, PAGE_PIXELS[0] / sheet_pixels)
    breaks = chart_page_breaks(blocks, 0.9 * PAGE_PIXELS[1] / scale)  # a tenth spare for the renderer's rounding
    if breaks:
        sheet.set_h_pagebreaks(breaks)
    return glance


# --------------------------------------------------------------------------- frontier and comparison

def frontier_share_limits(frontier) -> tuple[float, float]:
    """The share axis of the de-risking curve: the shares of the points with a plan (the start, the input's
    cap and the tightest cap among them), with a margin of a tenth of their span and at least half a point
    on each side, so that a curve over a point or two of share is not a vertical line on a 0-100% axis and a
    little of the no-plan region below the tightest cap shows. Never below 0."""
    shares = frontier.table.loc[frontier.table["status"] == "optimal", "max_share"].astype(float)
    if shares.empty:
        return 0.0, max(1.0, float(frontier.table["max_share"].max()))
    low, high = float(shares.min()), float(shares.max())
    margin = max((high - low) * 0.1, 0.005)
    return max(0.0, low - margin), high + margin


def frontier_chart(frontier, axis=None) -> Figure:
    """Objective and expected cost against the cap's max_share; infeasible region shaded, the current cap and
    the tightest cap with a plan marked.

    axis: draw into this matplotlib Axes (the one-page PDF) instead of a new Figure."""
    table = frontier.table
    feasible = table[table["status"] == "optimal"].sort_values("max_share")
    currency = frontier.currency
    figure = new_figure(figsize=(8, 5), dpi=120) if axis is None else axis.figure
    own = axis is None
    axis = figure.subplots() if axis is None else axis
    axis.plot(feasible["max_share"], feasible["objective"], marker="o", label="objective (expected cost + risk)")
    axis.plot(feasible["max_share"], feasible["expected_cost"], marker=".", linestyle="--",
              label="expected cost")
    if frontier.tightest is not None and frontier.tightest > 0:
        axis.axvspan(0, frontier.tightest, color="grey", alpha=0.25,
                     label=f"no plan below {frontier.tightest:.2%}")
    if frontier.current is not None:
        current = table[(table["max_share"] - frontier.current).abs() < 1e-12]
        if len(current) and current["status"].iloc[0] == "optimal":
            axis.scatter(current["max_share"], current["objective"], s=120, marker="*", color="red", zorder=5,
                         label=f"current cap {frontier.current:.0%}")
    tightest = feasible[feasible["point"].astype(str).str.contains("tightest")]
    if len(tightest):
        axis.scatter(tightest["max_share"], tightest["objective"], s=70, marker="D", color="black", zorder=5,
                     label=f"tightest cap with a plan {float(tightest['max_share'].iloc[0]):.2%}")
    low, high = frontier_share_limits(frontier)
    axis.xaxis.set_major_formatter(_percent(1 if high - low < 0.1 else 0))
    axis.yaxis.set_major_formatter(_money(currency))
    axis.set_xlabel(f"{frontier.cap}: most allowed share of demand")
    axis.set_ylabel(currency)
    axis.set_title(f"Cost of de-risking: {frontier.cap}")
    axis.set_xlim(low, high)
    axis.grid(alpha=0.3)
    axis.legend()
    if own:
        if frontier.over_demand:  # a footnote under the axis (the one-page PDF says it in its text)
            figure.text(0.01, 0.01, textwrap.fill(frontier.over_demand, 130), fontsize=7, va="bottom",
                        color="#444444")
            figure.tight_layout(rect=(0, 0.07, 1, 1))
        else:
            figure.tight_layout()
    return figure


def frontier_figure(frontier, path: str | Path) -> Path:
    """Write the de-risking curve (frontier_chart) to a file."""
    return _save(frontier_chart(frontier), path)


def comparison_chart(comparison, axis=None) -> Figure:
    """Expected cost against the dependency share, one numbered point per solved case (names in the legend,
    so they never overlap), the cases with no plan listed as such; the axes fit the data.

    axis: draw into this matplotlib Axes (the one-page PDF) instead of a new Figure."""
    summary = comparison.summary
    currency = comparison.currency
    share = "dependency_share" if "dependency_share" in summary.columns else None
    solved = summary[summary["status"] == "optimal"]
    figure = new_figure(figsize=(10, 5), dpi=120) if axis is None else axis.figure
    own = axis is None
    axis = figure.subplots() if axis is None else axis
    markers = "osD^vP*Xhp<>"
    if share is not None:
        # Each case is its own legend entry (numbered on the plot): names never sit on top of each other.
        for number, row in enumerate(solved.itertuples(index=False), start=1):
            x, y = getattr(row, share), row.expected_cost
            axis.scatter([x], [y], s=70, marker=markers[(number - 1) % len(markers)], zorder=3,
                         label=f"{number}. {row.case}: {money_text(y, currency)}, {x:.1%}")
            axis.annotate(str(number), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
        for row in summary[summary["status"] != "optimal"].itertuples(index=False):
            axis.scatter([], [], marker="x", color="grey", label=f"{row.case}: no plan ({row.status})")
        country = next((r.data.settings.dependency_country for r in comparison.results.values()), "China")
        axis.xaxis.set_major_formatter(_percent())
        axis.set_xlabel(f"expected {country} share (value-weighted)")
        axis.margins(x=0.15, y=0.15)
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axis.yaxis.set_major_formatter(_money(currency))
    axis.set_ylabel("expected cost")
    axis.set_title("What-if cases")
    axis.grid(alpha=0.3)
    if own:
        figure.tight_layout()
    return figure


def comparison_figure(comparison, path: str | Path) -> Path:
    """Write the comparison chart (comparison_chart) to a file."""
    return _save(comparison_chart(comparison), path)


# --------------------------------------------------------------------------- one-page PDF

def glance_axis(result, axis) -> None:
    """The plan at a glance on an Axes: each material's demand split by supplier (expected shares)."""
    shares = glance_table(result)
    colours = _colours(list(shares.columns))
    left = np.zeros(len(shares))
    for supplier in shares.columns:
        values = shares[supplier].to_numpy()
        axis.barh(range(len(shares)), values, left=left, color=colours[supplier], label=supplier)
        left += values
    axis.set_yticks(range(len(shares)))
    axis.set_yticklabels(shares.index, fontsize=8)
    axis.invert_yaxis()
    axis.xaxis.set_major_formatter(_percent())
    axis.tick_params(axis="x", labelsize=7)
    axis.set_title("The plan: expected supply by supplier (share of each material's demand)", fontsize=9)
    axis.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)


def one_page_pdf(path: str | Path, title: str, lines: list[str], draw) -> Path:
    """One landscape A4 page: a title, the lines of a summary on the left, a chart on the right.

    draw(axis) puts the chart on the right-hand Axes. Long lines are wrapped."""
    figure = new_figure(figsize=(11.69, 8.27))
    figure.text(0.03, 0.955, title, fontsize=15, weight="bold", va="top")
    wrapped = []
    for line in lines:
        heading = line.startswith("# ")
        text = line[2:] if heading else line
        for i, part in enumerate(textwrap.wrap(text, 78) or [""]):
            wrapped.append((("  " if i and not heading else "") + part, heading))
    size = 8.5 if len(wrapped) <= 52 else max(5.5, 8.5 * 52 / len(wrapped))
    step = 0.86 / max(len(wrapped), 52) if len(wrapped) > 52 else 0.0163
    y = 0.9
    for text, heading in wrapped:
        figure.text(0.03, y, text, fontsize=size + (0.5 if heading else 0), weight="bold" if heading else "normal",
                    va="top", family="DejaVu Sans")
        y -= step * (1.25 if heading else 1)
    axis = figure.add_axes((0.58, 0.2, 0.39, 0.68))
    draw(axis)
    return _save(figure, path)
