"""Benchmark: where the time goes, against a bare HiGHS solve of the very same LP.

    python bench/run.py                                # small, medium, large (3 runs each), then xl (1 run)
    python bench/run.py --scales small medium large   # leave xl out (its two solves take 20 minutes each)
    python bench/run.py --scales xl                    # xl alone; the other scales' rows are kept
    python bench/run.py --report-only                  # rewrite results.md from measured.json

For each scale it generates an instance (seed 1) and runs, each in a fresh process so that peak
memory is the process's own: the pipeline stage by stage (read, validate, build, hand-over to HiGHS,
HiGHS solve, results, export) along the path `solve` takes, writing the LP it hands over as MPS;
then bare HiGHS (highspy reads that MPS and solves it with the same options); then a 21-point sweep
of the China refining cap (model handed over once, the cap rows' bounds changed, warm re-solves)
against the same 21 solves driving highspy directly. At xl the pipeline and the bare solve run side
by side, one per core, and the sweep is left out. It also times the CLI on the bundled instance.
Medians are reported; ratios, measured in one run on one machine, are the figures to quote. Every
scale's newest row is kept in bench/measured.json, from which bench/results.md is written (with
bench/notes.md appended).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAP = "China:refining"
POINTS = 21


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- children

def child_pipeline(instance: str, mps: str, rows_file: str, plan: str) -> dict:
    from optimizer.reports.export import write_plan
    from optimizer.model.formulation import build_model
    from optimizer.inputs.reader import read_tables
    from optimizer.solving.results import collect_results
    from optimizer.model import Built
    from optimizer.solving.solver import HandedOver, hand_over
    from optimizer.model.tree import build_tree
    from optimizer.inputs.validate import validate

    times = {}
    t = time.perf_counter()
    tables = read_tables(instance)
    times["read"] = time.perf_counter() - t
    t = time.perf_counter()
    data = validate(tables, source=instance)
    times["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    tree = build_tree(data)
    model = build_model(data, tree)
    times["build"] = time.perf_counter() - t
    t = time.perf_counter()
    handed = HandedOver(model)  # the path `solve` takes: APPSI below STANDARD_FORM_FROM variables, standard form above

    def write_lp(highs, form):
        """The LP as MPS for the bare solve, and the swept cap rows for the bare sweep."""
        highs.writeModel(mps)
        Path(mps + ".ready").touch()  # the parent may start the bare solve now (see --together)
        cap_rows = [(i, float(form.rhs[i])) for i, (con, _) in enumerate(form.rows)
                    if con.parent_component().name in ("origin_cap", "origin_cap_per_period")]
        share = float(data.origin_caps["max_share"].iloc[0])
        Path(rows_file).write_text(json.dumps({"rows": cap_rows, "share": share}))
        return {"rows": highs.getNumRow(), "columns": highs.getNumCol(), "nonzeros": highs.getNumNz()}

    times["hand-over"] = time.perf_counter() - t
    appsi = handed.appsi
    size = None if appsi else write_lp(handed.highs, handed.form)
    t = time.perf_counter()
    run = handed.solve()
    times["solve"] = time.perf_counter() - t
    handed.close()  # as `solve` does once HiGHS has answered
    t = time.perf_counter()
    result = collect_results(Built(data, tree, model), run)
    times["results"] = time.perf_counter() - t
    t = time.perf_counter()
    write_plan(result, plan)
    times["export"] = time.perf_counter() - t
    peak = peak_mib()
    if appsi:  # compiled again for the MPS only after the peak is read, untimed
        size = write_lp(*hand_over(model))
    return {"times": times, "status": run.status, "objective": run.objective, "peak_mib": peak, **size,
            "nodes": len(tree.nodes)}


def child_sweep(instance: str) -> dict:
    import numpy as np

    from optimizer.inputs import read_instance
    from optimizer.analysis.frontier import UNCAPPED, CapSweep, resolve_cap
    from optimizer.model.rules.origin_caps import reached_share

    data = read_instance(instance)
    t = time.perf_counter()
    data, swept, _ = resolve_cap(data, CAP)
    sweep = CapSweep(data, swept)
    free = sweep.at(UNCAPPED)
    shares = list(np.linspace(reached_share(free.origin_shares, swept.ids), 0.0, POINTS))
    objectives = [sweep.at(s).objective for s in shares]
    return {"seconds": time.perf_counter() - t, "shares": shares, "objectives": objectives}


def child_mps(instance: str, mps: str) -> dict:
    """The LP of the instance as the standard form hands it to HiGHS, written as MPS for the bare solve."""
    from optimizer.inputs import read_instance
    from optimizer.model import build
    from optimizer.solving.solver import hand_over

    highs, _ = hand_over(build(read_instance(instance)).model)
    highs.writeModel(mps)
    return {"rows": highs.getNumRow(), "columns": highs.getNumCol(), "nonzeros": highs.getNumNz()}


def child_decomposed(instance: str, plan: str) -> dict:
    """The decomposed solve stage by stage, as `sourcing solve --method decomposed` runs it (blocks in this
    process below PARALLEL_FROM variables, on one worker process per core above), with the plan workbook."""
    from optimizer.inputs.reader import read_tables
    from optimizer.inputs.validate import validate
    from optimizer.model import build
    from optimizer.reports.export import write_plan
    from optimizer.solving.pipeline import solve_by_material
    from optimizer.solving.results import collect_results

    times = {}
    t = time.perf_counter()
    data = validate(read_tables(instance), source=instance)
    times["read and validate"] = time.perf_counter() - t
    t = time.perf_counter()
    built = build(data)
    times["build"] = time.perf_counter() - t
    t = time.perf_counter()
    variables = built.model.nvariables()
    run = solve_by_material(built.model, None, None, None, None, None, variables)
    times["decomposed solve"] = time.perf_counter() - t
    t = time.perf_counter()
    result = collect_results(built, run)
    times["results"] = time.perf_counter() - t
    t = time.perf_counter()
    write_plan(result, plan)
    times["export"] = time.perf_counter() - t
    return {"times": times, "status": run.status, "objective": run.objective, "bound": run.bound, "gap": run.gap,
            "blocks": run.blocks, "rounds": run.rounds, "handover": run.handover_seconds, "highs": run.solve_seconds,
            "variables": variables, "peak_mib": peak_mib(),
            "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def child(kind: str, args: list[str]) -> None:
    if kind == "pipeline":
        out = child_pipeline(*args)
    elif kind == "mps":
        out = child_mps(*args)
    elif kind == "decomposed":
        out = child_decomposed(*args)
    else:
        out = child_sweep(args[0])
    print(json.dumps(out))


#: The bare side runs in bench/bare.py, which imports highspy and nothing of the optimizer (see its docstring).
BARE = HERE / "bare.py"
_BARE_KINDS = {"bare": "solve", "bare-sweep": "sweep"}


def start(kind: str, *args: str) -> subprocess.Popen:
    if kind in _BARE_KINDS:
        command = [sys.executable, str(BARE), _BARE_KINDS[kind], *args]
    else:
        command = [sys.executable, __file__, "--child", kind, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(kind: str, process: subprocess.Popen) -> dict:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1])


def spawn(kind: str, *args: str) -> dict:
    return finish(kind, start(kind, *args))


def pipeline_and_bare(instance: Path, mps: Path, rows_file: Path, plan: Path, together: bool) -> tuple[dict, dict]:
    """One pipeline run and one bare solve of the LP it hands over. together: start the bare solve as
    soon as the MPS is written, so the two solves run side by side on two cores (for scales whose
    solve takes long enough that running them one after the other would not fit a working day)."""
    ready = Path(f"{mps}.ready")
    ready.unlink(missing_ok=True)
    pipeline = start("pipeline", str(instance), str(mps), str(rows_file), str(plan))
    if not together:
        ours = finish("pipeline", pipeline)
        return ours, spawn("bare", str(mps), "{}")
    while not ready.exists():
        if pipeline.poll() is not None:
            finish("pipeline", pipeline)  # raises with the child's error
            raise RuntimeError("the pipeline ended without writing its LP")
        time.sleep(0.5)
    bare = start("bare", str(mps), "{}")
    try:
        ours = finish("pipeline", pipeline)
    except BaseException:
        bare.kill()  # an orphaned bare solve at xl would run for hours
        raise
    return ours, finish("bare", bare)


# --------------------------------------------------------------------------- parent

def median(values):
    return statistics.median(values)


def bench_scale(scale: str, repeats: int, work: Path, ipm: bool, sweep: bool, together: bool) -> dict:
    from optimizer.inputs.generate import generate
    from optimizer.reports.export import write_instance

    instance = write_instance(generate(scale, 1), work / scale)
    mps, rows_file, plan = work / f"{scale}.mps", work / f"{scale}-rows.json", work / f"{scale}-plan.xlsx"
    ours, bare = [], []
    for _ in range(repeats):
        one, other = pipeline_and_bare(instance, mps, rows_file, plan, together)
        ours.append(one)
        bare.append(other)
    stages = {k: median([o["times"][k] for o in ours]) for k in ours[0]["times"]}
    end_to_end = median([sum(o["times"].values()) for o in ours])
    row = {
        "scale": scale, "rows": ours[0]["rows"], "columns": ours[0]["columns"], "nonzeros": ours[0]["nonzeros"],
        "nodes": ours[0]["nodes"], "stages": stages, "end_to_end": end_to_end,
        "bare": median([b["solve"] for b in bare]),
        # pair by pair (each pipeline run against the bare solve right after it), so that drift in the
        # machine's speed while other work shares it cancels out of the ratio
        "ratio": median([sum(o["times"].values()) / b["solve"] for o, b in zip(ours, bare)]),
        "memory_ratio": median([o["peak_mib"] / b["peak_mib"] for o, b in zip(ours, bare)]),
        "peak_mib": median([o["peak_mib"] for o in ours]), "bare_peak_mib": median([b["peak_mib"] for b in bare]),
        "same_objective": all(o["objective"] is not None and b["objective"] is not None
                              and abs(o["objective"] - b["objective"]) <= 1e-6 * max(1, abs(b["objective"]))
                              for o, b in zip(ours, bare)),
    }
    if ipm:
        row["bare_ipm"] = median([spawn("bare", str(mps), json.dumps({"solver": "ipm"}))["solve"]
                                  for _ in range(repeats)])
    row["measured"] = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
    row["commit"] = commit()
    row["together"] = together
    if not sweep:
        return row
    sweeps, bare_sweeps = [], []
    for _ in range(repeats):  # in turn, ours then bare, for a ratio pair by pair
        sweeps.append(spawn("sweep", str(instance)))
        bare_sweeps.append(spawn("bare-sweep", str(mps), str(rows_file), json.dumps(sweeps[0]["shares"])))
    row["sweep_ratio"] = median([a["seconds"] / b["seconds"] for a, b in zip(sweeps, bare_sweeps)])
    row["sweep"] = median([s["seconds"] for s in sweeps])
    row["bare_sweep"] = median([s["seconds"] for s in bare_sweeps])
    agree = [a is None and b is None or (a is not None and b is not None and abs(a - b) <= 1e-6 * max(1, abs(b)))
             for a, b in zip(sweeps[0]["objectives"], bare_sweeps[0]["objectives"])]
    row["sweep_agrees"] = all(agree)
    return row


#: The decomposition rows: (name, scale, CVaR weight, whether the bare monolithic solve is timed too). With
#: the CVaR term at xl the bare solve did not finish in 90 CPU-minutes (notes.md), so it is not run there.
DECOMPOSED = {"large-cvar": ("large", 0.1, True), "xl-neutral": ("xl", 0.0, True), "xl-cvar": ("xl", 0.1, False)}


def bench_decomposed(name: str, repeats: int, work: Path) -> dict:
    from optimizer.inputs.generate import generate
    from optimizer.reports.export import write_instance

    scale, weight, bare_too = DECOMPOSED[name]
    tables = generate(scale, 1)
    settings = tables["settings"]
    settings.loc[settings["key"] == "cvar_weight", "value"] = f"{weight:g}"
    instance = write_instance(tables, work / name)
    mps, plan = work / f"{name}.mps", work / f"{name}-plan.xlsx"
    size = spawn("mps", str(instance), str(mps))
    ours, bare = [], []
    for _ in range(repeats):  # in turn, ours then bare, for a ratio pair by pair
        ours.append(spawn("decomposed", str(instance), str(plan)))
        if bare_too:
            bare.append(spawn("bare", str(mps), "{}"))
    row = {"name": name, "scale": scale, "cvar_weight": weight, "runs": repeats, **size,
           "stages": {k: median([o["times"][k] for o in ours]) for k in ours[0]["times"]},
           "end_to_end": median([sum(o["times"].values()) for o in ours]),
           "highs": median([o["highs"] for o in ours]), "handover": median([o["handover"] for o in ours]),
           "blocks": ours[0]["blocks"], "rounds": max(o["rounds"] for o in ours),
           "gap": max(o["gap"] for o in ours), "status": ours[-1]["status"],
           "peak_mib": median([o["peak_mib"] for o in ours]),
           "worker_peak_mib": median([o["worker_peak_mib"] for o in ours]),
           "measured": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC", "commit": commit()}
    if bare:
        row["bare"] = median([b["solve"] for b in bare])
        row["bare_status"] = bare[-1]["status"]
        row["bare_peak_mib"] = median([b["peak_mib"] for b in bare])
        row["ratio"] = median([sum(o["times"].values()) / b["solve"] for o, b in zip(ours, bare)])
        row["same_objective"] = all(o["objective"] is not None and b["objective"] is not None
                                    and abs(o["objective"] - b["objective"]) <= 1e-6 * max(1, abs(b["objective"]))
                                    for o, b in zip(ours, bare))
    return row


def check_bare_options() -> None:
    """bench/bare.py keeps its own copy of the solver options (so that it imports nothing of the optimizer)."""
    from optimizer.solving.solver import HIGHS_OPTIONS

    source = BARE.read_text()
    namespace: dict = {}
    exec(source[source.index("\nHIGHS_OPTIONS") + 1:].split("\n", 1)[0], namespace)
    if namespace["HIGHS_OPTIONS"] != HIGHS_OPTIONS:
        sys.exit(f"bench/bare.py's HIGHS_OPTIONS {namespace['HIGHS_OPTIONS']} differ from the optimizer's "
                 f"{HIGHS_OPTIONS}: copy them over.")


def commit() -> str:
    """The checkout's commit (with "+changes" when the work tree differs from it), or "" outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "optimizer", "bench/run.py"], cwd=HERE.parent,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+changes" if dirty else "")


