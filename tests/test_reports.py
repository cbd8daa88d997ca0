"""What a manager reads: stable names, honest labels, unit-free headline figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import optimizer as so
from conftest import make, supplier

#: Two materials: Dy (100 kg, China at 10, Lynas at 30) and magnets (1000 kg, China at 2, MP at 3); China
#: capped at 50% of each material. The optimum buys half of each from China: Dy 50 x 10 + 50 x 30 = 2000,
#: magnets 500 x 2 + 500 x 3 = 2500; expected cost 4500.
TWO_MATERIALS = dict(
    materials=[{"material": "Dy", "unit": "kg", "shortage_penalty": 1000, "holding_cost": 0},
               {"material": "Magnets", "unit": "kg", "shortage_penalty": 100, "holding_cost": 0}],
    demand=[{"material": "Dy", "period": "t1", "quantity": 100},
            {"material": "Magnets", "period": "t1", "quantity": 1000}],
    suppliers=[supplier("China", "contract", "China"), supplier("Lynas", "contract", "Malaysia"),
               supplier("MP", "contract", "United States")],
    offers=[{"supplier": "China", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30},
            {"supplier": "China", "material": "Magnets", "price": 2},
            {"supplier": "MP", "material": "Magnets", "price": 3}],
    origin_caps=[{"country": "China", "max_share": 0.5}],
)


def restated(tables: dict, material: str, factor: float) -> dict:
    """The same instance with `material` counted in units `factor` times larger (kg -> t: 1000):
    quantities divided by factor, money per unit multiplied by it."""
    out = {name: pd.DataFrame(frame).copy() for name, frame in tables.items()}
    for sheet in ("materials", "demand", "offers"):
        out[sheet] = out[sheet].astype({c: float for c in out[sheet].columns if pd.api.types.is_integer_dtype(out[sheet][c])})
    per_unit = {"materials": ["shortage_penalty", "holding_cost"], "offers": ["price", "reservation_fee"]}
    quantities = {"materials": ["initial_inventory"], "demand": ["quantity"],
                  "offers": ["capacity", "min_quantity", "reserve_limit"]}
    for sheet in ("materials", "demand", "offers"):
        frame = out[sheet]
        rows = frame["material"] == material
        for column in per_unit.get(sheet, []):
            if column in frame:
                frame.loc[rows, column] = pd.to_numeric(frame.loc[rows, column]) * factor
        for column in quantities.get(sheet, []):
            if column in frame:
                frame.loc[rows, column] = pd.to_numeric(frame.loc[rows, column]) / factor
    out["materials"].loc[out["materials"]["material"] == material, "unit"] = "t"
    return out


def test_headline_keys_and_columns_do_not_change_with_the_settings():
    """CVaR level and currency are values, never part of a name."""
    names = []
    for settings in ([], [{"key": "cvar_level", "value": 0.9}, {"key": "currency", "value": "EUR"},
                          {"key": "cvar_weight", "value": 0.5}, {"key": "dependency_country", "value": "Malaysia"}]):
        result = so.solve(so.from_frames(make(**TWO_MATERIALS, settings=settings)))
        names.append((list(result.summary["metric"]), list(result.plan.columns), list(result.scenario_costs.columns),
                      list(result.flows.columns)))
    assert names[0] == names[1]
    assert {"expected_cost", "cvar", "cvar_level", "dependency_share", "worst_scenario_cost"} <= set(names[0][0])
    assert "expected_cost" in names[0][1] and "cost" in names[0][2]
    eur = so.solve(so.from_frames(make(**TWO_MATERIALS, settings=[{"key": "currency", "value": "EUR"}])))
    assert set(eur.plan["currency"]) == {"EUR"} and set(eur.scenario_costs["currency"]) == {"EUR"}
    assert eur.summary.set_index("metric").loc["expected_cost", "unit"] == "EUR"


def test_the_headline_has_the_same_keys_without_a_plan():
    """An infeasible policy (only China sells, capped at 10%, and 99% of demand must be met) keeps the optimal
    solve's keys: code reading result.headline["expected_cost"] gets None, not a KeyError."""
    solved = so.solve(so.from_frames(make(**TWO_MATERIALS)))
    china = [o for o in TWO_MATERIALS["offers"] if o["supplier"] == "China"]
    frames = make(**dict(TWO_MATERIALS, offers=china, origin_caps=[{"country": "China", "max_share": 0.1}],
                         service_levels=[{"min_fill_rate": 0.99}]))
    infeasible = so.solve(so.from_frames(frames))
    assert infeasible.status == "infeasible"
    assert list(infeasible.headline) == list(solved.headline)
    assert infeasible.headline["status"] == "infeasible" and infeasible.headline["expected_cost"] is None
    assert infeasible.headline["cvar_level"] == solved.headline["cvar_level"]


