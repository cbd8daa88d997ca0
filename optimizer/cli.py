"""The `sourcing` command line: parse, call one library function, format.

Library errors become one `Error: ...` message and an exit code, never a traceback:
0 solved, 2 bad input or usage, 3 infeasible, 4 no proven optimum (time limit,
unbounded), 1 anything unexpected.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import InputError

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NOT_OPTIMAL = 0, 1, 2, 3, 4

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Rare-earth sourcing optimizer: least-cost plans under disruption scenarios.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

InstanceArg = Annotated[Optional[Path], typer.Argument(
    help="An .xlsx workbook or a folder of CSV files; the bundled instance when left out.",
    show_default=False)]


class Failure(Exception):
    """An expected failure: printed as one line with its exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _instance(path: Path | None):
    from .api import read_instance
    from .catalog import bundled_instance

    data = read_instance(path if path is not None else bundled_instance())
    for warning in data.warnings:
        err.print(f"Warning: {warning}")
    return data


def _name(instance: Path | None) -> str:
    return str(instance) if instance is not None else "the bundled instance rare_earths_2026"


def format_value(value: object, unit: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit.startswith("share"):
        return f"{value:.1%}"
    return f"{value:,.0f}"


def headline_table(summary, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for row in summary.itertuples(index=False):
        table.add_row(row.label, format_value(row.value, row.unit), row.unit)
    return table


@app.command()
def solve(
    instance: InstanceArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the plan workbook.")]
    = Path("plan.xlsx"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the headline figures as JSON.")] = False,
) -> None:
    """Solve an instance and write the plan workbook.

    Example: sourcing solve my_sourcing.xlsx -o plan.xlsx
    """
    from .export import write_plan
    from .solve import INFEASIBLE, OPTIMAL, solve as solve_data

    data = _instance(instance)
    result = solve_data(data)
    path = write_plan(result, output)
    if as_json:
        payload = {"status": result.status, "message": result.message, "plan": str(path),
                   "summary": {r.metric: r.value for r in result.summary.itertuples(index=False) if r.metric != "status"}}
        out.print_json(json.dumps(payload))
    elif result.optimal:
        out.print(headline_table(result.summary[result.summary["metric"] != "status"],
                                 f"Optimal plan for {_name(instance)}"))
        out.print(f"Plan written to {path}")
    if result.status == OPTIMAL:
        return
    if not as_json:
        out.print(f"No plan: {result.message}")
        out.print(f"Details written to {path}")
    raise typer.Exit(EXIT_INFEASIBLE if result.status == INFEASIBLE else EXIT_NOT_OPTIMAL)


@app.command()
def template(
    output: Annotated[Path, typer.Argument(help="The workbook to write.", show_default=False)],
) -> None:
    """Write the bundled instance as a workbook to fill in.

    Example: sourcing template my_sourcing.xlsx
    """
    from .catalog import bundled_instance
    from .export import write_tables
    from .reader import read_tables

    path = write_tables(read_tables(bundled_instance()), output)
    out.print(f"Template written to {path}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sourcing` script; returns the exit code."""
    try:
        code = app(args=argv, standalone_mode=False)
    except InputError as exc:
        err.print(f"Error: {exc}")
        return EXIT_INPUT
    except Failure as exc:
        err.print(f"Error: {exc}")
        return exc.code
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        return int(code or 0)
    except typer.Abort:
        err.print("Error: aborted.")
        return EXIT_UNEXPECTED
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click's usage errors (vendored by typer)
            exc.show()
            return exc.exit_code
        if isinstance(exc, OSError):
            err.print(f"Error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
            return EXIT_UNEXPECTED
        err.print(f"Error: unexpected {type(exc).__name__}: {exc}")
        return EXIT_UNEXPECTED
    return code if isinstance(code, int) else EXIT_OK


def run() -> None:
    sys.exit(main())
