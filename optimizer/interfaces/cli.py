"""The `sourcing` command line: parse, call one library function, format.

Library errors become one `Error: ...` message and an exit code, never a traceback:
0 solved, 2 bad input or usage, 3 infeasible, 4 no proven optimum (time limit,
unbounded), 1 anything unexpected.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

import optimizer as so
from optimizer import InputError, Problem

#: Summary rows the terminal leaves out: the status is said in the title, the others are in the labels.
NOT_PRINTED = ("status", "cvar_level", "dependency_country")

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NOT_OPTIMAL = 0, 1, 2, 3, 4

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Rare-earth sourcing optimizer: least-cost plans under disruption scenarios.")
# markup off: supplier names such as "[red]" are printed as typed, never interpreted.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

InstanceArg = Annotated[Optional[Path], typer.Argument(
    help="An .xlsx workbook or a folder of CSV files; the bundled instance when left out.",
    show_default=False)]


CapOpt = Annotated[Optional[list[str]], typer.Option(
    "--cap", help="Set (or add) an origin cap: China=0.4, China:refining=0.3, or *:refining=0.65 for every "
                  "country on its own. Repeatable.")]
FillOpt = Annotated[Optional[list[str]], typer.Option(
    "--fill-rate", help="Fill-rate floor for every row (0.97) or one material ('Dy oxide=0.98'). Repeatable.")]
WeightOpt = Annotated[Optional[float], typer.Option("--cvar-weight", help="CVaR weight lambda.")]
LevelOpt = Annotated[Optional[float], typer.Option("--cvar-level", help="CVaR level beta, e.g. 0.95.")]
CapacityOpt = Annotated[Optional[list[str]], typer.Option(
    "--scale-capacity",
    help="Scale a supplier's capacities: Lynas=2 doubles them, Lynas=50% halves them. Repeatable.")]
PriceOpt = Annotated[Optional[list[str]], typer.Option(
    "--scale-price", help="Scale a supplier's prices: Lynas=1.1. Repeatable.")]
DropOpt = Annotated[Optional[list[str]], typer.Option(
    "--drop-supplier", help="Leave a supplier out: 'Project Vault'. Repeatable.")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Random seed: the same seed gives the same draws on "
                                                    "every machine.")]
PdfOpt = Annotated[Optional[Path], typer.Option(
    "--pdf", help="Also write a one-page PDF: the summary and the main chart.")]
ProbabilityOpt = Annotated[Optional[list[str]], typer.Option(
    "--probability", help="Set a scenario's probability, the others rescaled: 'heavy-REE controls=0.5'.")]
MethodOpt = Annotated[str, typer.Option(
    "--method", help="monolithic (one HiGHS solve), decomposed (by material, in parallel) or auto (by size).")]
WorkersOpt = Annotated[Optional[int], typer.Option(
    "--workers", help="Worker processes of a decomposed solve (0: in this process; default: by size).")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", help="Address of a running Dask scheduler for a decomposed solve: tcp://host:8786.")]


def _check_method(method: str, workers: int | None) -> None:
    """The --method and --workers typed, checked before anything is read (exit 2 with the option's name)."""
    methods = ("auto", "monolithic", "decomposed")
    if method not in methods:
        raise InputError([Problem(None, None, None, f"option --method '{method}' is not a method; use one of "
                                  f"{', '.join(methods)}.")])
    if workers is not None and workers < 0:
        raise InputError([Problem(None, None, None, f"option --workers {workers}: use 0 or more workers.")])


def _check_paths(instance: Path | None, *outputs: so.Output, other_inputs: Sequence[Path] = ()) -> None:
    """Refuse bad output paths before anything is read or solved (an output may never be an input;
    the bundled instance counts as an input of every command; other_inputs: files a command reads besides
    its instance, such as stress's plans)."""
    inputs = [so.bundled_instance()] + ([instance] if instance is not None else []) + list(other_inputs)
    so.check_outputs([o for o in outputs if o.path is not None], inputs)


def _instance(path: Path | None, caps=None, fill_rate=None, cvar_weight=None, cvar_level=None,
              scale_capacity=None, scale_price=None, drop_supplier=None, probability=None):
    """Read and validate the instance, then apply the command line's one-off overrides."""
    data = so.read_instance(path if path is not None else so.bundled_instance())
    warnings = list(data.warnings)  # the reader's, which an edited copy of the data does not carry
    overrides = so.Overrides(caps, fill_rate, cvar_weight, cvar_level, scale_capacity, scale_price,
                          drop_supplier, probability)
    edits = overrides.edits(data.tables)
    if edits:
        data = so.apply_case(data, "command-line overrides", edits)
    for warning in dict.fromkeys(warnings + list(data.warnings)):
        err.print(f"Warning: {warning}")
    return data


def json_safe(value):
    """Numbers JSON can hold: NaN and infinities become null (Python's json would print NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def information_table(information) -> Table:
    table = Table(title="Value of the stochastic solution and of perfect information", title_justify="left")
    for column, justify in (("measure", "left"), ("value", "right"), ("status", "left"), ("meaning", "left")):
        table.add_column(column, justify=justify)
    for row in information.itertuples(index=False):
        table.add_row(row.measure, format_value(row.value, row.unit), row.status, row.meaning)
    return table


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
    vss: Annotated[bool, typer.Option("--vss", help="Also report VSS and EVPI (solves the EV, EEV and WS problems).")]
    = False,
    case: Annotated[Optional[str], typer.Option("--case", help="Solve one case of the cases sheet.")] = None,
    csv_folder: Annotated[Optional[Path], typer.Option("--csv", help="Also write every result table as CSV into "
                                                       "this folder.")] = None,
    pdf: PdfOpt = None,
    why: Annotated[bool, typer.Option("--why/--no-why", help="Explain the plan: price ranges and entry prices of "
                                      "the offers, the range and both sides of every shadow price (re-solves).")] = True,
    cap: CapOpt = None, fill_rate: FillOpt = None, cvar_weight: WeightOpt = None, cvar_level: LevelOpt = None,
    scale_capacity: CapacityOpt = None, scale_price: PriceOpt = None, drop_supplier: DropOpt = None,
    probability: ProbabilityOpt = None,
    sample: Annotated[Optional[int], typer.Option(
        "--sample", min=1, help="Solve N scenarios drawn from the disruption_model sheet instead of the "
                                "scenarios sheet.")] = None,
    seed: SeedOpt = 0,
    method: MethodOpt = "auto", workers: WorkersOpt = None, scheduler: SchedulerOpt = None,
) -> None:
    """Solve an instance and write the plan workbook.

    Example: sourcing solve my_sourcing.xlsx -o plan.xlsx --cap China=0.6 --vss
    Example: sourcing solve --sample 200 --seed 1 --fill-rate 0.7 -o sampled_plan.xlsx
    """
    _check_method(method, workers)
    if probability and sample is not None:  # the sampled scenarios replace the ones whose probability was set
        raise InputError([Problem(None, None, None, "options --probability and --sample cannot be combined: the "
                                  "sampled scenarios replace the scenarios sheet; leave one of them out.")])
    _check_paths(instance, so.Output(output, "workbook", "-o/--output"),
                 so.Output(csv_folder, "csv folder", "--csv"), so.Output(pdf, "pdf", "--pdf"))
    data = _instance(instance, cap, fill_rate, cvar_weight, cvar_level, scale_capacity, scale_price,
                     drop_supplier, probability)
    if case is not None:
        cases = so.case_edits(data)
        if case not in cases:
            names = ", ".join(f"'{c}'" for c in cases) or "none"
            raise InputError([Problem("cases", None, "case", f"no case named '{case}'; the cases are {names}.")])
        data = so.apply_case(data, case, cases[case])
    if sample is not None:
        shown = set(data.warnings)
        data = so.sample_instance(data, sample, seed)
        for warning in dict.fromkeys(w for w in data.warnings if w not in shown):
            err.print(f"Warning: {warning}")
    result = so.solve(data, method=method, workers=workers, scheduler=scheduler)
    information = so.value_of_information(data) if vss else None
    explained = so.why_these_suppliers(data, result.variables) if why and result.optimal else None
    path = so.write_plan(result, output, information, explained)
    if csv_folder is not None:
        so.write_csv_tables(result, csv_folder)
    if pdf is not None:
        so.write_plan_pdf(result, pdf, explained)
    if as_json:
        payload = {"status": result.status, "message": result.message, "plan": str(path),
                   "summary": {metric: value for metric, value in result.headline.items() if metric != "status"}}
        if information is not None:
            payload["value_of_information"] = {r.measure: r.value for r in information.itertuples(index=False)}
        out.print_json(json.dumps(json_safe(payload), allow_nan=False))
    elif result.optimal:
        drawn = f", case '{case}'" if case is not None else ""
        drawn += f", {sample} sampled scenarios (seed {seed})" if sample is not None else ""
        out.print(headline_table(result.summary[~result.summary["metric"].isin(NOT_PRINTED)],
                                 f"Optimal plan for {_name(instance)}{drawn}"))
        if information is not None:
            out.print(information_table(information))
        out.print(f"Plan written to {path}")
        if csv_folder is not None:
            out.print(f"Tables written to {csv_folder}")
        if pdf is not None:
            out.print(f"One-page PDF written to {pdf}")
    if result.status == so.OPTIMAL:
        return
    if not as_json:
        out.print(result.message)
        out.print(f"Details written to {path}")
    raise typer.Exit(EXIT_INFEASIBLE if result.status == so.INFEASIBLE else EXIT_NOT_OPTIMAL)


@app.command()
def sample(
    paths: Annotated[list[Path], typer.Argument(
        metavar="[INSTANCE] OUT", help="The instance (the bundled one when left out) and where to write the "
                                       "sampled instance: a folder of CSV files, or a .xlsx workbook.",
        show_default=False)],
    scenarios: Annotated[int, typer.Option("--scenarios", min=1, help="How many futures to draw.")] = 100,
    seed: SeedOpt = 0,
) -> None:
    """Write the instance with scenarios drawn from its disruption_model sheet (identical histories merged).

    Example: sourcing sample my_sourcing.xlsx --scenarios 200 --seed 1 sampled/
    """
    if len(paths) > 2:
        raise InputError([Problem(None, None, None, "give at most two paths: the instance and OUT.")])
    instance, output = (paths[0], paths[1]) if len(paths) == 2 else (None, paths[0])
    _check_paths(instance, so.Output(output, "instance", "OUT"))
    data = _instance(instance)
    tables, notes = so.sampled_tables(data, scenarios, seed)
    so.from_frames(tables)  # what is written must read back as a valid instance
    for note in notes:
        err.print(f"Warning: {note}")
    path = so.write_instance(tables, output)
    out.print(f"Instance written to {path}: {len(tables['scenarios'])} distinct scenarios from {scenarios} "
              f"futures (seed {seed})")


@app.command("stress")
def stress_command(
    instance: InstanceArg = None,
    plan: Annotated[Optional[list[Path]], typer.Option(
        "--plan", help="A plan workbook written by sourcing solve; repeat to compare plans on the same futures. "
                       "Left out: the instance is solved first.")] = None,
    futures: Annotated[int, typer.Option("--futures", min=1, help="How many futures to draw from the "
                                                                 "disruption_model sheet.")] = 1000,
    seed: SeedOpt = 0,
    own_scenarios: Annotated[bool, typer.Option("--own-scenarios", help="Play the instance's own scenarios with "
                                                                        "their probabilities instead.")] = False,
    lower_bound: Annotated[int, typer.Option("--lower-bound", min=0, help="Also solve M sampled-scenario "
                                             "problems for a statistical lower bound (0: no).")] = 0,
    lower_bound_scenarios: Annotated[int, typer.Option("--lower-bound-scenarios", min=1,
                                                       help="Scenarios in each lower-bound problem.")] = 50,
    workers: Annotated[Optional[int], typer.Option("--workers", min=0, help="Worker processes (0: in this "
                                                   "process; default one per core).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Address of a running Dask scheduler, "
                                                     "e.g. tcp://127.0.0.1:8786.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the stress-test workbook.")]
    = Path("stress.xlsx"),
    png: Annotated[Optional[Path], typer.Option("--png", help="Also draw the cost histogram as a PNG figure.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    method: MethodOpt = "auto",
) -> None:
    """Stress-test plans: contracts and reservations fixed, played through sampled futures they never saw.

    Example: sourcing stress --plan plan.xlsx --plan sampled_plan.xlsx --futures 10000 --seed 7 --png stress.png
    """
    _check_method(method, workers)
    outputs = [so.Output(output, "workbook", "-o/--output"), so.Output(png, "figure", "--png")]
    _check_paths(instance, *outputs, other_inputs=plan or ())
    for path in plan or ():
        if not path.is_file():
            raise InputError([Problem(None, None, None, f"option --plan: '{path}' is not a file.")])
    data = _instance(instance)
    plans = [so.read_plan(path, data) for path in plan or ()]
    try:
        result = _stress_with_bar(data, plans, futures, seed, own_scenarios, workers, scheduler, lower_bound,
                                  lower_bound_scenarios, method)
    except ConnectionError as error:
        raise InputError([Problem(None, None, None, f"option --scheduler {scheduler}: {error}")]) from None
    path = so.write_stress(result, output)
    figure = so.stress_figure(result, png) if png is not None else None
    if as_json:
        payload = {"futures": result.n_futures, "seed": result.seed, "own_scenarios": result.own_scenarios,
                   "plans": result.plans, "workbook": str(path),
                   "summary": result.summary.to_dict("records"), "materials": result.materials.to_dict("records"),
                   "rules": result.rules.to_dict("records"),
                   "lower_bound": None if result.lower_bound is None else result.lower_bound.to_dict("records"),
                   "differences": so.plan_differences(result).to_dict("records")}
        out.print_json(json.dumps(json_safe(payload), allow_nan=False))
        return
    out.print(stress_table(result))
    if len(result.plans) > 1:
        out.print(differences_table(result))
    if result.lower_bound is not None:
        out.print(lower_bound_table(result))
    out.print(f"Stress test written to {path}")
    if figure is not None:
        out.print(f"Figure written to {figure}")


def _stress_with_bar(data, plans, futures, seed, own_scenarios, workers, scheduler, lower_bound,
                     lower_bound_scenarios, method="auto"):
    """The stress test (and the lower bound) with a progress bar and its time left on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    with _bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("Playing futures", total=None)
        result = so.stress(data, plans, futures, seed, own_scenarios=own_scenarios, workers=workers,
                           scheduler=scheduler, method=method,
                           progress=lambda done, total: bar.update(task, completed=done, total=total, refresh=True))
        if lower_bound:
            bar.update(task, description="Solving sampled problems", completed=0, total=lower_bound, refresh=True)
            result.lower_bound = so.lower_bound(data, lower_bound, lower_bound_scenarios, seed, workers=workers,
                                                scheduler=scheduler, stress_result=result,
                                                progress=lambda done, total: bar.update(task, completed=done,
                                                                                        refresh=True))
    return result


def _bar(*columns):
    """A progress bar on stderr (none when stderr is not a terminal) redrawn at each step it is told of, by
    this thread: without a refresh thread of its own the process stays single-threaded, so its solves may
    share work among forked processes (solving.executor.can_fork)."""
    from rich.progress import Progress

    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal, auto_refresh=False)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _with_ci(row: dict, unit: str) -> str:
    """A value and its 95% interval as value +- half width (the intervals here are close to symmetric)."""
    text = compact(row["value"], unit)
    if _missing(row["ci_low"]):
        return text
    half = max(row["ci_high"] - row["value"], row["value"] - row["ci_low"])
    return f"{text} ±{compact(half, unit)}" if unit != "share" else f"{text} ±{half:.1%}"


