"""The command line as a user sees it: exact text and exit codes; the plan workbook read back."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import VAULT_UNDER_CAP, make
from optimizer.interfaces.cli import main

#: The stockpile-under-cap instance of test_hand_solved: expected cost 1460 worked out on paper.
VAULT = make(**VAULT_UNDER_CAP)


def write_csv(frames: dict, folder: Path) -> Path:
    folder.mkdir()
    for sheet, rows in frames.items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    return folder


@pytest.fixture
def vault(tmp_path) -> Path:
    return write_csv(VAULT, tmp_path / "vault")


def column_name(header: str) -> str:
    """A workbook header ('Quantity (kg)', 'Opening inventory (kg)') as the table's column name."""
    return WORKBOOK_NAMES.get(header, re.sub(r"\s*\(.*\)$", "", str(header)).strip().lower().replace(" ", "_"))


#: Headers whose words are not the column name's (export.HEADER_WORDS)
WORKBOOK_NAMES = {"Cap (%)": "max_share", "Relax to (%)": "relax_to", "Relax to": "relax_to"}


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_solve_prints_the_headline_and_writes_the_plan(capsys, vault, tmp_path):
    plan = tmp_path / "plan.xlsx"
    code, out, err = run(capsys, "solve", str(vault), "-o", str(plan))
    assert code == 0
    assert err == ""
    # Calm costs 600 + 600 + 200 in fees, ban 1500 + 200: CVaR 95% and the worst case are ban's 1,700.
    assert out.splitlines() == [
        f"Optimal plan for {vault}",
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━┓",
        "┃ figure                                        ┃  value ┃ unit            ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━┩",
        "│ Objective (the expected cost: no risk weight) │  1,460 │ USD             │",
        "│ Expected cost (probability-weighted)          │  1,460 │ USD             │",
        "│ CVaR 95%: mean cost of the worst 5%           │  1,700 │ USD             │",
        "│ Worst-scenario cost                           │  1,700 │ USD             │",
        "│ Expected China share (value-weighted)         │  48.0% │ share of value  │",
        "│ Lowest fill rate                              │ 100.0% │ share of demand │",
        "└───────────────────────────────────────────────┴────────┴─────────────────┘",
        f"Plan written to {plan}",
    ]
    book = {name: sheet.rename(columns=column_name) for name, sheet in
            pd.read_excel(plan, sheet_name=None, engine="openpyxl").items()}
    assert list(book)[:9] == ["Summary", "Plan", "Scenarios", "Flows", "Balance", "Fill rates", "Origin shares",
                              "Dependency", "Shadow prices"]
    assert list(book)[-1] == "Run info"
    contracts = book["Plan"].set_index(["decision", "supplier"])["quantity"]
    assert contracts[("contract", "China refiners")] == pytest.approx(60)
    assert contracts[("stockpile reservation", "Project Vault")] == pytest.approx(100)
    balance = book["Balance"]
    gap = (balance["opening_inventory"] + balance["delivered"] + balance["unmet_demand"]
           - balance["demand"] - balance["closing_inventory"])
    assert gap.abs().max() < 1e-7
    delivered = book["Flows"].groupby(["scenario", "period"])["quantity"].sum()
    assert balance.set_index(["scenario", "period"])["delivered"].to_dict() == pytest.approx(delivered.to_dict())


def test_json_output(capsys, vault, tmp_path):
    import json

    code, out, _ = run(capsys, "solve", str(vault), "-o", str(tmp_path / "p.xlsx"), "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["status"] == "optimal"
    assert payload["summary"]["expected_cost"] == pytest.approx(1460)


def test_bad_input_is_one_error_and_exit_2(capsys, tmp_path):
    frames = dict(VAULT, demand=[{"material": "Dy", "period": "t1", "quantity": "lots"}])
    folder = write_csv(frames, tmp_path / "bad")
    code, out, err = run(capsys, "solve", str(folder), "-o", str(tmp_path / "p.xlsx"))
    assert code == 2
    assert out == ""
    assert err == ("Error: The input has a problem: sheet 'demand', row 2, column 'quantity': 'lots' is not a "
                   "number; enter a number such as 120.\n")
    assert not (tmp_path / "p.xlsx").exists()


def test_missing_instance_is_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, "solve", str(tmp_path / "nowhere.xlsx"))
    assert code == 2
    assert err == f"Error: The input has a problem: '{tmp_path / 'nowhere.xlsx'}' does not exist.\n"