def cli_wall(repeats: int, work: Path) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optimizer", "solve", "-o", str(work / "cli-plan.xlsx")],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return median(times)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


SCALE_ORDER = ["small", "medium", "large", "xl"]


def scale_rows(record: dict) -> list[dict]:
    return [row for key, row in record.items() if key in SCALE_ORDER]


def decomposed_lines(rows: dict) -> list[str]:
    """The decomposition table: the decomposed solve end to end against the bare monolithic HiGHS solve."""
    if not rows:
        return []
    lines = ["", "## Decomposition by material against bare monolithic HiGHS", "",
             "| instance | measured | runs | LP rows | LP columns | nonzeros | blocks | pricing rounds | gap proved | "
             "read and validate | build | decomposed solve (hand-over and HiGHS) | results | export | end to end | "
             "bare monolithic HiGHS | ratio | target | peak MiB (main, largest worker) | bare peak MiB | "
             "same optimum |", "|---" * 21 + "|"]
    targets = {"large-cvar": ("<= 0.5", lambda r: r <= 0.5), "xl-neutral": ("<= 0.25", lambda r: r <= 0.25)}
    for name, r in rows.items():
        s = r["stages"]
        label, holds = targets.get(name, ("<= 1,200 s end to end", None))
        if "ratio" in r:
            ratio = f"**{r['ratio']:.2f}**"
            met = "met" if holds(r["ratio"]) else "**missed**"
            bare = f"{r['bare']:.2f}"
            same = "yes" if r["same_objective"] else "NO"
            bare_peak = f"{r['bare_peak_mib']:,.0f}"
        else:
            ratio, bare, same, bare_peak = "", "not run (did not finish in 90 CPU-minutes)", "", ""
            met = "met" if r["end_to_end"] <= 1200 and r["status"] == "optimal" else "**missed**"
        lines.append(
            f"| {name} (CVaR weight {r['cvar_weight']:g}) | {r['measured']}, at {r['commit']} | {r['runs']} | "
            f"{r['rows']:,} | {r['columns']:,} | {r['nonzeros']:,} | {r['blocks']} | {r['rounds']} | {r['gap']:.1e} | "
            f"{s['read and validate']:.2f} | {s['build']:.2f} | {s['decomposed solve']:.2f} "
            f"({r['handover']:.2f} and {r['highs']:.2f}) | {s['results']:.2f} | {s['export']:.2f} | "
            f"{r['end_to_end']:.2f} | {bare} | {ratio} | {label}: {met} | {r['peak_mib']:,.0f}, "
            f"{r['worker_peak_mib']:,.0f} | {bare_peak} | {same} |")
    lines += ["", "Seconds. The decomposed solve is `solve(method=\"decomposed\")`'s path in a fresh process: "
              "below 400,000 variables the blocks are solved in processes forked from the solving one, one per "
              "core, each keeping its blocks warm between pricing rounds (forking included; the largest worker's "
              "peak counts the pages it shares with its parent), on one Dask worker process per core above "
              "(starting them included); \"hand-over\" is compiling the model to the standard form and splitting "
              "it, \"HiGHS\" the block and master solves. The bare side is highspy reading the MPS of the whole "
              "LP and solving it with the same options, run right after each of ours. Gap proved: (objective - "
              "bound) / max(1, |objective|), the largest of the runs."]
    return lines


