"""Benchmark of the stress test and of solving sampled scenarios, on the bundled instance.

    python bench/stress.py                    # about 5 minutes on 2 cores; rewrites the stress section of results.md

Measures, in one run (other work on the machine slows every row alike, so the ratios are the figures):
- 10,000 futures, both policies, on a local cluster of 2 workers: wall time (with starting the cluster)
  and futures per second per core;
- the same futures on 1 worker: the speed-up of 2 workers over 1 (on playing the futures, and end to end),
  and whether the numbers are the same;
- `sourcing solve --sample 200` end to end against bare highspy (a process that imports only highspy,
  reads the same LP as MPS and solves it with the same options).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
BEGIN, END = "<!-- stress: written by bench/stress.py -->", "<!-- end of stress -->"

BARE = """
import sys, time
started = time.perf_counter()
import highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.setOptionValue("random_seed", 0)
h.readModel(sys.argv[1])
h.run()
print(h.getInfo().objective_function_value, time.perf_counter() - started)
"""


def stress_rows(futures: int, seed: int, repeats: int) -> dict:
    """Runs alternate between 2 workers and 1; the fastest of each counts (other work on the machine only
    ever slows a run down)."""
    import optimizer as so

    data = so.read_instance(so.bundled_instance())
    plan = so.plan_of(so.solve(data), "five scenarios")
    twos, ones = [], []
    for _ in range(repeats):
        twos.append(so.stress(data, [plan], futures, seed, workers=2))
        ones.append(so.stress(data, [plan], futures, seed, workers=1))
    two = min(twos, key=lambda r: r.play_seconds)
    one = min(ones, key=lambda r: r.play_seconds)
    same = all(r.futures.equals(twos[0].futures) and r.summary.equals(twos[0].summary) for r in twos + ones)
    solves = float(two.summary.query("statistic == 'mean_solves_per_future'")["value"].iloc[0])
    return {"futures": futures, "two_wall": min(r.seconds for r in twos), "two_play": two.play_seconds,
            "one_wall": min(r.seconds for r in ones), "one_play": one.play_seconds, "same": same,
            "solves_per_future": solves, "runs": repeats}


#: what `sourcing solve` imports before it reads the instance (a fresh process, start-up included)
IMPORTS = ("import optimizer.interfaces.cli, optimizer.solving.pipeline, optimizer.reports.export, "
           "pyomo.core, pyomo.contrib.appsi.solvers, pandas, highspy, xlsxwriter")

#: the fill-rate floor of the sampled solve (the README's stress-test example uses the same)
FLOOR = "0.7"


def sample_rows(scenarios: int, seed: int, work: Path, repeats: int) -> dict:
    import optimizer as so
    from optimizer.model import build
    from optimizer.solving.solver import hand_over

    from optimizer.solving.results import collect_results
    from optimizer.solving.solver import solve_once
    from optimizer.solving.pipeline import choose_method, solve_by_material

    stages = {}
    started = time.perf_counter()
    data = so.read_instance(so.bundled_instance())
    # some sampled futures cannot be served at the shipped 95% floors by any plan (README, stress test)
    data = so.apply_case(data, "floors", so.Overrides(fill_rate=[FLOOR]).edits(data.tables))
    stages["read"] = time.perf_counter() - started
    started = time.perf_counter()
    data = so.sample_instance(data, scenarios, seed)
    stages["sample and validate"] = time.perf_counter() - started
    started = time.perf_counter()
    built = build(data)
    stages["build"] = time.perf_counter() - started
    # the same path as the CLI's `solve --sample`: method "auto" by the model's size
    variables = built.model.nvariables()
    method = choose_method("auto", variables)
    started = time.perf_counter()
    if method == "decomposed":
        run = solve_by_material(built.model, None, None, None, None, None, variables)
    else:
        run = solve_once(built.model)
    stages[f"solve ({method}, wall)"] = time.perf_counter() - started
    stages["of it hand-over"], stages["of it HiGHS"] = run.handover_seconds, run.solve_seconds
    started = time.perf_counter()
    result = collect_results(built, run)
    stages["results"] = time.perf_counter() - started
    started = time.perf_counter()
    so.write_plan(result, work / "stages.xlsx")
    stages["plan workbook"] = time.perf_counter() - started
    built = build(data)
    highs, _ = hand_over(built.model)
    mps = work / "sampled.mps"
    highs.writeModel(str(mps))
    size = (highs.getNumRow(), highs.getNumCol(), highs.getNumNz())
    del highs
    ours, bare, objectives = [], [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optimizer", "solve", "--sample", str(scenarios), "--seed", str(seed),
                        "--fill-rate", FLOOR, "-o", str(work / "plan.xlsx"), "--json"], check=True, env=env, capture_output=True)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", BARE, str(mps)], check=True, capture_output=True, text=True)
        bare.append(time.perf_counter() - started)
        objectives.append(float(out.stdout.strip().splitlines()[-1].split()[0]))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], check=True, env=env, capture_output=True)
    imports = time.perf_counter() - started
    plan = so.solve(data)
    return {"imports": imports, "scenarios": scenarios, "distinct": len(data.scenarios), "rows": size[0], "columns": size[1],
            "nonzeros": size[2], "ours": sorted(ours)[len(ours) // 2], "bare": sorted(bare)[len(bare) // 2],
            "same_optimum": abs(plan.objective - objectives[0]) <= 1e-6 * max(1.0, abs(plan.objective)),
            "stages": stages}


def section(stress: dict, sample: dict, when: str, commit: str) -> str:
    n = stress["futures"]
    rate = n / stress["two_play"] / 2
    speedup_play = stress["one_play"] / stress["two_play"]
    speedup_wall = stress["one_wall"] / stress["two_wall"]
    ratio = sample["ours"] / sample["bare"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        BEGIN,
        "## Stress test and sampled scenarios (bench/stress.py)",
        "",
        f"Measured {when}, at {commit}, on the bundled instance (its five-scenario plan, futures from its "
        f"disruption model, seed 7), all rows in one run.",
        "",
        "| measure | value | target | |",
        "|---|---|---|---|",
        f"| {n:,} futures, both policies, 2 workers: wall time with starting the cluster | {stress['two_wall']:.1f} s "
        f"| <= 60 s | {verdict(stress['two_wall'] <= 60)} |",
        f"| futures per second per core (2 workers, playing) | {rate:,.0f} | | |",
        f"| recourse LPs solved per future (both policies) | {stress['solves_per_future']:.2f} | | |",
        f"| 2 workers against 1, playing the futures ({stress['one_play']:.1f} s / {stress['two_play']:.1f} s) | "
        f"{speedup_play:.2f}x | >= 1.8x | {verdict(speedup_play >= 1.8)} |",
        f"| 2 workers against 1, end to end ({stress['one_wall']:.1f} s / {stress['two_wall']:.1f} s) | "
        f"{speedup_wall:.2f}x | | |",
        f"| same numbers with 1 and 2 workers | {'yes' if stress['same'] else '**no**'} | yes | |",
        f"| `sourcing solve --sample {sample['scenarios']}` ({sample['distinct']} distinct scenarios; LP "
        f"{sample['rows']:,} rows, {sample['columns']:,} columns, {sample['nonzeros']:,} nonzeros): end to end "
        f"{sample['ours']:.2f} s against bare highspy {sample['bare']:.2f} s | {ratio:.2f}x | <= 1.5x | "
        f"{verdict(ratio <= 1.5)} |",
        f"| same optimum as bare highspy | {'yes' if sample['same_optimum'] else '**no**'} | yes | |",
        "",
        f"Times are the fastest of {stress['runs']} runs of each, alternating. Where `solve --sample` spends its "
        "time (seconds, in one process): " + ", ".join(f"{k} {v:.2f}" for k, v in sample["stages"].items())
        + f"; starting Python and importing what `solve` uses (Pyomo, pandas, highspy, xlsxwriter) takes "
        f"{sample['imports']:.2f} s in a fresh process, against bare highspy's whole run of {sample['bare']:.2f} s"
        + (". The target is met." if ratio <= 1.5 else
           ". The target is missed: 1.5x bare leaves "
           f"{1.5 * sample['bare']:.2f} s, and imports, build, hand-over, HiGHS and results alone take "
           f"{sample['imports'] + sum(v for k, v in sample['stages'].items() if not k.startswith(('of it', 'plan', 'read', 'sample'))):.2f} s "
           "before the plan workbook with every sampled scenario's flows is written."),
        "",
        "Both sides of each ratio are whole processes (Python start-up included; the bare side imports only "
        "highspy, reads the MPS of the LP the pipeline hands to HiGHS and solves it with the same options). "
        "Playing a future costs a few warm re-solves of a small LP (re-planning solves only in periods whose "
        "forecast changed; calm futures reuse the calm plan). \"Playing\" starts once the workers are up: they "
        "import the stress module as they start (LocalCluster preload, since 2026-12-04; before, each worker's "
        "imports, about 0.6 s, fell in its first block of futures, and the ratio was 1.75x to 1.80x); the end-to-end "
        "row includes starting the cluster.",
        END,
    ]
    return "\n".join(lines)


def write(text: str, path: Path) -> None:
    current = path.read_text() if path.exists() else ""
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        current = before + text + after
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(current)
    (HERE / "stress.md").write_text(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--futures", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenarios", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stress-repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sample = sample_rows(args.scenarios, 1, Path(folder), args.repeats)
    stress = stress_rows(args.futures, args.seed, args.stress_repeats)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip() or "unknown"
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = section(stress, sample, when, commit)
    write(text, args.out)
    print(text)
    print(json.dumps({"stress": stress, "sample": sample}))


if __name__ == "__main__":
    main()
