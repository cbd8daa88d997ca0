"""Trust: no formula out of a name, nothing half-written, concurrent and repeatable solves, honest statuses."""

from __future__ import annotations

import importlib

import pickle
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyomo.environ as pyo
import pytest

import optimizer as so
from conftest import make, supplier
from optimizer.inputs.catalog import bundled_instance
from optimizer.interfaces.cli import main
from optimizer.reports.export import Workbook, write_csv_tables, write_plan
from optimizer.solving.solver import UNBOUNDED, make_solver, run_solver, solve_once
solve_module = importlib.import_module("optimizer.solving.solver")

HOSTILE = ['=HYPERLINK("http://example.invalid","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
           "[bold]Marked up[/bold]"]


def hostile_frames() -> dict:
    names = HOSTILE
    return make(
        suppliers=[supplier(n, "contract", "China" if i % 2 else "Malaysia") for i, n in enumerate(names)],
        offers=[{"supplier": n, "material": "Dy", "price": 10 + i, "capacity": 20} for i, n in enumerate(names)],
        scenarios=[{"scenario": "=1+1", "probability": 1}],
        cases=[{"case": "=cmd()", "sheet": "offers", "where": "", "column": "price", "action": "scale",
                "value": 2}],
    )


def test_names_never_become_formulas_in_the_plan_workbook(tmp_path):
    result = so.solve(so.from_frames(hostile_frames()))
    assert result.optimal
    plan = write_plan(result, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(plan)
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str) and cell.value in HOSTILE + ["=1+1", "=cmd()"]:
                    seen.add(cell.value)
    assert seen == set(HOSTILE) | {"=1+1", "=cmd()"}  # written as the text the user typed


def test_names_are_neutralised_in_csv_output(tmp_path):
    result = so.solve(so.from_frames(hostile_frames()))
    write_csv_tables(result, tmp_path / "tables")
    flows = pd.read_csv(tmp_path / "tables" / "flows.csv", keep_default_na=False)
    assert set(flows["supplier"]) == {"'" + n if n[0] in "=+-@" else n for n in HOSTILE}
    assert set(flows["scenario"]) == {"'=1+1"}
    assert flows["quantity"].dtype.kind == "f"  # numbers, negative ones included, stay numbers


def test_neutralise_covers_every_formula_start():
    from optimizer.reports.files import neutralise

    assert [neutralise(t) for t in ["=1", "+1", "-1", "@a", "\tx", "\rx", "ok", 3.5]] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "ok", 3.5]


def test_cli_prints_names_as_typed(capsys, tmp_path):
    frames = make(suppliers=[supplier("[bold]Lynas[/bold]", "contract", "Malaysia")],
                  offers=[{"supplier": "[bold]Lynas[/bold]", "material": "Dy", "price": 10}],
                  demand=[{"material": "Dy", "period": "t1", "quantity": "many"}])
    folder = tmp_path / "x"
    folder.mkdir()
    for sheet, rows in frames.items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    assert main(["solve", str(folder), "-o", str(tmp_path / "p.xlsx")]) == 2
    assert "'many' is not a number" in capsys.readouterr().err
    (folder / "demand.csv").write_text("material,period,quantity\nDy,t1,100\n")
    assert main(["solve", str(folder), "-o", str(tmp_path / "p.xlsx"), "--csv", str(tmp_path / "t")]) == 0
    assert pd.read_csv(tmp_path / "t" / "plan.csv")["supplier"].tolist() == ["[bold]Lynas[/bold]"]


def test_written_files_get_ordinary_permissions(tmp_path):
    """Not the private 0600 of the temporary file: the plan is meant to be shared."""
    import os

    from optimizer.reports.files import atomic_write

    mask = os.umask(0)
    os.umask(mask)
    path = atomic_write(tmp_path / "out.txt", lambda t: t.write_text("x"))
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    path.chmod(0o640)
    atomic_write(path, lambda t: t.write_text("y"))  # an existing file keeps its permissions
    assert path.stat().st_mode & 0o777 == 0o640


def _stray(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_write_leaves_the_earlier_plan_intact(tmp_path, monkeypatch):
    result = so.solve(so.from_frames(hostile_frames()))
    target = tmp_path / "plan.xlsx"
    write_plan(result, target)
    before = target.read_bytes()

    def broken_close(self):
        raise OSError("disk full")

    monkeypatch.setattr(Workbook, "close", broken_close)
    with pytest.raises(OSError, match="disk full"):
        write_plan(result, target)
    assert target.read_bytes() == before
    assert _stray(tmp_path) == []


def test_a_failed_figure_leaves_nothing_behind(tmp_path, monkeypatch):
    import matplotlib.figure

    curve = so.frontier(so.from_frames(make(
        suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
        offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                {"supplier": "Lynas", "material": "Dy", "price": 30}])), "China", points=3)
    from optimizer.reports.figures import frontier_figure

    def broken(self, *args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        frontier_figure(curve, tmp_path / "curve.png")
    assert list(tmp_path.iterdir()) == []


def test_concurrent_solves_from_threads_all_finish():
    data = so.read_instance(bundled_instance())
    caps = [0.9, 0.92, 0.94, 0.96, 0.98, 1.0]  # the bundled instance has no plan below about 89%
    variants = [so.apply_case(data, f"cap {c}", so.Overrides(caps=[f"China:refining={c}"]).edits(data.tables))
                for c in caps]
    sequential = [so.solve(v).objective for v in variants]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(so.solve, v) for v in variants]
        threaded = [f.result(timeout=300).objective for f in futures]
    assert threaded == pytest.approx(sequential, rel=1e-9)
    assert threading.active_count() < 20


