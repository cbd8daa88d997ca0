"""The cost-of-de-risking curve, shadow prices against finite differences, VSS and EVPI."""

from __future__ import annotations

import importlib
import re

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimizer as so
from conftest import OVER_CONTRACTING, make, supplier
from optimizer.inputs.catalog import bundled_instance
from optimizer.analysis.frontier import frontier
from optimizer.analysis.information import value_of_information
from optimizer.inputs.edits import Overrides, apply_case

solve_module = importlib.import_module("optimizer.solving.solver")

LADDER = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia"),
               supplier("Europe spot", "spot", "Germany")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30, "capacity": 50},
            {"supplier": "Europe spot", "material": "Dy", "price": 50}],
)


def ladder_cost(share: float) -> float:
    """Demand 100: China at 10 up to the cap, then Lynas at 30 (50 units), then spot at 50.

    share >= 0.5: 1000 share + 30 (100 - 100 share) = 3000 - 2000 share;
    share <= 0.5: 1000 share + 1500 + 50 (50 - 100 share) = 4000 - 4000 share. Breakpoint at 0.5.
    """
    return 3000 - 2000 * share if share >= 0.5 else 4000 - 4000 * share


@pytest.mark.parametrize("interface", ["APPSI", "standard form", "decomposed"])
def test_hand_solved_curve_has_its_breakpoint_and_costs(interface, monkeypatch):
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if interface == "standard form" else 10**9)
    method = "decomposed" if interface == "decomposed" else "monolithic"
    curve = frontier(so.from_frames(make(**LADDER)), "China", points=11, method=method)
    table = curve.table
    assert curve.unconstrained_share == pytest.approx(1.0)
    assert curve.tightest == 0.0
    assert curve.current is None
    sweep = table[table["point"].isin(["sweep", "unconstrained"])]
    assert sweep["max_share"].tolist() == pytest.approx([1.0 - 0.1 * i for i in range(11)])
    assert sweep["objective"].tolist() == pytest.approx([ladder_cost(s) for s in sweep["max_share"]])
    prices = dict(zip(np.round(sweep["max_share"], 6), sweep["shadow_price_per_point"]))
    assert prices[0.9] == pytest.approx(20.0)  # one point = one unit moved from Lynas (30) to China (10)
    assert prices[0.3] == pytest.approx(40.0)  # below the breakpoint the unit comes from spot (50)


@pytest.mark.parametrize("interface", ["APPSI", "standard form", "decomposed"])
def test_infeasible_region_starts_below_the_tightest_cap(interface, monkeypatch):
    """Without spot and with a 100% fill floor, Lynas' 50 units leave China at least half."""
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if interface == "standard form" else 10**9)
    frames = make(**{**LADDER, "suppliers": LADDER["suppliers"][:2], "offers": LADDER["offers"][:2]},
                  service_levels=[{"min_fill_rate": 1}], origin_caps=[{"country": "China", "max_share": 0.8}])
    method = "decomposed" if interface == "decomposed" else "monolithic"
    curve = frontier(so.from_frames(frames), "China", points=5, method=method)
    assert curve.tightest == pytest.approx(0.5, abs=1e-4)
    assert curve.current == 0.8
    table = curve.table
    infeasible = table[table["status"] != "optimal"]
    assert (infeasible["max_share"] < 0.5).all() and len(infeasible) == 2  # 0.25 and 0
    assert infeasible["why"].iloc[0].startswith("No plan meets every rule with the China cap at 25.0%: "
                                                "the tightest feasible cap is 50.0")
    current = table[table["point"].str.contains("current")]
    assert current["objective"].tolist() == pytest.approx([ladder_cost(0.8)])


