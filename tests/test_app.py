"""The web app's pages through Streamlit's AppTest: levers change the solve, errors show as the command line
words them, each download is the command line's file, cases and curves come from the library."""

from __future__ import annotations

import re
from pathlib import Path

import shutil
import time

import pandas as pd
import pytest

import optimizer as so
from appdriver import assert_same_workbook, downloaded, page, session, start, texts, wait
from optimizer.interfaces import jobs
from optimizer.interfaces.cli import main
from optimizer.interfaces.views.common import money


@pytest.fixture
def app(monkeypatch):
    at = start(monkeypatch)
    yield at
    session(at).close()


#: the China refining cap the bundled instance ships, read from its raw table
SHIPPED_CAP = float(pd.read_csv(Path(so.bundled_instance()) / "origin_caps.csv")["max_share"].iloc[0])


def cap_slider(at):
    return at.slider(key=next(s.key for s in at.slider if s.label.startswith("China refining cap")))


def cli(*args) -> None:
    assert main([str(a) for a in args]) in (0, 3)


def test_levers_change_the_solve_and_the_plan_is_the_command_lines(app, tmp_path):
    page(app, "Levers")
    cap_slider(app).set_value(89.5).run()
    assert f"- China refining cap: {SHIPPED_CAP:.1%} -> 89.5%" in texts(app.sidebar.text)
    assert "sourcing solve --cap China:refining=0.895" in texts(app.sidebar.code)
    app.sidebar.button(key="solve").click().run()
    assert app.sidebar.radio(key="page").value == "Results"
    wait(app)
    data = so.read_instance(so.bundled_instance())
    expected = so.solve(so.apply_case(data, "x", so.Overrides(caps=["China:refining=0.895"]).edits(data.tables)))
    base = so.solve(data)
    cards = {" ".join(metric.label.split(" ")[:2]): metric for metric in app.metric}
    assert cards["Expected cost"].value == money(expected.headline["expected_cost"], "USD")
    change = expected.headline["expected_cost"] - base.headline["expected_cost"]
    assert change > 0  # a tighter cap never costs less
    assert cards["Expected cost"].delta == "+" + money(change, "USD")
    cli("solve", "--cap", "China:refining=0.895", "-o", tmp_path / "cli.xlsx")
    assert_same_workbook(session(app).answers["solve"]["plan"], tmp_path / "cli.xlsx")
    why = so.why_these_suppliers(so.apply_case(data, "x", so.Overrides(caps=["China:refining=0.895"]).edits(
        data.tables)))
    assert why.lines and set(why.lines) <= set(texts(app.text))  # the sentences the Summary sheet also holds
    app.sidebar.button(key="reset").click().run()
    assert "none: the input as it is" in texts(app.sidebar.text)


def test_no_plan_shows_why_and_a_fix_button_applies_the_fix(app):
    """At 60% the bundled instance has no plan (its README: the tightest China refining cap is about 89.3%)."""
    page(app, "Levers")
    cap_slider(app).set_value(60.0).run()
    app.sidebar.button(key="solve").click().run()
    wait(app)
    data = so.read_instance(so.bundled_instance())
    expected = so.solve(so.apply_case(data, "x", so.Overrides(caps=["China:refining=0.6"]).edits(data.tables)))
    assert expected.status == so.INFEASIBLE
    assert expected.message in texts(app.code)
    fixes = [b for b in app.button if b.label.startswith("Apply fix")]
    assert len(fixes) == expected.explanation["fix"].nunique()
    assert "raise the China refining cap from 60\\.0% to " in fixes[0].label
    target = re.search(r"to (\d+)\\\.(\d)%", fixes[0].label)
    fixes[0].click().run()
    wait(app)
    assert session(app).answers["solve"]["result"].optimal
    assert f"- China refining cap: {SHIPPED_CAP:.1%} -> {target[1]}.{target[2]}%" in texts(app.sidebar.text)
    assert any(m.label.startswith("Expected cost") for m in app.metric)


def test_a_bad_input_shows_the_command_lines_error(monkeypatch, tmp_path, capsys):
    folder = tmp_path / "bad"
    shutil.copytree(so.bundled_instance(), folder)
    demand = folder / "demand.csv"
    lines = demand.read_text().splitlines()
    lines[1] = ",".join(lines[1].split(",")[:2] + ["-5"] + lines[1].split(",")[3:])
    demand.write_text("\n".join(lines) + "\n")
    assert main(["solve", str(folder), "-o", str(tmp_path / "plan.xlsx")]) == 2
    cli_error = capsys.readouterr().err.strip()
    at = start(monkeypatch, folder)
    try:
        assert cli_error.startswith("Error: The input has a problem: sheet 'demand', row 2, column 'quantity'")
        assert texts(at.code) == [cli_error]
        page(at, "Results")
        assert cli_error in texts(at.code)
    finally:
        session(at).close()