def report(rows: list[dict], cli: float, path: Path, decomposed: dict | None = None) -> None:
    from optimizer.solving.solver import HIGHS_OPTIONS, solver_version

    rows = sorted(rows, key=lambda r: SCALE_ORDER.index(r["scale"]) if r["scale"] in SCALE_ORDER else 99)
    lines = [
        "# Benchmark results",
        "",
        f"Written {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}; {solver_version()}, "
        f"options {HIGHS_OPTIONS} (HiGHS defaults otherwise: dual simplex, presolve on). "
        "Medians of the runs shown; every measurement in its own process. Ratios are the figures to quote. "
        f"Each scale's row says when it was measured (`{RECORD.name}` keeps the rows of earlier runs, so a long "
        "scale can be measured on its own).",
        "",
        "## End to end against bare HiGHS on the same LP",
        "",
        "| scale | measured | runs | LP rows | LP columns | nonzeros | tree nodes | read | validate | build | "
        "hand-over | HiGHS solve | results | export | end to end | bare HiGHS | ratio (target: medium <= 4) | "
        "peak MiB | bare peak MiB | memory ratio (target <= 2 at large and xl) | same optimum |",
        "|---" * 21 + "|",
    ]
    for r in rows:
        s = r["stages"]
        side = " (side by side)" if r.get("together") else ""
        at = f", at {r['commit']}" if r.get("commit") else ""
        lines.append(
            f"| {r['scale']} | {r['measured']}{at}{side} | {r['runs']} | {r['rows']:,} | {r['columns']:,} | "
            f"{r['nonzeros']:,} | {r['nodes']:,} | {s['read']:.2f} | {s['validate']:.2f} | {s['build']:.2f} | "
            f"{s['hand-over']:.2f} | {s['solve']:.2f} | {s['results']:.2f} | {s['export']:.2f} | "
            f"{r['end_to_end']:.2f} | {r['bare']:.2f} | **{r.get('ratio', r['end_to_end'] / r['bare']):.2f}** | "
            f"{r['peak_mib']:,.0f} | {r['bare_peak_mib']:,.0f} | **{r.get('memory_ratio', r['peak_mib'] / r['bare_peak_mib']):.2f}** | "
            f"{'yes' if r['same_objective'] else 'NO'} |")
    lines += ["", "Seconds. \"HiGHS solve\" is HiGHS's run inside the pipeline; \"bare HiGHS\" is highspy reading "
              "the MPS file the pipeline handed over and solving it with the same options. \"Side by side\": the "
              "pipeline and the bare solve ran at the same time, one on each core, because one after the other "
              "they would take twice as long. These rows are the monolithic path (`--method monolithic`); from "
              "20,000 variables `auto` decomposes (\"Decomposition by material\" below).", "",
              f"## {POINTS}-point de-risking curve ({CAP} cap, persistent interface, warm re-solves)", "",
              "| scale | our sweep (build once, 22 solves, results per point) | bare highspy sweep (same LP, row "
              "bounds changed, warm) | ratio (target: medium <= 1.5) | same objectives |", "|---|---|---|---|---|"]
    for r in rows:
        if "sweep" in r:
            lines.append(f"| {r['scale']} | {r['sweep']:.2f} | {r['bare_sweep']:.2f} | "
                         f"**{r.get('sweep_ratio', r['sweep'] / r['bare_sweep']):.2f}** | {'yes' if r['sweep_agrees'] else 'NO'} |")
    ipm = [r for r in rows if "bare_ipm" in r]
    if ipm:
        lines += ["", "## Choosing the HiGHS method", "", "| scale | dual simplex (default) | interior point + "
                  "crossover | simplex / IPM |", "|---|---|---|---|"]
        for r in ipm:
            lines.append(f"| {r['scale']} | {r['bare']:.2f} | {r['bare_ipm']:.2f} | {r['bare'] / r['bare_ipm']:.2f} |")
    lines += ["", "## The bundled instance from the command line", "",
              f"`sourcing solve` on `instances/rare_earths_2026`, wall time including Python start-up: "
              f"**{cli:.2f} s** (target <= 0.8 s).", ""]
    lines[-1:-1] = decomposed_lines(decomposed or {})
    notes = HERE / "notes.md"
    if notes.exists():
        lines += [notes.read_text()]
    stress = HERE / "stress.md"  # bench/stress.py's section, kept when this report is rewritten
    if stress.exists():
        lines += ["", stress.read_text()]
    path.write_text("\n".join(lines))