def test_infeasible_policy_is_exit_3(capsys, tmp_path):
    frames = dict(VAULT, origin_caps=[{"country": "China", "max_share": 0.6}],
                  service_levels=[{"min_fill_rate": 1}],
                  offers=[{"supplier": "China refiners", "material": "Dy", "price": 10}])
    folder = write_csv(frames, tmp_path / "tight")
    plan = tmp_path / "p.xlsx"
    code, out, err = run(capsys, "solve", str(folder), "-o", str(plan))
    assert code == 3
    # Only China offers Dy: 60 of 100 units in calm under the cap, nothing in ban whatever the cap.
    assert out.splitlines() == [
        "No plan meets every rule. Any one of these would give a plan:",
        "  1. lower the Dy fill-rate floor from 100.0% to 60.0% in 'calm' and to 0.0% in 'ban'",
        "Relaxing only the origin caps is not enough.",
        f"Details written to {plan}",
    ]
    assert err == ""
    book = pd.read_excel(plan, sheet_name=None, header=None, engine="openpyxl")
    assert book["Summary"].iloc[3, 1] == "infeasible"
    why = pd.read_excel(plan, sheet_name="Why no plan", engine="openpyxl").rename(columns=column_name)
    assert why[["rule", "scenario", "current", "relax_to"]].values.tolist() == [
        ["fill-rate floors", "calm", 1, 0.6], ["fill-rate floors", "ban", 1, 0]]
    assert "Plan" not in book


def test_json_without_a_plan_keeps_the_headline_keys_with_null(capsys, vault, tmp_path):
    """Without a plan --json printed "summary": {}; the keys are those of a plan, null where there is no value."""
    import json

    frames = dict(VAULT, origin_caps=[{"country": "China", "max_share": 0.6}],
                  service_levels=[{"min_fill_rate": 1}],
                  offers=[{"supplier": "China refiners", "material": "Dy", "price": 10}])
    folder = write_csv(frames, tmp_path / "tight")
    code, out, _ = run(capsys, "solve", str(folder), "-o", str(tmp_path / "p.xlsx"), "--json")
    assert code == 3
    assert "NaN" not in out
    summary = json.loads(out)["summary"]
    _, planned, _ = run(capsys, "solve", str(vault), "-o", str(tmp_path / "r.xlsx"), "--json")
    assert list(summary) == list(json.loads(planned)["summary"])
    assert {k: v for k, v in summary.items() if v is not None} == {"cvar_level": 0.95, "dependency_country": "China"}


def test_usage_error_is_exit_2(capsys):
    code, _, err = run(capsys, "solve", "--no-such-option")
    assert code == 2
    assert "No such option: --no-such-option" in err


@pytest.mark.parametrize("args, option", [
    (("solve", "--cvar-weight", "abc"), "'--cvar-weight'"), (("solve", "--sample", "0"), "'--sample'"),
    (("frontier", "--points", "1"), "'--points'"), (("stress", "--futures", "0"), "'--futures'"),
    (("solve", "--seed", "-1"), "'--seed'"), (("solve", "--no-such-option"), "--no-such-option"),
])
def test_an_option_the_parser_refuses_is_one_error_line(capsys, tmp_path, args, option):
    """The parser's errors came after "Usage: ..." and "Try '... --help'" lines."""
    code, out, err = run(capsys, *args, "-o", str(tmp_path / "out.xlsx"))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith("Error: ") and option in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("solve", "--sample", "5", "--seed", "-1"), ("sample", "--seed", "-1", "OUT"), ("stress", "--seed", "-1"),
    ("generate", "--seed", "-1", "OUT"),
])
def test_a_negative_seed_is_exit_2_naming_the_option(capsys, tmp_path, args):
    """A negative seed reached numpy and came back as an unexpected ValueError, exit 1."""
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    code, out, err = run(capsys, *args, *(["-o", str(tmp_path / "o.xlsx")] if args[0] in ("solve", "stress") else []))
    assert code == 2
    assert "'--seed'" in err.splitlines()[-1] and err.splitlines()[-1].startswith("Error: ")
    assert "unexpected" not in err
    assert list(tmp_path.iterdir()) == []