def test_dependency_share_is_weighted_by_value_at_the_plans_prices():
    """Dy: China 50% of demand, valued at 100 kg x 20 USD/kg (the plan's average price) = 2000; magnets: 50%,
    valued at 1000 x 2.5 = 2500. Both 50%: the headline is 50%, where adding kilograms would also say 50%;
    with Dy's cap at 20% instead, Dy's China share is 20% and its price (20 x 10 + 80 x 30) / 100 = 26, so the
    headline is (0.2 x 2600 + 0.5 x 2500) / 5100."""
    result = so.solve(so.from_frames(make(**TWO_MATERIALS)))
    assert result.headline["expected_cost"] == pytest.approx(4500)
    assert result.headline["dependency_share"] == pytest.approx(0.5)
    frames = make(**dict(TWO_MATERIALS, origin_caps=[{"country": "China", "material": "Dy", "max_share": 0.2},
                                                     {"country": "China", "material": "Magnets", "max_share": 0.5}]))
    tighter = so.solve(so.from_frames(frames))
    assert tighter.headline["dependency_share"] == pytest.approx((0.2 * 2600 + 0.5 * 2500) / 5100)


@pytest.mark.parametrize("factor", [1000, 0.001])
def test_restating_a_materials_unit_leaves_every_share_unchanged(factor):
    frames = make(**dict(TWO_MATERIALS, origin_caps=[{"country": "China", "material": "Dy", "max_share": 0.2},
                                                     {"country": "China", "material": "Magnets", "max_share": 0.5}]))
    before = so.solve(so.from_frames(frames))
    after = so.solve(so.from_frames(restated(frames, "Magnets", factor)))
    assert after.objective == pytest.approx(before.objective, rel=1e-9)
    assert after.headline["dependency_share"] == pytest.approx(before.headline["dependency_share"], rel=1e-9)
    assert after.dependency["share"].tolist() == pytest.approx(before.dependency["share"].tolist(), rel=1e-9)
    assert after.origin_shares["share"].tolist() == pytest.approx(before.origin_shares["share"].tolist(), rel=1e-9)


def test_restating_the_bundled_magnets_in_tonnes_leaves_the_headline_share():
    tables = so.read_tables(so.bundled_instance())
    before = so.solve(so.from_frames(tables))
    after = so.solve(so.from_frames(restated(tables, "NdFeB magnets", 1000)))
    assert after.objective == pytest.approx(before.objective, rel=1e-7)
    assert after.headline["dependency_share"] == pytest.approx(before.headline["dependency_share"], abs=1e-6)


def test_shadow_prices_say_objective_when_the_risk_term_counts():
    frames = make(**TWO_MATERIALS)
    neutral = so.solve(so.from_frames(frames)).shadow_prices
    assert neutral["meaning"].str.startswith("expected cost").all()
    risky = so.solve(so.from_frames(make(**TWO_MATERIALS, settings=[{"key": "cvar_weight", "value": 0.3}])))
    meanings = risky.shadow_prices["meaning"]
    assert meanings.str.startswith("objective (expected cost + 0.3 x CVaR)").all()