STRESS_ROWS = (("cost_mean", "mean cost"), ("cost_median", "median"), ("cost_p90", "90th percentile"),
               ("cost_p99", "99th percentile"), ("cost_cvar", "CVaR"), ("objective", "objective"),
               ("probability_of_shortfall", "P(any shortfall)"), ("probability_rule_broken", "P(a rule broken)"))


def stress_table(result) -> Table:
    """Statistics down, plan and policy across (money in millions), intervals as +- half width."""
    currency = result.currency
    where = ("the instance's own scenarios (exact)" if result.own_scenarios
             else f"{result.n_futures:,} futures (seed {result.seed}), ± 95% interval")
    table = Table(title=f"Stress test over {where}; money in {currency}", title_justify="left")
    table.add_column("")
    summary, materials = result.summary, result.materials
    series = [(plan, policy) for plan in result.plans for policy in ("re-planning", "perfect foresight")]
    for plan, policy in series:
        table.add_column(f"{plan}\n{policy}", justify="right")
    cells = {}
    for plan, policy in series:
        part = summary[(summary["plan"] == plan) & (summary["policy"] == policy)]
        cells[(plan, policy)] = {r["statistic"].replace(f"cvar_{result.cvar_level:g}", "cvar"): r
                                 for r in part.to_dict("records")}
    for key, label in STRESS_ROWS:
        if key == "cost_cvar":
            label = f"CVaR {result.cvar_level:.0%}"
        table.add_row(label, *[_with_ci(cells[s][key], cells[s][key]["unit"]) if key in cells[s] else "-"
                               for s in series])
    for material in dict.fromkeys(materials["material"]):
        row = []
        for plan, policy in series:
            m = materials[(materials["plan"] == plan) & (materials["policy"] == policy)
                          & (materials["material"] == material)]
            row.append(f"{m['mean_fill_rate'].iloc[0]:.1%} / {m['fill_rate_worst_5pct'].iloc[0]:.1%}")
        table.add_row(f"fill {material} (mean / worst 5%)", *row)
    for material in dict.fromkeys(materials["material"]):
        row = []
        for plan, policy in series:
            m = materials[(materials["plan"] == plan) & (materials["policy"] == policy)
                          & (materials["material"] == material)]
            row.append(f"{m['mean_dependency_share'].iloc[0]:.1%} / {m['dependency_share_p95'].iloc[0]:.1%}")
        cap = materials.loc[materials["material"] == material, "dependency_cap"].iloc[0]
        cap_text = "" if _missing(cap) else f", cap {cap:.0%}"
        table.add_row(f"{result.dependency_country} share {material} (mean / p95{cap_text})", *row)
    return table