def test_probability_with_sample_is_refused_before_anything_is_solved(capsys, tmp_path):
    """The sampled scenarios replaced the scenarios sheet, so --probability was silently ignored."""
    plan = tmp_path / "plan.xlsx"
    code, out, err = run(capsys, "solve", "--sample", "5", "--probability", "calm=0.5", "-o", str(plan))
    assert (code, out) == (2, "")
    assert err == ("Error: The input has a problem: options --probability and --sample cannot be combined: the "
                   "sampled scenarios replace the scenarios sheet; leave one of them out.\n")
    assert not plan.exists()


def test_the_pdf_points_to_the_plan_workbook_for_what_it_leaves_out(capsys, tmp_path, monkeypatch):
    """The PDF said "and N more on the Plan sheet" (and "the Why sheet has every offer"): it has no such sheet."""
    import optimizer.reports.pdf as pdf_module

    said = []
    monkeypatch.setattr(pdf_module, "one_page_pdf", lambda path, title, lines, draw: said.extend(lines) or path)
    code, _, _ = run(capsys, "solve", "--pdf", str(tmp_path / "plan.pdf"), "-o", str(tmp_path / "plan.xlsx"))
    assert code == 0
    pointers = [line for line in said if "sheet" in line]
    assert pointers[0] == "and 5 more in the plan workbook's Plan sheet"
    assert pointers[1].startswith("China refining cap: ") and pointers[1].endswith(
        "leaves no plan (the plan workbook's Why sheet has both sides))")
    assert pointers[2:] == ["# What would change the plan (the plan workbook's Why sheet has every offer)"]
    assert all("the plan workbook's" in line for line in pointers)


def test_a_sampled_plan_says_so_in_its_title(capsys, tmp_path):
    """The title named the bundled instance alone, as if the plan were for its five scenarios."""
    code, out, _ = run(capsys, "solve", "--sample", "5", "--seed", "3", "--fill-rate", "0.7", "--no-why",
                       "-o", str(tmp_path / "plan.xlsx"))
    assert code == 0
    assert out.splitlines()[0] == "Optimal plan for the bundled instance rare_earths_2026, 5 sampled scenarios (seed 3)"


def test_a_case_plan_says_so_in_its_title(capsys, tmp_path):
    """The title named the instance alone, as if its base were solved."""
    code, out, _ = run(capsys, "solve", "--case", "risk neutral", "--no-why", "-o", str(tmp_path / "plan.xlsx"))
    assert code == 0
    assert out.splitlines()[0] == "Optimal plan for the bundled instance rare_earths_2026, case 'risk neutral'"


def test_template_round_trips_to_the_same_optimum(capsys, tmp_path):
    import optimizer as so
    from optimizer.inputs.catalog import bundled_instance

    book = tmp_path / "template.xlsx"
    code, out, _ = run(capsys, "template", str(book))
    assert (code, out) == (0, f"Template written to {book}\n")
    from_book = so.read_instance(book)
    from_csv = so.read_instance(bundled_instance())
    pd.testing.assert_frame_equal(from_book.offers, from_csv.offers)
    pd.testing.assert_frame_equal(from_book.demand, from_csv.demand)
    assert from_book.settings == from_csv.settings


def test_python_dash_m_runs_the_same_cli(vault, tmp_path):
    done = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(vault), "-o", str(tmp_path / "p.xlsx")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"Optimal plan for {vault}"  # no solver banner before it
    assert "Plan written to" in done.stdout


def _chart_count(path: Path) -> int:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return sum(1 for name in archive.namelist() if name.startswith("xl/charts/chart"))


def test_compare_writes_a_workbook_with_a_chart_and_a_figure(capsys, tmp_path):
    book, figure = tmp_path / "cmp.xlsx", tmp_path / "cmp.png"
    code, out, _ = run(capsys, "compare", "-o", str(book), "--png", str(figure))
    assert code == 0
    assert out.splitlines()[-2:] == [f"Comparison written to {book}", f"Figure written to {figure}"]
    summary = pd.read_excel(book, sheet_name="Comparison", engine="openpyxl").rename(columns=column_name)
    assert summary["case"].tolist() == ["base", "Lynas doubles capacity", "China cap 40%", "no Project Vault",
                                        "risk neutral"]
    assert summary.set_index("case").loc["China cap 40%", "status"] == "infeasible"
    assert _chart_count(book) == 1
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_on_two_workers_writes_the_same_comparison(capsys, tmp_path):
    here, there = tmp_path / "here.xlsx", tmp_path / "there.xlsx"
    assert run(capsys, "compare", "-o", str(here))[0] == 0
    assert run(capsys, "compare", "--workers", "2", "-o", str(there))[0] == 0
    for sheet in ("Comparison", "Moves"):
        pd.testing.assert_frame_equal(pd.read_excel(there, sheet_name=sheet, engine="openpyxl"),
                                      pd.read_excel(here, sheet_name=sheet, engine="openpyxl"))