@pytest.mark.parametrize("tolerance", [1e-4, 1e-6])
def test_the_tightest_cap_between_grid_points_is_found_to_the_tolerance(tolerance):
    """No spot, a 100% floor and Lynas limited to 37 units: China must carry at least 63 of the 100, so the
    tightest feasible cap is 0.63, between the grid points 0.75 and 0.5. The bisection reports the smallest
    share it proved feasible, so the answer lies in [0.63, 0.63 + tolerance]."""
    frames = make(suppliers=LADDER["suppliers"][:2],
                  offers=[LADDER["offers"][0], {**LADDER["offers"][1], "capacity": 37}],
                  service_levels=[{"min_fill_rate": 1}])
    curve = frontier(so.from_frames(frames), "China", points=5, tolerance=tolerance)
    assert curve.table.loc[curve.table["point"] == "sweep", "max_share"].tolist() == pytest.approx([0.75, 0.5, 0.25, 0])
    assert 0.63 - 1e-9 <= curve.tightest <= 0.63 + tolerance
    tightest = curve.table[curve.table["point"] == "tightest"].iloc[0]
    assert tightest["status"] == "optimal"
    assert tightest["objective"] == pytest.approx(10 * 100 * curve.tightest + 30 * 100 * (1 - curve.tightest))


