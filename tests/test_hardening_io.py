"""Files, paths and the reader under hostile or careless use: nothing lost, nothing crashes.

Each test states the exact message and exit code a user gets. Output paths are checked before anything is
read or solved, so most of these return at once.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import optimizer as so
from conftest import make, supplier
from optimizer.inputs.catalog import bundled_instance
from optimizer.interfaces.cli import main
from optimizer.reports.files import TEMPORARY_MARK, atomic_write

PREFIX = "Error: The input has a problem: "


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def write_csv(frames: dict, folder: Path) -> Path:
    folder.mkdir()
    for sheet, rows in frames.items():
        pd.DataFrame(rows).to_csv(folder / f"{sheet}.csv", index=False)
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if TEMPORARY_MARK in p.name or p.name.endswith(".tmp"))


@pytest.fixture
def bundled_copy(tmp_path, monkeypatch) -> Path:
    """The bundled instance copied, and the CLI pointed at the copy (so a failing test cannot damage it)."""
    copy = tmp_path / "bundled"
    shutil.copytree(bundled_instance(), copy)
    monkeypatch.setattr(so, "bundled_instance", lambda: copy)
    return copy


@pytest.fixture
def inputs(tmp_path, bundled_copy) -> dict[str, Path]:
    """A workbook and a CSV folder, each also reachable through a symlink and (files) a hard link."""
    book = so.write_tables(so.read_tables(bundled_copy), tmp_path / "book.xlsx")
    folder = tmp_path / "folder"
    shutil.copytree(bundled_copy, folder)
    (tmp_path / "book-link.xlsx").symlink_to(book)
    os.link(book, tmp_path / "book-hard.xlsx")
    (tmp_path / "folder-link").symlink_to(folder)
    os.link(folder / "offers.csv", tmp_path / "offers-hard.csv")
    return {"book": book, "folder": folder}


# --------------------------------------------------------------------------- 1: an output that is an input

#: command -> (its outputs as options, whether it reads an instance argument)
COMMANDS = {
    "solve": (["-o", "--csv", "--pdf"], True),
    "compare": (["-o", "--png", "--pdf"], True),
    "frontier": (["-o", "--png", "--pdf"], True),
    "stress": (["-o", "--png"], True),
    "sample": ([None], True),
    "template": ([None], False),
    "generate": ([None], False),
}
OPTION_NAMES = {"-o": "-o/--output", "--csv": "--csv", "--png": "--png", "--pdf": "--pdf", None: "OUTPUT"}
POSITIONAL_NAMES = {"sample": "OUT"}  # the metavar of a command's positional output, where not OUTPUT
CASES = [(command, option) for command, (options, _) in COMMANDS.items() for option in options]


def _targets(tmp_path: Path, inputs: dict[str, Path], bundled: Path) -> list[tuple[Path, Path, Path, str]]:
    """(instance argument, output path, the input it is, how): by name, by symlink, by hard link."""
    book, folder = inputs["book"], inputs["folder"]
    return [
        (book, book, book, ""),
        (book, tmp_path / "book-link.xlsx", book, " (the same file under another name)"),
        (book, tmp_path / "book-hard.xlsx", book, " (the same file under another name)"),
        (folder, folder / "offers.csv", folder / "offers.csv", ""),
        (folder, tmp_path / "offers-hard.csv", folder / "offers.csv", " (the same file under another name)"),
        (folder, folder, folder, ""),
        (folder, tmp_path / "folder-link", folder, " (the same file under another name)"),
        (None, bundled / "offers.csv", bundled / "offers.csv", ""),
        (None, bundled, bundled, ""),
    ]


@pytest.mark.parametrize("command, option", CASES)
def test_no_command_writes_over_any_of_its_inputs(capsys, tmp_path, inputs, bundled_copy, command, option):
    _, reads_instance = COMMANDS[command]
    before = {p: p.read_bytes() for p in [inputs["book"], *inputs["folder"].iterdir(), *bundled_copy.iterdir()]}
    for instance, output, source, how in _targets(tmp_path, inputs, bundled_copy):
        if instance is not None and not reads_instance:
            continue
        args = [command] + ([instance] if instance is not None else [])
        args += [option, output] if option else [output]
        code, out, err = run(capsys, *args)
        assert (code, out) == (2, ""), args
        name = OPTION_NAMES[option] if option else POSITIONAL_NAMES.get(command, "OUTPUT")
        assert err == (f"Error: {name} '{output}': it is the input '{source}'{how}; write to "
                       "another path so that the input is kept.\n"), args
    assert {p: p.read_bytes() for p in before} == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("option", ["-o", "--png"])
def test_stress_never_writes_over_a_plan_it_reads(capsys, tmp_path, inputs, option):
    """A plan given with --plan is an input too: by name, symlink or hard link, it is never replaced."""
    plan = tmp_path / "plan.xlsx"
    plan.write_bytes(b"a plan written earlier")  # refused before any plan is read, so its content is moot
    (tmp_path / "plan-link.xlsx").symlink_to(plan)
    os.link(plan, tmp_path / "plan-hard.png")
    other = tmp_path / "other.xlsx"
    other.write_bytes(b"a second plan")
    targets = [(plan, ""), (tmp_path / "plan-link.xlsx", " (the same file under another name)"),
               (tmp_path / "plan-hard.png", " (the same file under another name)")]
    for output, how in targets:
        args = ["stress", inputs["book"], "--plan", other, "--plan", plan, option, output, "--futures", "1"]
        code, out, err = run(capsys, *args)
        assert (code, out) == (2, ""), args
        assert err == (f"Error: {OPTION_NAMES[option]} '{output}': it is the input '{plan}'{how}; write to "
                       "another path so that the input is kept.\n"), args
    assert plan.read_bytes() == b"a plan written earlier" and other.read_bytes() == b"a second plan"
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- 2, 16: outputs that cannot be written

@pytest.fixture
def odd_paths(tmp_path) -> dict[str, Path]:
    paths = {"file": tmp_path / "existing.txt", "folder": tmp_path / "folder.xlsx", "fifo": tmp_path / "pipe.xlsx",
             "fifo_png": tmp_path / "pipe.png"}
    paths["file"].write_text("keep me")
    paths["folder"].mkdir()
    os.mkfifo(paths["fifo"])
    os.mkfifo(paths["fifo_png"])
    (tmp_path / "device.xlsx").symlink_to("/dev/full")
    (tmp_path / "loop.xlsx").symlink_to(tmp_path / "loop.xlsx")
    return paths


def test_outputs_that_are_not_regular_files_are_refused_before_solving(capsys, tmp_path, odd_paths):
    expected = {
        ("solve", "-o", "pipe.xlsx"): "-o/--output '{p}': it is a FIFO (named pipe), not a regular file; give a file "
                                      "name.",
        ("solve", "-o", "device.xlsx"): "-o/--output '{p}': it is a device, not a regular file; give a file name.",
        ("solve", "-o", "/dev/full"): "-o/--output '/dev/full': it is a device, not a regular file; give a file "
                                      "name.",
        ("solve", "-o", "folder.xlsx"): "-o/--output '{p}': it is a folder, not a regular file; give a file name.",
        ("solve", "-o", "loop.xlsx"): "-o/--output '{p}': it is a symbolic link that cannot be followed (Too many "
                                      "levels of symbolic links).",
        ("solve", "-o", "existing.txt/plan.xlsx"): "-o/--output '{p}': cannot write there: '{tmp}/existing.txt' "
                                                   "is a file, not a folder.",
        ("solve", "--csv", "existing.txt"): "--csv '{p}': it exists and is not a folder; give a folder for the "
                                            "CSV files.",
        ("solve", "-o", "plan.xls"): "-o/--output '{p}': a workbook's name must end in .xlsx; add the extension.",
        ("solve", "-o", "plan"): "-o/--output '{p}': a workbook's name must end in .xlsx; add the extension.",
        ("compare", "--png", "pipe.png"): "--png '{p}': it is a FIFO (named pipe), not a regular file; give a file "
                                          "name.",
        ("frontier", "--png", "curve.xlsx"): "--png '{p}': a figure's name must end in one of .png, .pdf, .svg, "
                                             ".svgz, .eps, .ps, .jpg, .jpeg, .tif, .tiff, .webp (the extension "
                                             "chooses the format); add one.",
        ("frontier", "-o", "folder.xlsx"): "-o/--output '{p}': it is a folder, not a regular file; give a file "
                                           "name.",
        ("template", None, "pipe.xlsx"): "OUTPUT '{p}': it is a FIFO (named pipe), not a regular file; give a file "
                                         "name.",
        ("generate", None, "existing.txt"): "OUTPUT '{p}': it exists and is not a folder; give a folder for the "
                                            "CSV files.",
    }
    for (command, option, name), message in expected.items():
        path = Path(name) if name.startswith("/") else tmp_path / name
        started = time.perf_counter()
        code, out, err = run(capsys, command, *([option] if option else []), path)
        assert time.perf_counter() - started < 1.0  # checked before anything is read or solved
        assert (code, out) == (2, ""), name
        assert err == "Error: " + message.format(p=path, tmp=tmp_path) + "\n", name
    assert odd_paths["file"].read_text() == "keep me"
    assert odd_paths["fifo"].is_fifo() and odd_paths["folder"].is_dir() and not any(odd_paths["folder"].iterdir())
    assert Path("/dev/full").is_char_device()
    assert leftovers(tmp_path) == []


def test_every_bad_output_is_listed_at_once(capsys, tmp_path, odd_paths):
    code, _, err = run(capsys, "solve", "-o", tmp_path / "folder.xlsx", "--csv", tmp_path / "existing.txt")
    assert code == 2
    assert err == ("Error: cannot write the outputs:\n"
                   f"  - -o/--output '{tmp_path / 'folder.xlsx'}': it is a folder, not a regular file; give a file "
                   "name.\n"
                   f"  - --csv '{tmp_path / 'existing.txt'}': it exists and is not a folder; give a folder for the "
                   "CSV files.\n")


def test_a_symlinked_output_replaces_its_target_and_stays_a_link(capsys, tmp_path):
    """The documented choice: a symlink is followed, its target replaced atomically in the target's folder."""
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    target = elsewhere / "plan.xlsx"
    target.write_bytes(b"an earlier plan")
    link = tmp_path / "plan.xlsx"
    link.symlink_to(target)
    frames = make(suppliers=[supplier("S", "spot", "Australia")], offers=[{"supplier": "S", "material": "Dy",
                                                                          "price": 40}])
    code, out, _ = run(capsys, "solve", write_csv(frames, tmp_path / "spot"), "-o", link)
    assert code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert zipfile.is_zipfile(target)
    assert leftovers(tmp_path) == []