def test_frontier_prints_the_tightest_cap_and_writes_curve_and_figure(capsys, tmp_path, vault):
    """The vault instance: China at 10, the vault at 15 (reserve 100), Lynas at 30: any cap is feasible."""
    book, figure = tmp_path / "curve.xlsx", tmp_path / "curve.png"
    code, out, _ = run(capsys, "frontier", str(vault), "--points", "3", "-o", str(book), "--png", str(figure))
    assert code == 0
    lines = out.splitlines()
    assert "Tightest feasible China cap: 0.00%; no plan below it." in lines
    assert lines[-2:] == [f"Curve written to {book}", f"Figure written to {figure}"]
    curve = pd.read_excel(book, sheet_name="Frontier", engine="openpyxl").rename(columns=column_name)
    # Without the cap all calm supply is Chinese (share 100%); the grid is 100%, 50%, 0%, plus the input's 60%.
    assert curve["max_share"].tolist() == pytest.approx([1.0, 0.6, 0.5, 0.0])
    assert curve["point"].tolist() == ["swept cap not binding (start)", "the input's cap", "evenly spaced", "evenly spaced"]
    # Each point below 100% moves calm units from China (10) to the vault (15): 0.8 x 5 per unit.
    assert curve["objective"].tolist() == pytest.approx([1300 + 0.8 * 5 * (100 - s) for s in (100, 60, 50, 0)])
    assert _chart_count(book) == 1


def test_solve_with_overrides_and_vss(capsys, vault, tmp_path):
    code, out, _ = run(capsys, "solve", str(vault), "-o", str(tmp_path / "p.xlsx"), "--cap", "China=0.5", "--vss",
                       "--json")
    import json

    payload = json.loads(out)
    assert code == 0
    # Calm: 50 from China, 50 from the vault; ban: 100 from the vault; reserve 100.
    assert payload["summary"]["expected_cost"] == pytest.approx(0.8 * (500 + 750) + 0.2 * 1500 + 200)
    # the average-scenario plan breaks a rule here, so the VSS comes with the EV plan's cost with it relaxed
    assert set(payload["value_of_information"]) == {"RP", "EV", "EEV", "WS", "VSS = EEV - RP", "EVPI = RP - WS",
                                                    "EEV, broken rules relaxed", "VSS, broken rules relaxed"}
    assert payload["value_of_information"]["EEV"] is None


def test_unknown_case_is_exit_2(capsys, vault, tmp_path):
    code, _, err = run(capsys, "solve", str(vault), "--case", "nope", "-o", str(tmp_path / "p.xlsx"))
    assert code == 2
    assert err == "Error: The input has a problem: sheet 'cases', column 'case': no case named 'nope'; the cases " \
                  "are none.\n"


@pytest.mark.parametrize("command", ["compare", "frontier", "stress"])
def test_the_progress_bar_in_a_terminal_starts_no_thread_so_solves_may_fork(command, capsys, vault, tmp_path,
                                                                            monkeypatch):
    """In a terminal the bar is drawn, step by step, by the command's own thread: a refresh thread would
    keep the solves from sharing work among forked processes (solving.executor.can_fork)."""
    import io
    import threading

    from rich.console import Console

    import optimizer as so
    from optimizer.interfaces import cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=100))
    threads = threading.active_count()
    seen = []
    real = getattr(so, command)

    def watched(*args, progress=None, **kwargs):
        seen.append(threading.active_count() - threads)
        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr(so, command, watched)
    options = {"compare": ["--workers", "0"], "frontier": ["--cap", "China", "--points", "3"],
               "stress": ["--own-scenarios", "--workers", "0"]}[command]
    code, _, _ = run(capsys, command, str(vault), "-o", str(tmp_path / "out.xlsx"), *options)
    assert code == 0 and seen == [0]
    assert screen.getvalue()  # the bar was drawn