@pytest.fixture(scope="module", params=["APPSI", "standard form"])
def bundled_curve(request):
    """The bundled curve through each hand-over: APPSI pushes the changed share itself, the standard-form
    path changes the cap rows' bounds in HiGHS (HandedOver.refresh)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if request.param == "standard form" else 10**9)
        return so.read_instance(bundled_instance()), frontier(so.read_instance(bundled_instance()),
                                                               "China:refining", points=9)


def test_the_decomposed_curve_is_the_warm_sweeps_on_the_bundled_instance():
    """With the CVaR term the decomposition prices the materials by column generation at every point; its
    curve must be the monolithic one: the same points, statuses, objectives (to its 1e-7 gap) and tightest cap."""
    data = so.read_instance(bundled_instance())
    warm = frontier(data, "China:refining", points=5, method="monolithic")
    split = frontier(data, "China:refining", points=5, method="decomposed", workers=0)
    assert split.table["max_share"].tolist() == pytest.approx(warm.table["max_share"].tolist(), abs=1e-6)
    assert split.table["status"].tolist() == warm.table["status"].tolist()
    assert split.tightest == pytest.approx(warm.tightest, abs=1e-4)
    solved = warm.table["status"] == "optimal"
    assert split.table.loc[solved, "objective"].tolist() == pytest.approx(
        warm.table.loc[solved, "objective"].tolist(), rel=2e-7)
    assert all(str(r.run_info.set_index("item")["value"]["method"]).startswith("decomposed by material")
               for r in split.results.values())


def test_warm_sweep_matches_fresh_solves(bundled_curve):
    data, curve = bundled_curve
    uncapped = so.from_frames({**data.tables, "origin_caps": data.tables["origin_caps"].iloc[0:0]})
    for row in curve.table.itertuples():
        if row.max_share > 1:  # a plan that stocks up routes more than its demand through China: no cap
            fresh = so.solve(uncapped)  # above 1 can be typed, so the curve's first point is the uncapped plan
        else:
            fresh = so.solve(apply_case(data, "fresh", Overrides(caps=[f"China:refining={row.max_share!r}"])
                                        .edits(data.tables)))
        assert fresh.status == row.status
        if fresh.optimal:
            assert fresh.objective == pytest.approx(row.objective, rel=1e-7)


def test_shadow_price_is_the_slope_between_neighbouring_points(bundled_curve):
    """The optimal cost is convex and piecewise linear in the cap: the slope between two neighbours lies
    between the shadow prices at the two ends."""
    _, curve = bundled_curve
    feasible = curve.table[curve.table["status"] == "optimal"].sort_values("max_share", ascending=False)
    shares, costs = feasible["max_share"].to_numpy(), feasible["objective"].to_numpy()
    prices = feasible["shadow_price_per_point"].to_numpy()
    for i in range(len(shares) - 1):
        slope = (costs[i + 1] - costs[i]) / ((shares[i] - shares[i + 1]) * 100)
        assert prices[i] * (1 - 1e-6) - 1e-6 <= slope <= prices[i + 1] * (1 + 1e-6) + 1e-6


@pytest.mark.parametrize("where", ["bundled", "ladder"])
def test_shadow_price_against_finite_difference(where):
    if where == "bundled":
        shipped = pd.read_csv(Path(bundled_instance()) / "origin_caps.csv")["max_share"].iloc[0]  # the raw table
        data, cap, share = so.read_instance(bundled_instance()), "China:refining", float(shipped)
    else:
        data, cap, share = so.from_frames(make(**LADDER, origin_caps=[{"country": "China", "max_share": 0.7}])), \
            "China", 0.7
    h = 1e-4

    def objective(s: float) -> float:
        return so.solve(apply_case(data, "fd", Overrides(caps=[f"{cap}={s!r}"]).edits(data.tables))).objective

    result = so.solve(data)
    prices = result.shadow_prices
    price = prices.loc[prices["rule"] == "origin cap", "value"].sum()
    looser = (result.objective - objective(share + h)) / (100 * h)   # what the next point up saves
    tighter = (objective(share - h) - result.objective) / (100 * h)  # what the next point down costs
    assert looser * (1 - 1e-4) <= price <= tighter * (1 + 1e-4) + 1e-6
    if where == "ladder":
        assert price == pytest.approx(20.0) and looser == pytest.approx(20.0) and tighter == pytest.approx(20.0)


def test_vss_and_evpi_by_hand():
    """The over-contracting instance (test_hand_solved): RP = 1550.

    EV: mean availability 0.75, so 133.33 contracted delivers exactly 100: EV = 1000.
    EEV: 133.33 fixed; calm delivers 133.33 (1333.33 + 33.33 held), cut 66.67 + 33.33 spot at 40:
    0.5 (1366.67) + 0.5 (666.67 + 1333.33) = 1683.33. WS: each scenario alone costs 1000.
    VSS = 133.33, EVPI = 550.
    """
    data = so.from_frames(make(**OVER_CONTRACTING))
    table = value_of_information(data).set_index("measure")
    assert table["value"].to_dict() == pytest.approx({
        "RP": 1550, "EV": 1000, "EEV": 1683 + 1 / 3, "WS": 1000, "VSS = EEV - RP": 133 + 1 / 3,
        "EVPI = RP - WS": 550})
    assert set(table["status"]) == {"optimal"}


def test_vss_and_evpi_with_scenario_specific_floors_by_hand():
    """Demand 100, a contract at 10, spot at 20, shortage 5 (cheaper than buying, so the floors bind); 'calm'
    and 'ban' (p 0.5 each) differ only in their floors: 50% in calm, 90% in ban.

    RP: the contract x is delivered in both scenarios; between 50 and 90 one more unit costs 10 - 5 in calm
    and saves 20 - 10 of spot in ban, so x = 90 and each scenario costs 900 + 10 x 5 = 950: RP = 950.
    EV: the average scenario keeps each material's strictest floor, 90%: x = 90, EV = 950, EEV = 950, VSS 0.
    (With the loosest floor, 50%, the EV plan would contract 50: EV 750; no offer tells the two scenarios
    apart, so they share one recourse node and both buy the 40 spot units ban needs: EEV = 500 + 800 + 50
    = 1350.) WS, where each scenario is known in advance: calm alone 500 + 250 = 750, ban alone 950:
    WS = 850, EVPI = 100.
    """
    data = so.from_frames(make(
        materials=[{"material": "Dy", "shortage_penalty": 5}],
        suppliers=[supplier("Lynas", "contract", "Malaysia"), supplier("Spot", "spot", "Germany")],
        offers=[{"supplier": "Lynas", "material": "Dy", "price": 10},
                {"supplier": "Spot", "material": "Dy", "price": 20}],
        scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "ban", "probability": 0.5}],
        service_levels=[{"scenario": "calm", "min_fill_rate": 0.5}, {"scenario": "ban", "min_fill_rate": 0.9}],
    ))
    table = value_of_information(data).set_index("measure")
    assert table["value"].to_dict() == pytest.approx({
        "RP": 950, "EV": 950, "EEV": 950, "WS": 850, "VSS = EEV - RP": 0, "EVPI = RP - WS": 100}, abs=1e-6)
    assert set(table["status"]) == {"optimal"}


def test_eev_infeasible_is_reported_as_such():
    """EV plans for availability 0.5 on average; in 'cut' (none delivered) a 100% floor cannot hold
    without the reserve the EV plan never made."""
    data = so.from_frames(make(
        suppliers=[supplier("A", "contract", "China"), supplier("Vault", "stockpile", "United States")],
        offers=[{"supplier": "A", "material": "Dy", "price": 10},
                {"supplier": "Vault", "material": "Dy", "price": 20, "reserve_limit": 100, "reservation_fee": 1}],
        scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
        disruptions=[{"scenario": "cut", "supplier": "A", "availability": 0}],
        service_levels=[{"min_fill_rate": 1}],
    ))
    table = value_of_information(data).set_index("measure")
    assert table.loc["EEV", "status"] == "infeasible"
    assert table.loc["VSS = EEV - RP", "status"] == "infeasible"
    assert np.isnan(table.loc["VSS = EEV - RP", "value"])
    assert table.loc["RP", "value"] == pytest.approx(0.5 * 1000 + 0.5 * 2000 + 100)


@pytest.mark.parametrize("status, said", [
    ("time limit", "HiGHS stopped at the time limit at 1 point (50.0%): no plan is reported there; raise "
                   "time_limit in settings for the whole curve."),
    ("not solved", "No proven optimum at 1 point (50.0%): HiGHS gave no answer here."),
])
def test_the_terminal_says_why_a_point_of_the_curve_stopped(status, said, monkeypatch, tmp_path, capsys):
    """A point that stops is reported with its own reason, and the command exits 4: the time limit asks for
    more time, any other stop repeats HiGHS's message instead of claiming a time limit."""
    import dataclasses

    import optimizer.analysis.frontier as frontier_module
    from optimizer.interfaces.cli import main

    solved_at = frontier_module.CapSweep.at

    def at(self, share):
        result = solved_at(self, share)
        if abs(share - 0.5) < 1e-9:  # as the sweep keeps it
            result = self.results[frontier_module._key(share)] = dataclasses.replace(
                result, status=status, message="HiGHS gave no answer here.")
        return result

    monkeypatch.setattr(frontier_module.CapSweep, "at", at)
    folder = tmp_path / "ladder"
    folder.mkdir()
    for sheet, rows in make(**LADDER).items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    code = main(["frontier", str(folder), "--points", "3", "-o", str(tmp_path / "curve.xlsx")])
    assert code == 4
    assert said in capsys.readouterr().out.splitlines()