def chart_series(path) -> list[dict]:
    """Every series of every native chart in a workbook: its name and values references (sheet, cells)."""
    import re
    import zipfile

    series = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart")):
            xml = archive.read(name).decode()
            for block in re.findall(r"<c:ser>(.*?)</c:ser>", xml, flags=re.S):
                refs = dict(re.findall(r"<c:(tx|cat|val|xVal|yVal)>.*?<c:f>(.*?)</c:f>", block, flags=re.S))
                series.append({"chart": name, **refs})
    return series


def cells(book, reference: str) -> list:
    """The values of a reference such as 'Charts'!$B$5:$B$8."""
    sheet, cell_range = reference.rsplit("!", 1)
    found = book[sheet.strip("'")][cell_range.replace("$", "")]
    if not isinstance(found, tuple):
        return [found.value]
    return [c.value for row in found for c in (row if isinstance(row, tuple) else (row,))]


def test_the_plan_charts_point_at_the_numbers_they_show(tmp_path):
    """Each supply series is one supplier's expected deliveries per period, each cost series one part of each
    scenario's cost, checked against the result tables summed here."""
    import openpyxl

    from conftest import VAULT_UNDER_CAP

    frames = make(**dict(VAULT_UNDER_CAP, periods=[{"period": "t1"}, {"period": "t2"}],
                         demand=[{"material": "Dy", "period": "t1", "quantity": 100},
                                 {"material": "Dy", "period": "t2", "quantity": 50}]))
    result = so.solve(so.from_frames(frames))
    path = so.write_plan(result, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(path, data_only=True)
    series = chart_series(path)
    probability = result.scenario_costs.set_index("scenario")["probability"]
    flows = result.flows.assign(weighted=result.flows["quantity"] * result.flows["scenario"].map(probability))
    expected = flows.groupby(["supplier", "period"])["weighted"].sum()
    checked = set()
    for s in series:
        name = cells(book, s["tx"])[0]
        values = cells(book, s["val"])
        categories = cells(book, s["cat"]) if "cat" in s else []
        if name in set(flows["supplier"]) and set(categories) <= {"t1", "t2"}:  # supply over time
            assert values == pytest.approx([expected.get((name, t), 0.0) for t in categories])
            checked.add(name)
        elif name in set(flows["supplier"]):  # the Summary's glance: share of the material's demand (150)
            assert categories == ["Dy"]
            assert values == pytest.approx([expected.xs(name, level="supplier").sum() / 150])
    assert checked == {s for s, q in flows.groupby("supplier")["quantity"].sum().items() if q > 1e-9}
    costs = result.scenario_costs.set_index("scenario")
    parts = {"Contracts": "contract", "Spot purchases": "spot", "Stockpile fees": "reservation",
             "Stockpile draws": "stockpile_draw"}
    cost_series = [s for s in series if cells(book, s["tx"])[0] in parts]
    assert cost_series
    for s in cost_series:
        part = parts[cells(book, s["tx"])[0]]
        assert cells(book, s["val"]) == pytest.approx([costs.loc[w, part] for w in cells(book, s["cat"])])


def test_supply_from_stock_fills_the_bars_to_demand_by_hand():
    """Demand 60 in t1 and 40 in t2, 30 in stock at the start, China at 10 (t1) and 20 (t2), no holding cost:
    the plan buys 70 in t1 and nothing in t2, so t1 ends with 30 + 70 - 60 = 40 and t2 draws all 40. Per
    period: t1 China 70 (stock grows, nothing drawn), t2 from stock 40. Over the horizon China delivers 70 of
    the 100 and the opening 30 is used up."""
    from optimizer.reports.figures import FROM_STOCK, glance_table, supply_table

    frames = make(periods=[{"period": "t1"}, {"period": "t2"}],
                  materials=[{"material": "Dy", "unit": "kg", "shortage_penalty": 1000, "holding_cost": 0,
                              "initial_inventory": 30}],
                  demand=[{"material": "Dy", "period": "t1", "quantity": 60},
                          {"material": "Dy", "period": "t2", "quantity": 40}],
                  suppliers=[supplier("China", "contract", "China")],
                  offers=[{"supplier": "China", "material": "Dy", "period": "t1", "price": 10},
                          {"supplier": "China", "material": "Dy", "period": "t2", "price": 20}])
    result = so.solve(so.from_frames(frames))
    table = supply_table(result).set_index(["period", "supplier"])["quantity"]
    assert table.to_dict() == {("t1", "China"): pytest.approx(70), ("t2", FROM_STOCK): pytest.approx(40)}
    glance = glance_table(result).loc["Dy"]
    assert glance.to_dict() == {"China": pytest.approx(0.7), FROM_STOCK: pytest.approx(0.3)}


@pytest.fixture(scope="module")
def bundled_plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    result = so.solve(so.bundled_instance())
    so.write_plan(result, path)
    return result, path


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_repeated(bundled_plan):
    import openpyxl

    _, path = bundled_plan
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        # OOXML leaves out a fit of 1 page (its default): None reads as 1
        assert setup.fitToWidth in (1, None), sheet.title
        assert setup.fitToHeight in ((1, None) if sheet.title == "Summary" else (0,)), sheet.title
        assert sheet.title.replace("&", "&&") in sheet.oddHeader.left.text, sheet.title
        if sheet.title not in ("Summary", "Charts"):
            assert sheet.print_title_rows == "$1:$1", sheet.title  # the header row on every page
    summary = book["Summary"]
    assert summary.print_area is not None


def test_plan_and_shadow_prices_put_what_is_worth_most_first(bundled_plan):
    result, path = bundled_plan
    plan = pd.read_excel(path, sheet_name="Plan", engine="openpyxl")
    cost = next(c for c in plan.columns if c.startswith("Expected cost"))
    signed = plan[plan[next(c for c in plan.columns if c.startswith("Quantity"))] > 0]
    assert signed[cost].tolist() == sorted(signed[cost], reverse=True)
    assert len(plan) == len(result.plan)
    zero = (result.plan["quantity"] == 0).sum()
    assert plan.index[plan[cost] == 0].min() == len(plan) - zero  # the rows with nothing signed come last
    prices = pd.read_excel(path, sheet_name="Shadow prices", engine="openpyxl")
    values = prices["Value"].abs()
    binding = values[values > 0]
    assert binding.tolist() == sorted(binding, reverse=True) and (values.iloc[len(binding):] == 0).all()


def test_money_has_the_currency_and_no_cents_and_shares_are_percent(bundled_plan):
    import openpyxl

    _, path = bundled_plan
    book = openpyxl.load_workbook(path)
    plan = book["Plan"]
    headers = {c.value: c.column_letter for c in plan[1]}
    cost = next(h for h in headers if h.startswith("Expected cost"))
    assert cost == "Expected cost (USD)"
    assert plan.column_dimensions[headers[cost]].number_format == '#,##0 "USD";-#,##0 "USD"'
    fills = book["Fill rates"]
    headers = {c.value: c.column_letter for c in fills[1]}
    assert fills.column_dimensions[headers["Fill rate (%)"]].number_format == "0.0%"


def test_the_summary_prints_on_one_page(bundled_plan, tmp_path):
    """Converted by LibreOffice: each page's header names its sheet, and one page is the Summary's."""
    import shutil
    import subprocess

    _, path = bundled_plan
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice and poppler are not installed")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "plan.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    first_words = [page.strip().split()[0] if page.strip() else "" for page in pages]
    assert first_words.count("Summary") == 1
    assert "Rare-earth sourcing plan" in pages[0] and "Expected cost" in pages[0]
    assert first_words[1] == "Plan"


def pdf_pages(path) -> int:
    data = path.read_bytes()
    return data.count(b"/Type /Page") - data.count(b"/Type /Pages")


def test_solve_compare_and_frontier_write_a_one_page_pdf(tmp_path, capsys):
    from optimizer.interfaces.cli import main

    from conftest import VAULT_UNDER_CAP

    folder = tmp_path / "vault"
    folder.mkdir()
    for sheet, rows in make(**VAULT_UNDER_CAP).items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    runs = {"solve": ["solve", str(folder), "-o", str(tmp_path / "p.xlsx")],
            "compare": ["compare", "-o", str(tmp_path / "c.xlsx")],
            "frontier": ["frontier", str(folder), "--points", "3", "-o", str(tmp_path / "f.xlsx")]}
    for command, args in runs.items():
        pdf = tmp_path / f"{command}.pdf"
        assert main(args + ["--pdf", str(pdf)]) == 0, command
        assert f"One-page PDF written to {pdf}" in capsys.readouterr().out
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf_pages(pdf) == 1, command
    assert main(["solve", str(folder), "--pdf", str(tmp_path / "plan.png")]) == 2
    assert "--pdf" in capsys.readouterr().err


def test_an_infeasible_summary_shows_its_whole_message_and_why_no_plan_in_percent(tmp_path):
    import openpyxl

    data = so.from_frames(make(**dict(TWO_MATERIALS, origin_caps=[{"country": "China", "max_share": 0.0}],
                                      service_levels=[{"min_fill_rate": 1.0}],
                                      offers=[{"supplier": "China", "material": "Dy", "price": 10},
                                              {"supplier": "China", "material": "Magnets", "price": 2}])))
    result = so.solve(data)
    assert result.status == "infeasible"
    path = so.write_plan(result, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(path)
    summary = book["Summary"]
    message = next(c for row in summary.iter_rows() for c in row if c.value == result.message)
    assert message.alignment.wrap_text
    merged = next(r for r in summary.merged_cells.ranges if message.coordinate in r)
    assert merged.max_col - merged.min_col >= 4
    assert summary.row_dimensions[message.row].height >= 15 * len(result.message.splitlines())
    why = book["Why no plan"]
    headers = [c.value for c in why[1]]
    current = why.cell(row=2, column=headers.index("Current") + 1)
    assert current.number_format == "0.0%"


def test_solving_and_writing_a_plan_workbook_does_not_import_matplotlib(tmp_path):
    """The workbook's charts are xlsxwriter's: a plain `sourcing solve` must not pay for matplotlib's import
    (about half a second); only a PNG or PDF does. Checked in a fresh process, which reports at exit."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(so.__file__).parents[1])}

    def matplotlib_loaded(*options: str) -> bool:
        probe = ("import atexit, sys\n"
                 "atexit.register(lambda: print('MPL', 'matplotlib' in sys.modules))\n"
                 "from optimizer.interfaces.cli import main\n"
                 f"main({['solve', '--no-why', *options, '-o', 'plan.xlsx']!r})\n")
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert (tmp_path / "plan.xlsx").is_file(), out.stderr[-500:]
        return "MPL True" in out.stdout

    assert not matplotlib_loaded()
    assert matplotlib_loaded("--pdf", "plan.pdf")  # the probe can tell


def test_solving_imports_pyomos_modelling_core_without_pyomo_environs_plugins(tmp_path):
    """pyomo.environ loads every Pyomo package's plugins (solver and writer registries, DAE, GDP, about
    0.15 s) that the model, APPSI's HiGHS and the standard-form compiler do without; a fresh process
    reports at exit (the probe tells when something imports it)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(so.__file__).parents[1])}

    def environ_loaded(prelude: str = "") -> bool:
        probe = ("import atexit, sys\n"
                 "atexit.register(lambda: print('ENVIRON', 'pyomo.environ' in sys.modules, "
                 "'DAE', 'pyomo.dae' in sys.modules))\n" + prelude +
                 "from optimizer.interfaces.cli import main\n"
                 "main(['solve', '--vss', '-o', 'plan.xlsx'])\n")
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert (tmp_path / "plan.xlsx").is_file(), out.stderr[-500:]
        return "ENVIRON True" in out.stdout or "DAE True" in out.stdout

    assert not environ_loaded()  # solve, the Why analysis (standard form) and VSS/EVPI
    assert environ_loaded("import pyomo.environ\n")