def test_the_curve_its_workbook_and_a_points_plan(app, tmp_path):
    page(app, "Cost of de-risking")
    app.selectbox(key="frontier-cap").set_value("China:refining")
    app.slider(key="frontier-points").set_value(5).run()
    app.button(key="frontier-start").click().run()
    wait(app)
    answer = session(app).answers["frontier"]
    cli("frontier", "--cap", "China:refining", "--points", "5", "-o", tmp_path / "cli.xlsx")
    assert_same_workbook(answer["workbook"], tmp_path / "cli.xlsx")
    tightest = answer["frontier"].tightest
    assert 0.885 < tightest < 0.90  # instance README: the tightest China-refining cap is about 89.3%
    assert f"Tightest feasible China refining cap: {tightest:.2%}; no plan below it." in texts(app.text)
    table = answer["frontier"].table
    tightest_row = float(table.loc[table["point"] == "tightest", "max_share"].iloc[0])
    # the points in the words of the workbook and the terminal
    assert app.selectbox(key="frontier-point").options[0] == \
        f"{float(table['max_share'].iloc[0]):.2%} (swept cap not binding (start))"
    assert f"{tightest_row:.2%} (tightest cap with a plan)" in app.selectbox(key="frontier-point").options
    app.selectbox(key="frontier-point").set_value(tightest_row).run()
    app.button(key="frontier-point-start").click().run()
    wait(app)
    point = session(app).answers["point"]
    result = point["comparison"].results[point["name"]]
    assert result.optimal
    assert result.headline["dependency_share"] < point["comparison"].results["base"].headline[
        "dependency_share"]
    assert any(m.label.startswith("Expected cost") for m in app.metric)


def test_compare_the_cases_and_saved_levers(app, tmp_path):
    page(app, "Compare")
    app.button(key="compare-start").click().run()
    wait(app)
    cli("compare", "-o", tmp_path / "cli.xlsx")
    assert_same_workbook(session(app).answers["compare"]["workbook"], tmp_path / "cli.xlsx")
    page(app, "Levers")
    cap_slider(app).set_value(95.0).run()
    app.text_input(key=f"save-name-{session(app).revision}").input("cap 95").run()
    app.button(key=f"save-{session(app).revision}").click().run()
    page(app, "Compare")
    for box in app.checkbox:
        box.set_value(box.label == "Saved levers: cap 95")
    app.run()
    app.button(key="compare-start").click().run()
    wait(app)
    summary = session(app).answers["compare"]["comparison"].summary
    assert list(summary["case"]) == ["base", "cap 95"]
    assert summary.set_index("case").loc["cap 95", "share China refining"] <= 0.95 + 1e-6


def test_a_solve_can_be_cancelled_and_the_session_folder_goes(app):
    state = session(app)
    job = state.start("slow", "Waiting", jobs.sleeper, 120)
    app.run()
    assert job.running
    cancel = [b for b in app.sidebar.button if b.label == "Cancel"]
    cancel[0].click().run()
    assert job.state == "cancelled" and not job.process.is_alive()
    folder = state.folder
    assert folder.is_dir()
    running = state.start("slow", "Waiting", jobs.sleeper, 120)
    state.close()
    assert not folder.exists()
    deadline = time.monotonic() + 10
    while running.process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running.process.is_alive()


def test_the_stress_page_shows_the_shortfall_and_serves_the_command_lines_workbook(app, tmp_path):
    page(app, "Stress test")
    app.number_input(key="stress-futures").set_value(60)
    app.number_input(key="stress-seed").set_value(4).run()
    app.button(key="stress-start").click().run()
    wait(app)
    assert not [e for e in app.error]
    cli("stress", "--futures", "60", "--seed", "4", "--workers", "0", "-o", tmp_path / "cli.xlsx")
    served = downloaded(app, "stress-download", tmp_path)
    assert_same_workbook(served, tmp_path / "cli.xlsx")
    # the shortfall card against the command line's Futures sheet: the share of the 60 futures with a shortfall
    futures = pd.read_excel(tmp_path / "cli.xlsx", sheet_name="Futures", engine="openpyxl")
    replanned = futures[futures.iloc[:, 1] == "re-planning"]
    assert len(replanned) == 60
    short = replanned[[c for c in futures.columns if "shortfall" in str(c).lower()][0]].astype(bool).mean()
    cards = {m.label: m.value for m in app.metric}
    assert cards["Probability of any shortfall (re-planning)"] == f"{short:.1%}"
    assert 0 < short < 1  # the bundled disruption model makes some futures short and not others
    assert len(app.get("image")) == 1  # the library's cost figure


def test_the_curves_start_above_100_percent_is_solved_as_the_curve_solved_it(app):
    """The curve of China refining starts where the plan without the cap reaches (above 100% of demand on
    the bundled instance: its README's curve starts at 102%); that point's plan is the one the curve drew."""
    page(app, "Cost of de-risking")
    app.selectbox(key="frontier-cap").set_value("China:refining")
    app.slider(key="frontier-points").set_value(3).run()
    app.button(key="frontier-start").click().run()
    wait(app)
    table = session(app).answers["frontier"]["frontier"].table
    start = float(table["max_share"].iloc[0])
    assert start > 1.0
    assert app.selectbox(key="frontier-point").value == start  # the page offers it first
    app.button(key="frontier-point-start").click().run()
    wait(app)
    point = session(app).answers["point"]
    result = point["comparison"].results[point["name"]]
    assert result.optimal
    # solved afresh from the input, it costs what the curve's warm sweep found at that share
    assert result.headline["objective"] == pytest.approx(float(table["objective"].iloc[0]), rel=1e-7)
    assert f"{start:.2%}" in point["name"]