# --------------------------------------------------------------------------- what a manager reads

REPOSITORY = Path(__file__).resolve().parents[1]


def _run_frontier(folder: Path, *options: str) -> str:
    """`python -m optimizer frontier` on the bundled instance as a user runs it, in a 100-column terminal."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, "COLUMNS": "100",
                   "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "optimizer", "frontier", *options, "-o", str(folder / "curve.xlsx"),
                           "--png", str(folder / "curve.png")], cwd=folder, env=environment, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default sweep (China at any stage) of the bundled instance: its terminal text and its files."""
    folder = tmp_path_factory.mktemp("default")
    return folder, _run_frontier(folder)


def _table_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("│")]


def test_the_terminal_names_the_points_in_the_workbooks_words(default_run):
    """The point column says what the workbook says, in whole words, within 100 columns. On the bundled
    instance the default sweep starts at 90.0% (where the instance's 90% China refining cap stops it), the
    tightest cap is 89.3% (README) and the grid's other points fall below it, so detail is added between."""
    folder, out = default_run
    lines = _table_lines(out)
    assert max(len(line) for line in lines) <= 100  # the explanation below is left to the terminal to wrap
    cells = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]
    words = [row[1] for row in cells if row[1]]
    assert cells[0][:2] == ["90.0%", "swept cap not binding (start)"]
    assert cells[-2][:2] == ["89.3%", "tightest cap with a plan"]
    assert set(words[1:-2]) == {"added where a plan exists"}
    assert not any(jargon in out for jargon in ("unconstrained", "detail", "sweep", "…"))
    book = pd.read_excel(folder / "curve.xlsx", sheet_name="Frontier", engine="openpyxl")
    assert book.iloc[:, 1].tolist()[:len(words) - 1] == words[:-1]  # the same words, point for point