def differences_table(result) -> Table:
    """Each plan against the first on the same futures: mean difference (95% interval) and who is cheaper."""
    table = Table(title=f"Each plan against {result.plans[0]}, future by future (money in {result.currency})",
                  title_justify="left")
    for label in ("plan", "policy", "mean difference", "95% interval", "cheaper", "same", "dearer"):
        table.add_column(label, justify="left" if label in ("plan", "policy") else "right")
    differences = so.plan_differences(result)
    for (plan, policy), rows in differences.groupby(["plan", "policy"], sort=False):
        mean = rows.iloc[0]
        shares = rows["value"].iloc[1:4].tolist()
        interval = ("" if _missing(mean["ci_low"]) else
                    f"{compact(mean['ci_low'], result.currency)} to {compact(mean['ci_high'], result.currency)}")
        table.add_row(str(plan), str(policy), compact(mean["value"], result.currency), interval,
                      *(f"{share:.1%}" for share in shares))
    return table


def lower_bound_table(result) -> Table:
    table = Table(title=f"How far from optimal (money in {result.currency})", title_justify="left")
    for label in ("measure", "plan", "value", "95% interval", "note"):
        table.add_column(label, justify="right" if label in ("value", "95% interval") else "left")
    for row in result.lower_bound.to_dict("records"):
        interval = ("" if _missing(row["ci_low"]) else
                    f"{compact(row['ci_low'], result.currency)}-{compact(row['ci_high'], result.currency)}")
        table.add_row(str(row["measure"]), "" if _missing(row["plan"]) else str(row["plan"]),
                      compact(row["value"], result.currency), interval, "" if _missing(row["note"]) else str(row["note"]))
    return table