def test_a_figure_is_written_in_the_format_its_extension_names(capsys, tmp_path):
    frames = make(suppliers=[supplier("C", "contract", "China"), supplier("L", "contract", "Malaysia")],
                  offers=[{"supplier": "C", "material": "Dy", "price": 10}, {"supplier": "L", "material": "Dy",
                                                                              "price": 30}])
    figure = tmp_path / "curve.svg"
    code, out, _ = run(capsys, "frontier", write_csv(frames, tmp_path / "two"), "--points", "2", "-o",
                       tmp_path / "curve.xlsx", "--png", figure)
    assert code == 0
    assert out.splitlines()[-1] == f"Figure written to {figure}"
    assert figure.read_text().lstrip().startswith("<?xml")


# --------------------------------------------------------------------------- 3: the template keeps an edited workbook

def test_template_refuses_an_existing_file_unless_forced(capsys, tmp_path):
    book = tmp_path / "my_sourcing.xlsx"
    book.write_bytes(b"the user's edited workbook")
    code, out, err = run(capsys, "template", book)
    assert (code, out) == (2, "")
    assert err == f"Error: OUTPUT '{book}': the file exists; add --force to replace it.\n"
    assert book.read_bytes() == b"the user's edited workbook"
    code, out, _ = run(capsys, "template", book, "--force")
    assert (code, out) == (0, f"Template written to {book}\n")
    assert zipfile.is_zipfile(book)