def test_the_start_of_the_default_sweep_is_not_called_unconstrained():
    """Sweeping China at any stage leaves the instance's own China refining cap (90%) in place, and it binds
    at the start: its shadow price there is positive, so "no cap binding" would be false. The start is where
    the swept cap does not bind (its own price is 0)."""
    data = so.read_instance(bundled_instance())
    curve = frontier(data, "China", points=3)
    start = curve.table.iloc[0]
    assert start["point"] == "unconstrained" and start["shadow_price_per_point"] == 0
    prices = curve.results[start["max_share"]].shadow_prices
    refining = prices[(prices["rule"] == "origin cap") & (prices["input_row"] == "origin_caps:2")]
    assert refining["value"].sum() > 0
    assert curve.points_in_words.iloc[0] == "swept cap not binding (start)"


def _chart_axes(book: Path) -> dict[str, dict[str, float]]:
    """The native chart's axes as the workbook stores them: position ("b" the share, "l" the money) to
    min, max and majorUnit."""
    import re
    import zipfile

    with zipfile.ZipFile(book) as archive:
        xml = archive.read("xl/charts/chart1.xml").decode()
    axes = {}
    for axis in re.findall(r"<c:valAx>.*?</c:valAx>", xml):
        position = re.search(r'<c:axPos val="(\w)"/>', axis).group(1)
        axes[position] = {key: float(value) for key, value in re.findall(r'<c:(min|max|majorUnit) val="([^"]+)"/>', axis)}
    return axes


def test_the_share_axes_fit_the_points_with_a_plan(default_run):
    """The default sweep's points with a plan lie between the tightest cap (89.25%, README) and the start
    (90.0%): a span of 0.75 points, a tenth of which is less than the half-point least margin, so both the
    figure and the workbook's chart show 88.75%-90.5% (not 0-100%, where the curve was a vertical smear),
    the tightest cap and the start inside, and a half point of the no-plan region."""
    folder, _ = default_run
    share = _chart_axes(folder / "curve.xlsx")["b"]
    assert share["min"] == pytest.approx(0.8875, abs=2e-4) and share["max"] == pytest.approx(0.905, abs=1e-6)
    curve = frontier(so.read_instance(bundled_instance()), "China", points=11)
    low, high = so.frontier_chart(curve).axes[0].get_xlim()
    assert (low, high) == pytest.approx((share["min"], share["max"]))
    assert low < curve.tightest < curve.unconstrained_share < high


def test_the_money_axis_of_the_workbooks_chart_is_fitted_on_round_steps(default_run):
    """The terminal shows the default sweep's costs from 73.68M (expected cost at the start) to 101.95M
    (objective at the tightest cap): a pad of a tenth of the 28.3M span each side gives 70.85M-104.78M,
    a fifth of which (6.8M) rounds up to steps of 10M: 70M to 110M, never from 0."""
    folder, _ = default_run
    money = _chart_axes(folder / "curve.xlsx")["l"]
    assert money == {"min": 70e6, "max": 110e6, "majorUnit": 10e6}


@pytest.fixture(scope="module")
def refining_run(tmp_path_factory):
    """The China refining sweep of the bundled instance, whose start passes 100%."""
    folder = tmp_path_factory.mktemp("refining")
    return folder, _run_frontier(folder, "--cap", "China:refining")