def test_the_written_out_palette_is_matplotlibs_tab20():
    import matplotlib

    from optimizer.reports.figures import PALETTE

    assert np.allclose(PALETTE, matplotlib.colormaps["tab20"].colors)


def test_the_flows_sheet_lists_what_was_delivered_and_says_how_many_rows_delivered_nothing(tmp_path):
    from conftest import VAULT_UNDER_CAP

    # worked out by hand (test_hand_solved): China 60 and Vault 40 in 'calm', Vault 100 in 'ban', Lynas never
    result = so.solve(so.from_frames(make(**VAULT_UNDER_CAP)))
    path = so.write_plan(result, tmp_path / "plan.xlsx")
    flows = pd.read_excel(path, sheet_name="Flows", engine="openpyxl")
    quantity = next(c for c in flows.columns if c.startswith("Quantity"))
    delivered = {(s, supplier): q for s, supplier, q in zip(flows["Scenario"], flows["Supplier"], flows[quantity])}
    assert delivered == pytest.approx({("calm", "China refiners"): 60, ("calm", "Project Vault"): 40,
                                       ("ban", "Project Vault"): 100})
    note = flows.columns[-1]
    assert note.startswith(f"{len(result.flows) - 3:,} offers with nothing delivered")
    import openpyxl

    sheet = openpyxl.load_workbook(path)["Flows"]
    last = openpyxl.utils.get_column_letter(len(flows.columns) - 1)  # the table's columns, not the note's
    assert sheet.print_area == f"'Flows'!$A$1:${last}$4"
    assert note in sheet.oddHeader.left.text  # the note is printed in the page header instead