def test_plans_may_replace_the_tools_own_earlier_outputs(capsys, tmp_path):
    frames = make(suppliers=[supplier("S", "spot", "Australia")], offers=[{"supplier": "S", "material": "Dy",
                                                                          "price": 40}])
    folder = write_csv(frames, tmp_path / "spot")
    plan = tmp_path / "plan.xlsx"
    plan.write_bytes(b"an earlier plan")
    assert run(capsys, "solve", folder, "-o", plan)[0] == 0
    assert zipfile.is_zipfile(plan)


# --------------------------------------------------------------------------- 4: every valid shape of plan

SPOT = supplier("Spot", "spot", "Australia")
CONTRACT = supplier("Lynas", "contract", "Malaysia")
VAULT = supplier("Vault", "stockpile", "United States")

#: name -> (frames, expected objective worked by hand). One material Dy, demand 100 in t1, penalty 1000.
SHAPES = {
    # 100 bought on the spot market at 40.
    "no contracts and no stockpile": (make(suppliers=[SPOT], offers=[{"supplier": "Spot", "material": "Dy",
                                                                      "price": 40}]), 4000),
    # 100 under contract at 10.
    "no spot and no stockpile": (make(suppliers=[CONTRACT], offers=[{"supplier": "Lynas", "material": "Dy",
                                                                     "price": 10}]), 1000),
    # 100 reserved (fee 2) and drawn (price 15): 1700.
    "a stockpile alone": (make(suppliers=[VAULT], offers=[{"supplier": "Vault", "material": "Dy", "price": 15,
                                                           "reserve_limit": 100, "reservation_fee": 2}]), 1700),
    # Nothing to buy: demand 0.
    "nothing bought at all": (make(demand=[{"material": "Dy", "period": "t1", "quantity": 0}], suppliers=[SPOT],
                                   offers=[{"supplier": "Spot", "material": "Dy", "price": 40}]), 0),
    # No offer at all: all 100 unmet at 1000.
    "no offers": (make(suppliers=[SPOT], offers=pd.DataFrame(columns=["supplier", "material", "price"])), 100_000),
    # Tb has no demand: only Dy is bought, 100 x 40.
    "zero demand for a material": (make(
        materials=[{"material": "Dy", "shortage_penalty": 1000}, {"material": "Tb", "shortage_penalty": 1000}],
        demand=[{"material": "Dy", "period": "t1", "quantity": 100}, {"material": "Tb", "period": "t1",
                                                                       "quantity": 0}],
        suppliers=[SPOT], offers=[{"supplier": "Spot", "material": "Dy", "price": 40},
                                  {"supplier": "Spot", "material": "Tb", "price": 50}]), 4000),
    # Two periods (demand 100 each), 'calm' and 'cut' (p 0.5 each; the contract delivers half in 'cut'). Contracts
    # of X in all (inventory carries, holding 0) are paid on delivery at 10, spot at 40 covers the rest:
    # 0.5 x 10X + 0.5 x (5X + 40 (200 - X/2)) = 4000 - 2.5X for X <= 400, so X = 400 and the objective is 3000.
    "two periods and two scenarios": (make(
        periods=[{"period": "t1"}, {"period": "t2"}],
        demand=[{"material": "Dy", "period": "t1", "quantity": 100}, {"material": "Dy", "period": "t2",
                                                                       "quantity": 100}],
        suppliers=[CONTRACT, SPOT], offers=[{"supplier": "Lynas", "material": "Dy", "price": 10},
                                            {"supplier": "Spot", "material": "Dy", "price": 40}],
        scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
        disruptions=[{"scenario": "cut", "supplier": "Lynas", "availability": 0.5}]), 3000),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_valid_shape_of_plan_solves_prints_and_exports(capsys, tmp_path, shape):
    frames, objective = SHAPES[shape]
    folder = write_csv(frames, tmp_path / "instance")
    plan, tables = tmp_path / "plan.xlsx", tmp_path / "tables"
    code, out, err = run(capsys, "solve", folder, "-o", plan, "--csv", tables)
    assert code == 0, err
    assert out.splitlines()[-2:] == [f"Plan written to {plan}", f"Tables written to {tables}"]
    summary = pd.read_excel(plan, sheet_name="Summary", header=None, engine="openpyxl")
    assert summary.iloc[3, 1] == "optimal"
    assert float(pd.read_csv(tables / "summary.csv").set_index("metric").loc["objective", "value"]) == \
        pytest.approx(objective)
    code, out, _ = run(capsys, "solve", folder, "-o", plan, "--json", "--vss")
    assert code == 0
    assert json.loads(out)["summary"]["objective"] == pytest.approx(objective)


# --------------------------------------------------------------------------- 21: JSON and --version

def test_json_never_holds_nan(capsys, tmp_path):
    """On the bundled instance the plan for the average scenario has no feasible recourse in some scenario, so
    EEV and VSS have no value: null, never NaN (which Python's json prints but is not JSON)."""
    code, out, _ = run(capsys, "solve", "-o", tmp_path / "plan.xlsx", "--json", "--vss")
    assert code == 0
    assert "NaN" not in out and "Infinity" not in out
    information = json.loads(out)["value_of_information"]
    assert information["EEV"] is None and information["VSS = EEV - RP"] is None  # the bundled EEV is infeasible
    assert isinstance(information["RP"], float)


def test_version(capsys):
    from importlib.metadata import version

    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, f"sourcing {version('rare-earth-sourcing')}\n")