PLAN_TABLES = ["plan", "flows", "balance", "scenario_costs", "fill_rates", "origin_shares", "dependency",
               "shadow_prices"]


def test_same_input_gives_the_same_tables_bit_for_bit(tmp_path):
    first = so.solve(so.read_instance(bundled_instance()))
    second = so.solve(so.read_instance(bundled_instance()))
    for name in PLAN_TABLES:
        assert getattr(first, name).equals(getattr(second, name)), name
    script = ("import pickle, sys, optimizer as so; from optimizer.inputs.catalog import bundled_instance; "
              "r = so.solve(so.read_instance(bundled_instance())); "
              f"pickle.dump({{n: getattr(r, n) for n in {PLAN_TABLES!r}}}, open(sys.argv[1], 'wb'))")
    out = tmp_path / "tables.pickle"
    subprocess.run([sys.executable, "-c", script, str(out)], check=True, timeout=300)
    other = pickle.loads(out.read_bytes())
    for name in PLAN_TABLES:
        assert getattr(first, name).equals(other[name]), name


@pytest.mark.parametrize("interface", ["persistent", "standard form"])
def test_time_limit_is_not_called_optimal(interface, monkeypatch):
    """On both solve paths (APPSI below STANDARD_FORM_FROM variables, the standard-form hand-over from it):
    a solve stopped by the time limit has no objective and no plan, never an 'optimal' plan costing 0."""
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if interface == "standard form" else 10**9)
    data = so.read_instance(bundled_instance())
    result = so.solve(replace(data, settings=replace(data.settings, time_limit=1e-9)))
    assert result.status == "time limit"
    assert not result.optimal
    assert result.message == ("HiGHS stopped at the time limit before proving a plan optimal; no plan is "
                              "reported.")
    assert result.objective is None or np.isnan(result.objective)
    assert result.plan.empty and result.summary.empty and result.shadow_prices.empty


def test_unbounded_is_reported_in_words():
    model = pyo.ConcreteModel()
    model.x = pyo.Var(domain=pyo.NonNegativeReals)
    model.total_objective = pyo.Objective(expr=-model.x)
    model.c = pyo.Constraint(expr=model.x >= 1)
    run = run_solver(model, make_solver())
    assert run.status == UNBOUNDED
    assert run.message == "The cost can fall without limit: some cost is negative and nothing bounds it."


@pytest.mark.parametrize("interface", ["persistent", "standard form"])
def test_duals_follow_the_minimisation_sign_convention(interface, monkeypatch):
    """Both solve paths give d(objective)/d(rhs): a binding <= row of a minimisation has a dual <= 0."""
    model = pyo.ConcreteModel()
    model.x = pyo.Var(domain=pyo.NonNegativeReals)
    model.y = pyo.Var(domain=pyo.NonNegativeReals)
    model.need = pyo.Constraint(expr=model.x + model.y >= 5)
    model.cap = pyo.Constraint(expr=model.x <= 3)
    model.total_objective = pyo.Objective(expr=model.x + 2 * model.y)
    monkeypatch.setattr(solve_module, "STANDARD_FORM_FROM", 0 if interface == "standard form" else 10**9)
    run = solve_once(model)
    assert run.handover_seconds > 0
    assert run.objective == pytest.approx(7)
    assert run.duals[model.need] == pytest.approx(2.0)   # one more unit needed costs 2 (bought as y)
    assert run.duals[model.cap] == pytest.approx(-1.0)   # one more unit of x allowed saves 1


def test_memory_is_trimmed_back_to_the_system_only_for_large_lps(monkeypatch):
    """glibc's malloc_trim walks the whole heap (0.1 s in a sampled solve of 28k columns) for a few MiB
    there; from TRIM_FROM columns (and when no size is given) it is called."""
    from optimizer.solving import solver

    calls = []

    class Libc:
        def malloc_trim(self, pad):
            calls.append(pad)

    monkeypatch.setattr(solver.ctypes, "CDLL", lambda name: Libc())
    solver.release_freed_memory(solver.TRIM_FROM - 1)
    assert calls == []
    solver.release_freed_memory(solver.TRIM_FROM)
    solver.release_freed_memory()
    assert calls == [0, 0]