def test_the_standard_form_hand_over_does_not_import_scipy_stats(tmp_path):
    """Pyomo's deferred scipy imports scipy.stats, integrate and spatial (about 0.9 s) on the first import of
    scipy by anyone; the Why analysis hands the bundled model over through the standard form, which imports
    scipy.sparse. Checked in a fresh process; with Pyomo's callback put back the probe sees scipy.stats."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(so.__file__).parents[1])}

    def stats_loaded(restore_callback: bool) -> bool:
        restore = ("from pyomo.common import dependencies as d\n"
                   "d.scipy._indicator_flag._callback = d._finalize_scipy\n") if restore_callback else ""
        probe = ("import atexit, sys\n"
                 "atexit.register(lambda: print('SPARSE', 'scipy.sparse' in sys.modules, "
                 "'STATS', 'scipy.stats' in sys.modules))\n"
                 "import optimizer.solving.solver\n" + restore +
                 "from optimizer.interfaces.cli import main\n"
                 "main(['solve', '-o', 'plan.xlsx'])\n")
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert "SPARSE True" in out.stdout, out.stdout[-500:] + out.stderr[-500:]  # the hand-over ran
        return "STATS True" in out.stdout

    assert not stats_loaded(False)
    assert stats_loaded(True)


class _XlsxwritersOwnWorksheet:
    """xlsxwriter's Worksheet as it is, with `write_columns` as one `write_column` per column: the reference
    the plan workbook's faster worksheet must match byte for byte."""

    @staticmethod
    def make():
        from xlsxwriter.worksheet import Worksheet

        class Plain(Worksheet):
            def write_columns(self, first_row, first_col, columns):
                for j, values in enumerate(columns):
                    self.write_column(first_row, first_col + j, values)

        return Plain