@app.command()
def template(
    output: Annotated[Path, typer.Argument(help="The workbook to write.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Write the bundled instance as a workbook to fill in (an existing file only with --force).

    Example: sourcing template my_sourcing.xlsx
    """
    _check_paths(None, so.Output(output, "workbook", "OUTPUT", replace=force))
    path = so.write_tables(so.read_tables(so.bundled_instance()), output)
    out.print(f"Template written to {path}")


@app.command()
def compare(
    instance: InstanceArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the comparison workbook.")]
    = Path("comparison.xlsx"),
    png: Annotated[Optional[Path], typer.Option("--png", help="Also draw the comparison as a PNG figure.")] = None,
    pdf: PdfOpt = None,
    cap: CapOpt = None, fill_rate: FillOpt = None, cvar_weight: WeightOpt = None, cvar_level: LevelOpt = None,
    scale_capacity: CapacityOpt = None, scale_price: PriceOpt = None, drop_supplier: DropOpt = None,
    probability: ProbabilityOpt = None,
    method: MethodOpt = "auto",
    workers: Annotated[Optional[int], typer.Option(
        "--workers", help="Solve the cases on this many worker processes at once (default and 0: one after "
                          "the other in this process).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", help="Address of a running Dask scheduler to solve the cases on: tcp://host:8786.")] = None,
) -> None:
    """Solve the base and every case of the cases sheet, side by side.

    Example: sourcing compare my_sourcing.xlsx -o comparison.xlsx --png comparison.png
    """
    _check_method(method, workers)
    _check_paths(instance, so.Output(output, "workbook", "-o/--output"), so.Output(png, "figure", "--png"),
                 so.Output(pdf, "pdf", "--pdf"))
    data = _instance(instance, cap, fill_rate, cvar_weight, cvar_level, scale_capacity, scale_price,
                     drop_supplier, probability)
    cases = so.case_edits(data)
    with _bar() as bar:
        task = bar.add_task("Solving cases", total=len(cases) + 1)
        bar.refresh()
        comparison = so.compare(data, cases, progress=lambda name: bar.update(
            task, advance=1, description=f"Solving {name}", refresh=True), method=method, workers=workers,
            scheduler=scheduler)
    out.print(comparison_table(comparison))
    path = so.write_comparison(comparison, output)
    out.print(f"Comparison written to {path}")
    if png is not None:
        out.print(f"Figure written to {so.comparison_figure(comparison, png)}")
    if pdf is not None:
        out.print(f"One-page PDF written to {so.write_comparison_pdf(comparison, pdf)}")
    summary = comparison.summary
    stopped = summary[~summary["status"].isin([so.OPTIMAL, so.INFEASIBLE])]
    if len(stopped):
        names = ", ".join(f"'{c}'" for c in stopped["case"])
        out.print(f"No proven optimum for {names}: {stopped['why'].iloc[0]}")
        raise typer.Exit(EXIT_NOT_OPTIMAL)


def compact(value: object, unit: str) -> str:
    """Money in thousands or millions so that wide tables fit a terminal."""
    if isinstance(value, (int, float)) and value == value and unit not in ("share", "") \
            and not unit.startswith("share"):
        if abs(value) >= 1e6:
            return f"{value / 1e6:,.2f}M"
        if abs(value) >= 1e4:
            return f"{value / 1e3:,.1f}k"
    return format_value(value, unit)


def comparison_table(comparison) -> Table:
    summary = comparison.summary
    currency = comparison.currency
    table = Table(title=f"What-if cases (money in {currency})", title_justify="left")
    country = next((r.data.settings.dependency_country for r in comparison.results.values()), "China")
    columns = [("expected_cost", "expected cost", currency), ("cvar", "CVaR", currency),
               ("worst_scenario_cost", "worst", currency), ("dependency_share", f"{country} share", "share")]
    columns.append(("lowest_fill_rate", "min fill", "share"))
    table.add_column("case")
    for _, label, _ in columns:
        table.add_column(label, justify="right")
    table.add_column("note")
    for row in summary.to_dict("records"):
        note = {"optimal": "", "infeasible": "no plan (see the workbook)"}.get(
            row["status"], f"{row['status']}: no plan")
        table.add_row(str(row["case"]), *[compact(row.get(key), unit) for key, _, unit in columns], note)
    return table


@app.command()
def frontier(
    instance: InstanceArg = None,
    cap: Annotated[str, typer.Option("--cap", help="The origin cap to sweep: China, China:refining or *:refining (every country on its own).")] = "China",
    points: Annotated[int, typer.Option("--points", min=2, max=201, help="Points from the share reached without the cap to 0.")]
    = 11,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the curve's workbook.")]
    = Path("frontier.xlsx"),
    png: Annotated[Optional[Path], typer.Option("--png", help="Also draw the curve as a PNG figure.")] = None,
    pdf: PdfOpt = None,
    method: Annotated[str, typer.Option(
        "--method", help="auto or monolithic (one model re-solved warm at each point) or decomposed (each point "
                         "solved by material).")] = "auto",
    workers: WorkersOpt = None, scheduler: SchedulerOpt = None,
) -> None:
    """The cost of de-risking: sweep an origin cap from the share the optimum without it reaches to 0.

    Example: sourcing frontier --cap China:refining --points 21 --png frontier.png
    """
    _check_method(method, workers)
    _check_paths(instance, so.Output(output, "workbook", "-o/--output"), so.Output(png, "figure", "--png"),
                 so.Output(pdf, "pdf", "--pdf"))
    data = _instance(instance)
    try:
        with _bar() as bar:
            task = bar.add_task("Sweeping the cap", total=None)
            bar.refresh()
            curve = so.frontier(data, cap, points, progress=lambda share: bar.update(
                task, advance=1, description=f"Solving at {share:.1%}", refresh=True), method=method,
                workers=workers, scheduler=scheduler)
    except InputError as error:  # said in the words of the option typed
        raise InputError([Problem(None, None, None, f"option --cap {cap}: {p}") if p.sheet is None else p
                          for p in error.problems]) from None
    out.print(frontier_table(curve))
    if curve.over_demand:
        out.print(curve.over_demand)
    if curve.stopped:
        shares = ", ".join(f"{s:.1%}" for s in curve.stopped)
        statuses = [curve.results[s].status for s in curve.stopped]
        count = f"{len(curve.stopped)} point{'s' if len(curve.stopped) > 1 else ''} ({shares})"
        if all(status == so.TIME_LIMIT for status in statuses):
            out.print(f"HiGHS stopped at the time limit at {count}: no plan is reported there; raise "
                      "time_limit in settings for the whole curve.")
        else:  # another stop (HiGHS refused the model, or gave no answer): its own message
            first = next(curve.results[s] for s in curve.stopped if curve.results[s].status != so.TIME_LIMIT)
            out.print(f"No proven optimum at {count}: {first.message}")
    if curve.tightest is None:
        out.print(f"No cap on {curve.cap} is {'proven ' if curve.stopped else ''}feasible.")
    elif curve.stopped:
        out.print(f"Smallest {curve.cap} cap proven feasible: {curve.tightest:.2%} (the tightest may be lower).")
    else:
        out.print(f"Tightest feasible {curve.cap} cap: {curve.tightest:.2%}; no plan below it.")
    if curve.explanation:
        out.print(curve.explanation)
    out.print(f"Curve written to {so.write_frontier(curve, output)}")
    if png is not None:
        out.print(f"Figure written to {so.frontier_figure(curve, png)}")
    if pdf is not None:
        out.print(f"One-page PDF written to {so.write_frontier_pdf(curve, pdf)}")
    if curve.stopped:
        raise typer.Exit(EXIT_NOT_OPTIMAL)


def frontier_table(curve) -> Table:
    currency = curve.currency
    table = Table(title=f"Cost of de-risking: {curve.cap} (money in {currency})", title_justify="left")
    # Two-line headers keep the numbers narrow, so the point's words fit whole in 100 columns; the words
    # wrap (never cut) in a narrower terminal, the numbers never do.
    for label in ("max share", "point", "objective", "expected\ncost", "worst", "min fill", "per\npoint"):
        table.add_column(label, justify="left" if label == "point" else "right", no_wrap=label != "point",
                         overflow="fold")
    rows = curve.table.assign(point=curve.points_in_words).to_dict("records")
    for row in rows:
        if row["status"] != "optimal":
            continue
        table.add_row(f"{row['max_share']:.1%}", row["point"], compact(row["objective"], currency),
                      compact(row["expected_cost"], currency),
                      compact(row["worst_scenario_cost"], currency),
                      format_value(row["lowest_fill_rate"], "share"),
                      compact(row["shadow_price_per_point"], currency))
    infeasible = [r for r in rows if r["status"] == so.INFEASIBLE]
    if infeasible:
        shares = [r["max_share"] for r in infeasible]
        table.add_row(f"{min(shares):.1%}-{max(shares):.1%}", f"{len(infeasible)} points", "no plan", "", "", "", "")
    return table


@app.command()
def generate(
    output: Annotated[Path, typer.Argument(help="A folder for CSV files, or a .xlsx workbook.", show_default=False)],
    scale: Annotated[str, typer.Option("--scale", help="small, medium, large or xl (over a million LP variables).")]
    = "small",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed: the same seed gives the same instance.")]
    = 0,
) -> None:
    """Write a synthetic instance with scenarios sampled from a disruption model.

    Example: sourcing generate --scale large --seed 7 big_instance/
    """
    if scale not in so.SCALES:
        raise InputError([Problem(None, None, None, f"unknown scale '{scale}'; use one of {', '.join(so.SCALES)}.")])
    _check_paths(None, so.Output(output, "instance", "OUTPUT"))
    path = so.write_instance(so.generate(scale, seed), output)
    size = so.SCALES[scale]
    out.print(f"Instance written to {path}: {size.materials} materials, {size.periods} monthly periods, "
              f"{size.scenarios} scenarios (seed {seed})")


@app.command(name="app")
def web_app(
    instance: InstanceArg = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port to serve on.")] = 8501,
    host: Annotated[str, typer.Option("--host", help="The address to bind; 0.0.0.0 serves other machines too.")]
    = "127.0.0.1",
) -> None:
    """Serve the what-if web app on this machine (open the address it prints in a browser).

    Example: sourcing app my_sourcing.xlsx --port 8501
    """
    import os
    from importlib import resources

    if instance is not None:
        so.read_instance(instance)  # bad input is an error here, before a server starts
    script = Path(str(resources.files("optimizer.interfaces") / "app.py"))
    environment = dict(os.environ)
    if instance is not None:
        environment["SOURCING_APP_INSTANCE"] = str(instance.resolve())
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", host,
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--server.runOnSave", "false",
               "--server.maxUploadSize", str(so.MAX_UPLOAD_BYTES // 2**20), "--global.developmentMode", "false",
               "--client.toolbarMode", "minimal", "--theme.base", "light"]
    err.print(f"Serving the app on http://{host}:{port} (Ctrl+C stops it)")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, environment)  # the server replaces this process: signals reach it


def _version(value: bool) -> None:
    if value:
        out.print(f"sourcing {package_version()}")
        raise typer.Exit(EXIT_OK)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rare-earth-sourcing")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


@app.callback()
def options(
    show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
) -> None:
    """Rare-earth sourcing optimizer: least-cost plans under disruption scenarios."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sourcing` script; returns the exit code."""
    try:
        code = app(args=argv, standalone_mode=False)
    except (InputError, so.OutputPathError) as exc:
        err.print(f"Error: {exc}")
        return EXIT_INPUT
    except so.SolveStopped as exc:
        err.print(f"Error: {exc}")
        return EXIT_NOT_OPTIMAL
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        return int(code or 0)
    except typer.Abort:
        err.print("Error: aborted.")
        return EXIT_UNEXPECTED
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's usage errors (vendored by typer)
            if type(exc).__name__ == "NoArgsIsHelpError":  # a command typed alone: its help
                exc.show()
            else:  # one line naming the option, as every other error (no "Usage:" and "Try --help" lines)
                err.print(f"Error: {exc.format_message()}")
            return exc.exit_code
        if isinstance(exc, (IsADirectoryError, NotADirectoryError, PermissionError, FileNotFoundError)):
            err.print(f"Error: cannot write there: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
            return EXIT_INPUT  # a path the user typed
        if isinstance(exc, OSError):
            err.print(f"Error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
            return EXIT_UNEXPECTED
        err.print(f"Error: unexpected {type(exc).__name__}: {exc}")
        return EXIT_UNEXPECTED
    return code if isinstance(code, int) else EXIT_OK


def run() -> None:
    sys.exit(main())