NOTE = re.compile(r"Why a share above 100%: a share is what passes through China refining divided by demand\. "
                  r"Where the swept cap does not bind, the plan buys (\d+\.\d)% of the (.+?) demand through "
                  r"China refining in '(.+?)' and keeps the rest as stock, so the share passes 100%\.")


def test_a_share_above_100_percent_is_explained_where_it_is_shown(refining_run, monkeypatch):
    """The start of the China refining sweep shows 102.0%: the terminal, the workbook (under the table), the
    figure and the one-page PDF's text say why, and what they say is true: without the cap, that material
    in that scenario is delivered beyond its demand and its stock ends higher than it began (opening +
    delivered + unmet = demand + closing)."""
    folder, out = refining_run
    first = [cell.strip() for cell in _table_lines(out)[0].strip("│").split("│")]
    note = NOTE.search(out)
    assert note is not None and note.group(1) + "%" == first[0] == "102.0%"
    material, scenario = note.group(2), note.group(3)
    data = so.read_instance(bundled_instance())
    uncapped = so.solve(so.from_frames({**data.tables, "origin_caps": data.tables["origin_caps"].iloc[0:0]}))
    balance = uncapped.balance[(uncapped.balance["material"] == material)
                               & (uncapped.balance["scenario"] == scenario)]
    assert balance["delivered"].sum() > balance["demand"].sum()
    assert balance["closing_inventory"].iloc[-1] > balance["opening_inventory"].iloc[0]

    import html
    import zipfile

    with zipfile.ZipFile(folder / "curve.xlsx") as archive:  # a text box under the table, not a cell
        drawing = html.unescape(archive.read("xl/drawings/drawing1.xml").decode())
    assert note.group(0) in re.findall(r"<a:t>(.*?)</a:t>", drawing)
    table = pd.read_excel(folder / "curve.xlsx", sheet_name="Frontier", engine="openpyxl")
    assert table.iloc[:, 0].notna().all()  # the sheet read back is the table alone
    curve = frontier(data, "China:refining", points=11)
    assert [text.get_text().replace("\n", " ") for text in so.frontier_chart(curve).texts] == [note.group(0)]
    import optimizer.reports.pdf as pdf_module

    said = []
    monkeypatch.setattr(pdf_module, "one_page_pdf", lambda path, title, lines, draw: said.extend(lines))
    pdf_module.write_frontier_pdf(curve, folder / "unused.pdf")
    assert note.group(0) in said


def test_no_note_where_no_share_passes_100_percent(default_run):
    folder, out = default_run
    assert "above 100%" not in out
    curve = frontier(so.read_instance(bundled_instance()), "China", points=3)
    assert curve.over_demand == "" and so.frontier_chart(curve).texts == []


def test_the_readme_shows_what_the_default_command_prints(default_run):
    """README, "Cost of de-risking": the block under "the default `sourcing frontier` ... prints" is the
    bundled instance's output line for line (its "..." stands for the rows left out)."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Cost of de-risking"):]
    block = section[section.index("the default `sourcing frontier` (China at any stage) prints:"):]
    block = block[block.index("```\n") + 4:]
    shown = [line for line in block[:block.index("```")].splitlines() if line.strip() != "..."]
    _, out = default_run
    printed = out.splitlines()
    assert all(line in printed for line in shown) and printed.index(shown[0]) == 0


def test_the_figure_marks_the_tightest_cap_with_a_plan_at_its_point():
    curve = frontier(so.read_instance(bundled_instance()), "China", points=5)
    axis = so.frontier_chart(curve).axes[0]
    marks = {c.get_label(): c.get_offsets()[0] for c in axis.collections if c.get_label().startswith(("current", "tightest"))}
    tight = next(label for label in marks if label.startswith("tightest cap with a plan"))
    row = curve.table[curve.table["point"].str.contains("tightest")].iloc[0]
    assert tuple(marks[tight]) == pytest.approx((curve.tightest, row["objective"]))
    assert f"{curve.tightest:.2%}" in tight
    assert any(label.startswith("current cap") for label in marks) == (curve.current is not None)