def _parts(path) -> dict:
    """Every part of an xlsx file but docProps/core.xml (which holds the time of writing)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def test_the_plan_workbook_is_byte_for_byte_what_xlsxwriter_writes_cell_by_cell(bundled_plan, tmp_path,
                                                                                monkeypatch):
    """The faster worksheet (reports/worksheet.py) stores cells and writes rows itself; every part of the
    file must be what xlsxwriter's own write_column and close write, or a reader may see something else."""
    from optimizer.reports import worksheet

    result, fast = bundled_plan
    monkeypatch.setattr(worksheet, "TableWorksheet", _XlsxwritersOwnWorksheet.make())
    plain = so.write_plan(result, tmp_path / "plain.xlsx")
    fast_parts, plain_parts = _parts(fast), _parts(plain)
    assert fast_parts.keys() == plain_parts.keys()
    assert [name for name in fast_parts if fast_parts[name] != plain_parts[name]] == []


def test_the_faster_worksheet_writes_every_kind_of_cell_as_xlsxwriter_does(tmp_path):
    """Numbers, text, blanks, NaN and infinities (error cells), booleans, numpy scalars, dates, a text too long
    for the fast path, text that looks like a formula or a link, next to formats set by column, row and cell,
    a comment on an empty row, a merged range, a cell written twice, and a chart whose cached data reads the
    cells back, and a sheet whose rows are all taller than Excel's default."""
    import datetime

    import xlsxwriter

    from optimizer.reports.export import WRITER_OPTIONS
    from optimizer.reports.worksheet import TableWorksheet

    columns = [
        [1.5, 2, None, float("nan"), float("inf"), -float("inf"), 1 / 3, 1e300, -0.0, 10**17],
        ["China", "", None, "=1+1", "http://example.com", "x" * 20_000, "China", "<&>\"'", " pad ", "\x01"],
        [True, False, None, np.int64(7), datetime.date(2026, 1, 1), pd.NA, "a", 3, np.float64(2.5), "b"],
    ]

    def written(worksheet_class, name: str) -> dict:
        book = xlsxwriter.Workbook(str(tmp_path / name), WRITER_OPTIONS)
        sheet = book.add_worksheet("T", worksheet_class=worksheet_class) if worksheet_class else None
        bold, money = book.add_format({"bold": True}), book.add_format({"num_format": "#,##0"})
        sheet.write_string(0, 0, "header", bold)
        sheet.set_column(0, 0, 12, money)
        sheet.set_row(4, None, bold)
        sheet.write_comment(14, 1, "a comment on an empty row")
        for j, values in enumerate(columns):
            sheet.write_columns(1, j, [[v if v is not pd.NA else None for v in values]])
        sheet.write_string(3, 8, "a note beside the table")
        sheet.write_columns(30, 0, [[1.0] * 40, ["s"] * 40])  # narrower rows, past the first span of 16 rows
        sheet.merge_range(12, 0, 12, 2, "merged", bold)
        sheet.write_number(2, 0, 9.0, bold)  # written twice
        sheet.write_blank(13, 4, None, money)
        chart = book.add_chart({"type": "column"})  # its cached data reads the cells back, blank rows too
        chart.add_series({"categories": ["T", 1, 1, 10, 1], "values": ["T", 1, 0, 10, 0]})
        sheet.insert_chart(20, 8, chart)
        taller = book.add_worksheet("Taller rows", worksheet_class=worksheet_class)
        taller.set_default_row(24)  # every row then says its height
        taller.write_columns(0, 0, [[1.0, 2.0], ["a", "b"]])
        book.close()
        return _parts(tmp_path / name)

    fast, plain = written(TableWorksheet, "fast.xlsx"), written(_XlsxwritersOwnWorksheet.make(), "plain.xlsx")
    assert fast.keys() == plain.keys()
    assert [name for name in fast if fast[name] != plain[name]] == []


def test_the_pdf_rounds_money_as_the_workbook_shows_it():
    """Half away from zero, as '#,##0' does in a spreadsheet; Python's format would print 3,667,362."""
    from optimizer.reports.pdf import _text, whole

    assert _text(3_667_362.5, "USD", "USD") == "3,667,363 USD"
    assert (whole(2.5), whole(-2.5), whole(2.49), whole(0.0)) == (3, -3, 2, 0)