#: The rows of every scale measured so far (the newest run of each), from which results.md is written.
RECORD = HERE / "measured.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="*", default=["small", "medium", "large", "xl"])
    parser.add_argument("--decomposed", nargs="*", default=list(DECOMPOSED), choices=list(DECOMPOSED),
                        help="decomposition rows to measure (the decomposed solve against the bare monolithic one)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--xl-repeats", type=int, default=1)
    parser.add_argument("--ipm", nargs="*", default=["medium", "large"], help="scales at which to time IPM too")
    parser.add_argument("--sweep", nargs="*", default=["small", "medium", "large"],
                        help="scales at which to time the 21-point curve (22 warm solves each)")
    parser.add_argument("--together", nargs="*", default=["xl"],
                        help="scales whose pipeline and bare solve run side by side (one per core)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--report-only", action="store_true", help=f"write the report from {RECORD.name}, measure nothing")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, rest)
        return
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    check_bare_options()
    if args.report_only:
        if "cli_seconds" not in record:
            sys.exit(f"{RECORD} holds no measurements yet: run the benchmark first.")
        report(scale_rows(record), record["cli_seconds"], args.out, record.get("decomposed", {}))
        print(f"wrote {args.out}")
        return
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for scale in args.scales:
            runs = args.xl_repeats if scale == "xl" else args.repeats
            print(f"benchmarking {scale} ({runs} runs) ...", flush=True)
            row = bench_scale(scale, runs, work, scale in args.ipm, scale in args.sweep, scale in args.together)
            row["runs"] = runs
            record[scale] = row
            RECORD.write_text(json.dumps(record, indent=1))
            print(json.dumps(row), flush=True)
        for name in args.decomposed:
            runs = args.xl_repeats if DECOMPOSED[name][0] == "xl" else args.repeats
            print(f"benchmarking the decomposed solve, {name} ({runs} runs) ...", flush=True)
            record.setdefault("decomposed", {})[name] = bench_decomposed(name, runs, work)
            RECORD.write_text(json.dumps(record, indent=1))
            print(json.dumps(record["decomposed"][name]), flush=True)
        record["cli_seconds"] = cli_wall(5, work)
        RECORD.write_text(json.dumps(record, indent=1))
    report(scale_rows(record), record["cli_seconds"], args.out, record.get("decomposed", {}))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