# --------------------------------------------------------------------------- 22, 28: atomic writes

def test_a_writer_that_fails_half_way_leaves_the_earlier_file_and_no_temporary(tmp_path):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"the earlier plan")

    def half_then_fail(temporary: Path) -> None:
        with temporary.open("wb") as handle:
            handle.write(b"PK\x03\x04 half a workbook")
            handle.flush()
            assert temporary.stat().st_size > 0  # bytes really were written before the failure
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"the earlier plan"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_temporary_files_say_what_they_are(tmp_path):
    seen = []
    atomic_write(tmp_path / "plan.xlsx", lambda temporary: (seen.append(temporary.name), temporary.write_bytes(b"x")))
    assert seen[0].startswith(".plan.xlsx" + TEMPORARY_MARK) and seen[0].endswith(".tmp")
    assert TEMPORARY_MARK == ".sourcing-unfinished-"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_killed_write_leaves_no_temporary_and_the_earlier_file(tmp_path, signum):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"the earlier plan")
    script = (
        "import sys, time; from pathlib import Path; from optimizer.reports.files import atomic_write\n"
        "def slow(temporary):\n"
        "    temporary.write_bytes(b'partial')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "atomic_write(Path(sys.argv[1]), slow)\n")
    process = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    assert process.stdout.readline() == "writing\n"
    assert len(leftovers(tmp_path)) == 1
    process.send_signal(signum)
    process.wait(timeout=30)
    assert process.returncode != 0
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"the earlier plan"


def test_a_plan_write_that_fails_half_way_through_the_command_line_keeps_everything(capsys, tmp_path, inputs,
                                                                                     monkeypatch):
    """The workbook writer puts bytes on disk and then fails (a full disk): the earlier plan, the input and the
    folder are as they were, and nothing after the failed output is written."""
    import errno

    import xlsxwriter

    def half_then_fail(self):
        with open(self.filename, "wb") as handle:
            handle.write(b"PK\x03\x04 half a workbook")
        assert os.path.getsize(self.filename) > 0  # bytes really were written before the failure
        raise OSError(errno.ENOSPC, "No space left on device")

    plan = tmp_path / "plan.xlsx"
    plan.write_bytes(b"the earlier plan")
    book_before = inputs["book"].read_bytes()
    listing_before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(xlsxwriter.Workbook, "close", half_then_fail)
    code, out, err = run(capsys, "solve", inputs["book"], "-o", plan, "--csv", tmp_path / "tables")
    assert (code, err) == (1, "Error: No space left on device\n")
    assert "Plan written" not in out
    assert plan.read_bytes() == b"the earlier plan"
    assert inputs["book"].read_bytes() == book_before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing_before  # no temporary, no CSV folder
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- 10: a cap on a country nobody has

def _typo_in(folder: Path, sheet: str, old: str, new: str) -> Path:
    path = folder / f"{sheet}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


SUPPLIER_COUNTRIES = "'Australia', 'China', 'Malaysia', 'United States', 'Various (often Chinese)'"


@pytest.mark.parametrize("command", ["solve", "compare", "frontier"])
def test_a_cap_on_a_country_nobody_has_is_an_input_error_everywhere(capsys, tmp_path, bundled_copy, command):
    """The same message from every command: the cap is never dropped with a warning."""
    folder = _typo_in(bundled_copy, "origin_caps", "\nChina,refining", "\nChna,refining")
    output = tmp_path / "out.xlsx"
    code, out, err = run(capsys, command, folder, "-o", output)
    assert (code, out.strip()) == (2, "")
    assert err == (PREFIX + "sheet 'origin_caps', row 2, column 'country': no supplier has country 'Chna', so a "
                   "cap on it would have no effect (did you mean 'China'?). Use a country as the suppliers sheet "
                   "writes it.\n")
    assert not output.exists()


@pytest.mark.parametrize("command", ["solve", "compare"])
@pytest.mark.parametrize("value, reason", [
    ("Mars=0.3", f"no supplier has country 'Mars', so a cap on it would have no effect; the suppliers' countries "
                 f"are {SUPPLIER_COUNTRIES}. Use a country as the suppliers sheet writes it."),
    ("Chna=0.3", "no supplier has country 'Chna', so a cap on it would have no effect (did you mean 'China'?). Use a "
                 "country as the suppliers sheet writes it."),
])
def test_a_cap_override_on_a_country_nobody_has_names_the_option(capsys, tmp_path, command, value, reason):
    output = tmp_path / "out.xlsx"
    code, out, err = run(capsys, command, "-o", output, "--cap", value)
    assert (code, out.strip()) == (2, "")
    assert err == PREFIX + f"option --cap {value}: {reason}\n"
    assert not output.exists()


def test_a_case_that_caps_a_country_nobody_has_is_an_error_of_the_cases_sheet(capsys, tmp_path, bundled_copy):
    with (bundled_copy / "cases.csv").open("a", encoding="utf-8") as handle:
        handle.write("typo cap,origin_caps,country=China,country,set,Chna,a typo\n")
    row = len((bundled_copy / "cases.csv").read_text(encoding="utf-8").strip().splitlines())
    expected = (PREFIX + f"sheet 'cases', row {row}, column 'value': case 'typo cap' sets sheet 'origin_caps', row 2, "
                "column 'country': no supplier has country 'Chna', so a cap on it would have no effect (did you mean "
                "'China'?). Use a country as the suppliers sheet writes it.\n")
    for args in (["compare", bundled_copy], ["solve", bundled_copy, "--case", "typo cap"]):
        code, out, err = run(capsys, *args, "-o", tmp_path / "out.xlsx")
        assert (code, out.strip(), err) == (2, "", expected), args
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("value, reason", [
    ("Mars", "no supplier has country 'Mars', so there is no 'Mars' cap to sweep."),
    ("Chna", "no supplier has country 'Chna', so there is no 'Chna' cap to sweep (did you mean 'China'?)."),
    ("China:refinin", "unknown stage 'refinin'; use one of mining, refining, manufacturing."),
    ("China=0.3", "give the cap to sweep as a country or country:stage, without a share (for example China or "
                  "China:refining)."),
    (":refining", "give the cap to sweep as a country or country:stage, without a share (for example China or "
                  "China:refining)."),
    ("", "give the cap to sweep as a country or country:stage, without a share (for example China or "
         "China:refining)."),
])
def test_frontier_cap_errors_name_the_option(capsys, tmp_path, value, reason):
    output = tmp_path / "curve.xlsx"
    code, out, err = run(capsys, "frontier", "--cap", value, "--points", "2", "-o", output)
    assert (code, out.strip()) == (2, "")
    assert err == PREFIX + f"option --cap {value}: {reason}\n"
    assert not output.exists()


# --------------------------------------------------------------------------- 5, 8: hostile workbooks

@pytest.fixture
def workbook(tmp_path) -> Path:
    return so.write_tables(so.read_tables(bundled_instance()), tmp_path / "good.xlsx")


def rewrite_part(source: Path, target: Path, sheet: str | None, change, part: str | None = None) -> Path:
    """A copy of a workbook with one part's XML changed: a sheet's worksheet part, or a part by name."""
    from optimizer.inputs.reader import _sheet_parts

    with zipfile.ZipFile(source) as archive:
        name = part or _sheet_parts(archive)[sheet]
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for item in archive.infolist():
                data = archive.read(item.filename)
                if item.filename == name:
                    data = change(data.decode("utf-8")) if callable(change) else change
                    data = data.encode("utf-8") if isinstance(data, str) else data
                out.writestr(item.filename, data)
    return target


def run_bounded(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a child process that may use at most 3 GiB of address space: a reader that allocated a
    sheet's whole extent would die there instead of taking the machine down."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    return subprocess.run([sys.executable, "-m", "optimizer", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, cwd=Path(__file__).parents[1])


@functools.cache
def bundled_objective() -> float:
    return so.solve(so.read_instance(bundled_instance())).objective


def add_cells(xml: str, cells: str) -> str:
    return xml.replace("</sheetData>", cells + "</sheetData>", 1)


def test_a_far_away_cell_is_refused_before_the_sheet_is_loaded(tmp_path, workbook):
    far = rewrite_part(workbook, tmp_path / "far.xlsx", "periods", lambda xml: add_cells(
        xml, '<row r="900000"><c r="XFD900000" t="inlineStr"><is><t>x</t></is></c></row>'))
    assert far.stat().st_size < 40_000
    started = time.perf_counter()
    done = run_bounded("solve", far, "-o", tmp_path / "plan.xlsx")
    assert time.perf_counter() - started < 30
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (PREFIX + "sheet 'periods': its cells reach column XFD (column 16,384), beyond the limit of "
                           "1,000 columns; delete anything far to the right of the table.\n")
    assert not (tmp_path / "plan.xlsx").exists()


def test_a_sheet_whose_values_reach_beyond_the_row_limit_is_refused(tmp_path, workbook):
    deep = rewrite_part(workbook, tmp_path / "deep.xlsx", "demand", lambda xml: add_cells(
        xml, '<row r="1048576"><c r="A1048576"><v>7</v></c></row>'))
    done = run_bounded("solve", deep, "-o", tmp_path / "plan.xlsx")
    assert done.returncode == 2
    assert done.stderr == (PREFIX + "sheet 'demand': its cells reach row 1,048,576, beyond the limit of 1,000,000 "
                           "rows below the header; split the instance or aggregate rows, and delete anything far "
                           "below the table.\n")


@pytest.mark.parametrize("stray", [
    '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t> </t></is></c></row>',   # one space, inline
    '<row r="1048576"><c r="XFD1048576" s="0"/></row>',                            # a formatted empty cell
    '<row r="2000"><c r="B2000" t="s"><v>{blank}</v></c></row>',                    # a shared-string space
])
def test_blank_cells_far_below_or_right_of_the_table_do_not_count(capsys, tmp_path, workbook, stray):
    """The plan is the bundled instance's: the stray cell changes nothing."""
    from optimizer.inputs.reader import _blank_shared_strings

    if "{blank}" in stray:
        def add_space(xml: str) -> str:
            count = xml.count("<si>")
            return xml.replace("</sst>", "<si><t xml:space=\"preserve\"> </t></si></sst>"), count
        with zipfile.ZipFile(workbook) as archive:
            part = next(n for n in archive.namelist() if n.endswith("sharedStrings.xml"))
            shared, index = add_space(archive.read(part).decode())
        spaced = rewrite_part(workbook, tmp_path / "spaced.xlsx", None, shared, part=part)
        with zipfile.ZipFile(spaced) as archive:
            assert index in _blank_shared_strings(archive)
        workbook, stray = spaced, stray.format(blank=index)
    book = rewrite_part(workbook, tmp_path / "stray.xlsx", "periods", lambda xml: add_cells(xml, stray))
    done = run_bounded("solve", book, "-o", tmp_path / "plan.xlsx", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["objective"] == pytest.approx(bundled_objective(), rel=1e-9)


def test_too_many_columns_in_a_csv_file_are_refused(capsys, tmp_path, bundled_copy):
    with (bundled_copy / "periods.csv").open("a", encoding="utf-8") as handle:
        handle.write("," * 1500 + "x\n")
    code, _, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    assert err == PREFIX + "sheet 'periods', row 14: this row has values beyond column 1,000, the limit; delete them.\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_dtd_anywhere_in_any_part_is_refused(capsys, tmp_path, workbook, encoding):
    """After a 100 KB comment (the old check read 4 KB), and in a UTF-16 part."""
    def with_dtd(xml: str) -> bytes:
        body = xml.split("?>", 1)[1]
        text = (f'<?xml version="1.0" encoding="{encoding.upper()}"?><!--' + "x" * 100_000 + '-->'
                + '<!DOCTYPE lolz [<!ENTITY lol "lol">]>' + body)
        return text.encode(encoding)

    bomb = rewrite_part(workbook, tmp_path / "late.xlsx", "offers", with_dtd)
    code, _, err = run(capsys, "solve", bomb, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    from optimizer.inputs.reader import _sheet_parts
    with zipfile.ZipFile(bomb) as archive:
        part = _sheet_parts(archive)["offers"]
    assert err == PREFIX + f"'late.xlsx' has a part ('{part}') that declares XML entities; it is refused.\n"


def test_the_dtd_scan_finds_a_marker_across_chunk_boundaries():
    import io

    from optimizer.inputs.reader import CHUNK_BYTES, _declares_dtd

    for offset in range(1, 10):
        data = b" " * (CHUNK_BYTES - offset) + b"<!ENTITY x 'y'>"
        assert _declares_dtd(io.BytesIO(data)), offset
    assert not _declares_dtd(io.BytesIO(b" " * (3 * CHUNK_BYTES) + b"<worksheet/>"))


# --------------------------------------------------------------------------- 14: cells that are not values

def test_cells_that_hold_no_value_say_what_they_hold(capsys, tmp_path, workbook):
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    sheet = book["demand"]
    assert [c.value for c in sheet[1]][:3] == ["material", "period", "quantity"]
    sheet["C3"] = "=1/0"            # openpyxl saves a formula without a result
    sheet["C4"] = "#DIV/0!"         # an error value
    sheet.merge_cells("A5:A6")      # A6 is blank under the merge
    book.save(workbook)
    code, _, err = run(capsys, "solve", workbook, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    assert err == (
        "Error: The input has 3 problems:\n"
        "  - sheet 'demand', row 3, column 'quantity': the cell holds a formula with no saved result (the program "
        "that saved the file did not calculate it); open the file in Excel or LibreOffice and save it again, or "
        "type the value.\n"
        "  - sheet 'demand', row 4, column 'quantity': the cell holds the error value #DIV/0!; correct the formula "
        "that gives it, or type the value.\n"
        "  - sheet 'demand', row 5, column 'material': cells A5:A6 are merged, so only A5 holds a value; unmerge "
        "them and fill in every cell.\n")


def test_a_formula_without_a_result_does_not_hide_the_other_problems(capsys, tmp_path, workbook):
    """Every problem at once: the formula cell, and a price typed with a letter O in another sheet, which the
    checks after reading find (they used to wait for the next run); the blank the formula leaves is not
    reported a second time as a missing value."""
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    book["demand"]["C3"] = "=1/0"
    book["offers"]["D2"] = "12O"
    book.save(workbook)
    code, _, err = run(capsys, "solve", workbook, "-o", tmp_path / "plan.xlsx")
    assert code == 2 and not (tmp_path / "plan.xlsx").exists()
    lines = err.splitlines()
    assert lines[0] == "Error: The input has 2 problems:"
    assert lines[1].startswith("  - sheet 'demand', row 3, column 'quantity': the cell holds a formula with no "
                               "saved result")
    assert lines[2].startswith("  - sheet 'offers', row 2, column 'price': '12O'")
    assert len(lines) == 3


def test_a_formula_with_a_saved_result_is_its_value(capsys, tmp_path, workbook):
    """Excel saves <f>1000+500</f><v>1500</v>: the value is read, the formula is no problem."""
    book = rewrite_part(workbook, tmp_path / "saved.xlsx", "demand",
                        lambda xml: xml.replace('<c r="C2"', '<c r="C2" ', 1))
    import re as regex

    def formula(xml: str) -> str:
        return regex.sub(r'<c r="C2"([^>]*)><v>([^<]*)</v></c>', r'<c r="C2"\1><f>0+\2</f><v>\2</v></c>', xml,
                         count=1)

    book = rewrite_part(workbook, tmp_path / "saved.xlsx", "demand", formula)
    assert so.read_instance(book).demand.equals(so.read_instance(workbook).demand)


# --------------------------------------------------------------------------- 7, 9, 17, 19, 20: CSV folders

INPUT_PATH_CASES = {
    "loop": (lambda path: path.symlink_to(path), "Too many levels of symbolic links."),
    "folder": (lambda path: path.mkdir(), "it is a folder, not a file."),
    "fifo": (os.mkfifo, "it is a FIFO (named pipe), not a file."),
}


@pytest.mark.parametrize("case", INPUT_PATH_CASES)
def test_an_input_file_that_is_not_a_file_is_refused_and_never_blocks(tmp_path, bundled_copy, case):
    make_it, why = INPUT_PATH_CASES[case]
    offers = bundled_copy / "offers.csv"
    offers.unlink()
    make_it(offers)
    done = run_bounded("solve", bundled_copy, "-o", tmp_path / "plan.xlsx", timeout=60)  # a FIFO would hang
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == PREFIX + f"cannot read 'offers.csv': {why}\n"


def test_an_instance_path_that_is_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "book.xlsx"
    os.mkfifo(fifo)
    done = run_bounded("solve", fifo, "-o", tmp_path / "plan.xlsx", timeout=60)
    assert done.returncode == 2
    assert done.stderr == PREFIX + (f"cannot read '{fifo}': it is a FIFO (named pipe), not a file; give an .xlsx "
                                    "workbook or a folder of CSV files.\n")


def test_two_files_for_one_sheet_are_refused(capsys, tmp_path, bundled_copy):
    shutil.copy(bundled_copy / "offers.csv", bundled_copy / "Offers.csv")
    code, _, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    assert err == PREFIX + ("sheet 'offers': files 'Offers.csv' and 'offers.csv' are both sheet 'offers'; delete or "
                            "rename one of them.\n")


def test_two_sheets_with_one_name_after_trimming_are_refused(capsys, tmp_path, workbook):
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    copy = book.copy_worksheet(book["offers"])
    copy.title = "offers "
    book.save(workbook)
    code, _, err = run(capsys, "solve", workbook, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    assert err == PREFIX + ("sheet 'offers': sheets 'offers' and 'offers ' are both sheet 'offers'; delete or rename "
                            "one of them.\n")


def test_an_upper_case_extension_is_found(capsys, tmp_path, bundled_copy):
    (bundled_copy / "offers.csv").rename(bundled_copy / "offers.CSV")
    assert so.read_instance(bundled_copy).offers.equals(so.read_instance(bundled_instance()).offers)


def test_a_semicolon_separated_file_is_read_with_a_note(capsys, tmp_path, bundled_copy):
    demand = pd.read_csv(bundled_copy / "demand.csv")
    demand.to_csv(bundled_copy / "demand.csv", sep=";", index=False)
    code, out, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx", "--json")
    assert code == 0
    assert err == ("Warning: 'demand.csv' is separated by semicolons, not commas; it was read with semicolons between "
                   "columns (numbers need a decimal point).\n")
    assert json.loads(out)["summary"]["objective"] == pytest.approx(bundled_objective(), rel=1e-9)


def test_a_title_row_above_the_header_is_one_line(capsys, tmp_path, bundled_copy):
    offers = bundled_copy / "offers.csv"
    offers.write_text("Offers received for 2026,,\n" + offers.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    assert err == PREFIX + ("sheet 'offers', row 1: the column names are in row 2, below a title; delete row 1 so "
                            "that the column names are the first row.\n")


def test_values_beyond_the_last_header_are_one_line(capsys, tmp_path, bundled_copy):
    periods = bundled_copy / "periods.csv"
    lines = periods.read_text(encoding="utf-8").splitlines()
    periods.write_text("\n".join([lines[0]] + [line + ",,stray" for line in lines[1:]]) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert code == 2
    assert err == PREFIX + (f"sheet 'periods', row 2: this row (and {len(lines) - 2} more rows below it) has values "
                            "beyond the last column header; add a header for them or delete them.\n")


def test_warnings_print_as_one_line_and_come_back_from_the_api(capsys, tmp_path, bundled_copy, recwarn):
    (bundled_copy / "notes.csv").write_text("note\nchecked by procurement\n", encoding="utf-8")
    code, _, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert code == 0
    assert err == "Warning: file 'notes.csv' is not a sheet of the schema and is ignored.\n"
    data = so.read_instance(bundled_copy)
    assert data.warnings == ["file 'notes.csv' is not a sheet of the schema and is ignored."]
    assert so.solve(data).warnings == data.warnings
    frames = make(suppliers=[SPOT], offers=[{"supplier": "Spot", "material": "Dy", "price": 40}], remarks=[{"a": 1}])
    assert so.from_frames(frames).warnings == ["sheet 'remarks' is not part of the schema and is ignored."]
    assert [str(w.message) for w in recwarn] == []


# --------------------------------------------------------------------------- 11, 12, 15, 18: compare, time limits,
# probabilities, floods

def _rewrite(path: Path, line: int, old: str, new: str) -> None:
    """Replace old by new on one line of a CSV file (line as the spreadsheet shows it, header = 1)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_compare_checks_every_case_before_solving_any(capsys, tmp_path, bundled_copy):
    _rewrite(bundled_copy / "cases.csv", 2, ",capacity,scale,2,", ",capacty,scale,2,")
    _rewrite(bundled_copy / "cases.csv", 3, ",set,0.4,", ",set,abc,")
    output = tmp_path / "comparison.xlsx"
    code, out, err = run(capsys, "compare", bundled_copy, "-o", output)
    assert (code, out.strip()) == (2, "")
    assert err == ("Error: The input has 2 problems:\n"
                   "  - sheet 'cases', row 2, column 'column': sheet 'offers' has no column 'capacty'; use one of "
                   "capacity, material, min_quantity, period, price, reservation_fee, reserve_limit, source, "
                   "supplier.\n"
                   "  - sheet 'cases', row 3, column 'value': case 'China cap 40%' sets sheet 'origin_caps', row 2, "
                   "column 'max_share': 'abc' is not a number; enter a share between 0 and 1 (for example 0.6 for "
                   "60%).\n")
    assert not output.exists()


@pytest.fixture
def no_time(bundled_copy) -> Path:
    """The bundled instance with a time limit no solve can meet."""
    with (bundled_copy / "settings.csv").open("a", encoding="utf-8") as handle:
        handle.write("time_limit,1e-9,no time at all\n")
    return bundled_copy


STOPPED = "HiGHS stopped at the time limit before proving a plan optimal; no plan is reported."


def test_a_frontier_that_hits_the_time_limit_says_so_with_exit_4(capsys, tmp_path, no_time):
    code, out, err = run(capsys, "frontier", no_time, "--points", "2", "-o", tmp_path / "curve.xlsx")
    assert (code, out) == (4, "")
    assert err == ("Error: the frontier's first solve, without the China cap, stopped without a proven optimum: "
                   f"{STOPPED}\n")
    assert "infeasible" not in err and "no plan exists" not in err


def test_a_compare_whose_every_solve_hits_the_time_limit_exits_4(capsys, tmp_path, no_time):
    code, out, _ = run(capsys, "compare", no_time, "-o", tmp_path / "comparison.xlsx")
    assert code == 4
    assert out.rstrip().endswith("No proven optimum for 'base', 'Lynas doubles capacity', 'China cap 40%', 'no "
                                 f"Project Vault', 'risk neutral': {STOPPED}")


def test_a_probability_of_one_keeps_only_that_scenario_and_says_so(capsys, tmp_path):
    code, out, err = run(capsys, "solve", "-o", tmp_path / "plan.xlsx", "--probability", "calm=1")
    assert code == 0
    assert err == ("Warning: option --probability calm=1: only scenario 'calm' is kept; 'heavy-REE controls', "
                   "'licence regime returns', 'Lynas Kuantan outage', 'MP magnet ramp delay' are dropped, with their "
                   "disruptions and service levels.\n")
    assert "row" not in err


@pytest.mark.parametrize("value", ["calm=0", "calm=1.5", "calm=-0.2"])
def test_a_probability_out_of_range_is_refused_in_the_options_words(capsys, tmp_path, value):
    code, out, err = run(capsys, "solve", "-o", tmp_path / "plan.xlsx", "--probability", value)
    assert (code, out) == (2, "")
    assert err == (PREFIX + f"option --probability {value}: a probability must be above 0 and at most 1 (1 keeps only "
                   "this scenario).\n")
    assert "sheet" not in err


def test_a_flood_of_problems_is_a_screenful(capsys, tmp_path, bundled_copy):
    """48 demand rows (4 materials x 12 quarters) all 'lots', and a 200-letter material name on the first: the
    name is cut to 60 characters, the quantities shown 5 times, then 'and 43 more like it'."""
    path = bundled_copy / "demand.csv"
    table = pd.read_csv(path, dtype=str)
    assert len(table) == 48
    table["quantity"] = "lots"
    table.loc[0, "material"] = "x" * 200
    table.to_csv(path, index=False)
    code, out, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert (code, out) == (2, "")
    lots = "is not a number; enter a number such as 120."
    assert err == ("Error: The input has 49 problems:\n"
                   f"  - sheet 'demand', row 2, column 'material': unknown material '{'x' * 59}…'; use a material "
                   "listed in sheet 'materials': 'Dy oxide', 'NdFeB magnets', 'NdPr oxide', 'Tb oxide'.\n"
                   + "".join(f"  - sheet 'demand', row {row}, column 'quantity': 'lots' {lots}\n" for row in range(2, 7))
                   + "    and 43 more like it\n")


def test_a_name_with_a_look_alike_letter_is_flagged(capsys, tmp_path, bundled_copy):
    _rewrite(bundled_copy / "offers.csv", 13, "Lynas,", "Lyn\u0430s,")  # a Cyrillic a
    code, out, err = run(capsys, "solve", bundled_copy, "-o", tmp_path / "plan.xlsx")
    assert (code, out) == (2, "")
    assert err == (PREFIX + "sheet 'offers', row 13, column 'supplier': unknown supplier 'Lyn\u0430s'; use a supplier "
                   "listed in sheet 'suppliers' (did you mean 'Lynas'? 'Lyn\u0430s' has a Cyrillic '\u0430' that "
                   "looks like a Latin 'a').\n")
