"""Solve the sourcing LP by blocks: one LP per material (the whole scenario tree kept in each), in parallel.

Materials are tied together only by the rules that declare `linking` components (model/rules/: the CVaR
rows over each scenario's whole cost and the budget on the expected cost). The compiled LP is split on its
structure: the linking rows and columns aside, the rest falls apart into independent blocks (one per
material), found as the connected components of the constraint matrix.

- No linking rows (risk neutral, no budget, no CVaR cap): each block is solved on its own and the answers
  are put side by side. The blocks' optima add up to the monolithic optimum, and their row duals are duals
  of the whole LP.
- Linking rows: Dantzig-Wolfe column generation. The master holds the linking rows and columns (value at
  risk, cost excesses), one convexity row per block, and the blocks' proposals (each a plan of that block,
  weighted by lambda >= 0); each block's subproblem is its own LP with costs c - A_link' pi priced by the
  master's duals pi, re-solved warm in HiGHS (only `changeColsCost` between rounds). Every round gives a
  Lagrangian lower bound L(pi); the master's objective is an upper bound (a feasible plan); it stops when
  (upper - lower) / max(1, |upper|) <= gap. Duals of the linking rows are the master's, the blocks' rows'
  those of the last pricing round (priced at those very duals), which together are a dual solution of the
  whole LP whose objective is the bound proved.

The blocks are plain arrays, solved by `Executor` workers that keep each block's HiGHS between rounds
(`worker_cache`); only `solve_decomposed` sees the Pyomo model, to compile it and map the answer back.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from .highs import SOLVE_LOCK
from .solver import (INFEASIBLE, NOT_SOLVED, OPTIMAL, REFUSED, TIME_LIMIT, SolverRun, StandardLP, compile_lp, highs_of, highs_status,
                     not_solved, release_freed_memory, solved)

#: relative gap (upper - lower) / max(1, |upper|) at which column generation stops
DEFAULT_GAP = 1e-7
#: the status of a block whose LP HiGHS would not take (passModel refused it); reported as REFUSED
REFUSED_BLOCK = "refused"

#: cost of one unit of an artificial column in the master (keeps it feasible before the proposals can meet
#: a budget or CVaR cap); above any shadow price a linking row of this model can have (they are in money per
#: unit of money), so that at the optimum the artificial columns are zero when the LP is feasible
ARTIFICIAL_COST = 1e6
#: a decomposed solve without an executor solves its blocks in processes forked from this one, one per core,
#: each keeping its blocks' HiGHS for the warm rounds, from this many columns of the whole LP (forking costs
#: about 20 ms; a round's costs and answers cross a pipe; measured in bench/notes.md)
FORK_FROM = 50_000

#: blocks smaller than this many columns are solved together (a column in no block row, say)
SMALL_BLOCK = 64


@dataclass
class Blocks:
    """The LP split into blocks: linking rows and columns, and for each block its columns and rows."""

    linking_rows: np.ndarray
    linking_columns: np.ndarray
    columns: list[np.ndarray]
    rows: list[np.ndarray]

    @property
    def count(self) -> int:
        return len(self.columns)


def connected_components(n_nodes: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Component labels of an undirected graph of n_nodes nodes with edges first[k] -- second[k], numbered
    as scipy's csgraph.connected_components numbers them (in the order of each component's lowest node).

    Each node points at the lowest node it is known to share a component with; every edge lowers the
    pointers at its ends to the lower of their targets, and pointers are followed to their ends, until both
    ends of every edge point at the same node (the component's lowest). Done here in NumPy because
    importing scipy.sparse.csgraph imports scipy.sparse.linalg and scipy.linalg, which took longer than
    the whole split at sample 200 of the bundled instance."""
    lowest = np.arange(n_nodes)
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    while True:
        at_first, at_second = lowest[first], lowest[second]
        if np.array_equal(at_first, at_second):
            break
        lower = np.minimum(at_first, at_second)
        np.minimum.at(lowest, at_first, lower)
        np.minimum.at(lowest, at_second, lower)
        while True:  # follow the pointers to their ends
            further = lowest[lowest]
            if np.array_equal(further, lowest):
                break
            lowest = further
    return np.unique(lowest, return_inverse=True)[1].reshape(-1)


def split(lp: StandardLP, linking_rows: np.ndarray, linking_columns: np.ndarray) -> Blocks:
    """The connected components of the constraint matrix without the linking rows and columns.

    linking_rows, linking_columns: boolean masks."""
    n_rows, n_cols = lp.shape
    coo = lp.matrix.tocoo()
    keep = ~linking_rows[coo.row] & ~linking_columns[coo.col]
    rows, cols = coo.row[keep], coo.col[keep]
    label = connected_components(n_rows + n_cols, rows, n_rows + cols)
    column_label = label[n_rows:]
    row_label = label[:n_rows]
    free_columns = np.flatnonzero(~linking_columns)
    order = np.argsort(column_label[free_columns], kind="stable")
    labels, starts = np.unique(column_label[free_columns][order], return_index=True)
    groups = np.split(free_columns[order], starts[1:]) if len(labels) else []
    big = [g for g in groups if len(g) >= SMALL_BLOCK]
    small = [g for g in groups if len(g) < SMALL_BLOCK]
    if small:
        big.append(np.sort(np.concatenate(small)))
    block_of_label = {}
    for b, g in enumerate(big):
        for lab in np.unique(column_label[g]):
            block_of_label[int(lab)] = b
    free_rows = np.flatnonzero(~linking_rows)
    row_block = np.array([block_of_label.get(int(lab), -1) for lab in row_label[free_rows]], dtype=np.int64)
    block_rows = [free_rows[row_block == b] for b in range(len(big))]
    # a non-linking row none of whose columns is in a block (an empty row) is left out: it constrains nothing
    return Blocks(np.flatnonzero(linking_rows), np.flatnonzero(linking_columns), big, block_rows)


def block_lp(lp: StandardLP, columns: np.ndarray, rows: np.ndarray) -> dict:
    """One block's LP as plain arrays (what a worker builds its HiGHS from)."""
    sub = lp.matrix[:, columns][rows, :].tocsc()
    return {"cost": lp.cost[columns], "col_lower": lp.col_lower[columns], "col_upper": lp.col_upper[columns],
            "row_lower": lp.row_lower[rows], "row_upper": lp.row_upper[rows],
            "indptr": sub.indptr, "indices": sub.indices, "data": sub.data, "shape": sub.shape}


# --------------------------------------------------------------------------- workers

def _load_blocks(source):
    if isinstance(source, str):  # a file the caller wrote (local workers)
        import pickle

        with open(source, "rb") as handle:
            return pickle.load(handle)
    return source


def _block_highs(spec: dict, options: dict):
    from scipy.sparse import csc_matrix

    from .solver import StandardLP

    lp = StandardLP(spec["cost"], 0.0, spec["col_lower"], spec["col_upper"], spec["row_lower"], spec["row_upper"],
                    csc_matrix((spec["data"], spec["indices"], spec["indptr"]), shape=spec["shape"]))
    return highs_of(lp, None, options)


def solve_block(shared: dict, item: tuple) -> dict:
    """Solve block `index` with these costs (None: its own) in this worker's HiGHS of it, warm from its last
    solve there. shared: {"token", "source" (the blocks, or a file holding them), "options"}."""
    from .executor import worker_cache

    index, cost, time_limit = item
    cache = worker_cache(("decomposition", shared["token"]), dict)
    if "blocks" not in cache:
        cache["blocks"] = _load_blocks(shared["source"])
    highs = cache.get(index)
    if highs is None:
        highs = _block_highs(cache["blocks"][index], shared["options"])
        if highs is None:  # passModel refused the block (a value beyond what HiGHS takes)
            return {"status": REFUSED_BLOCK}
        cache[index] = highs
    if cost is not None:
        n = len(cost)
        highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))
    highs.setOptionValue("time_limit", float(time_limit) if time_limit is not None else float("inf"))
    with SOLVE_LOCK:
        highs.run()
    status = highs_status(highs)
    if status != OPTIMAL:
        return {"status": status}
    solution = highs.getSolution()
    return {"status": OPTIMAL, "values": np.asarray(solution.col_value, dtype=float),
            "row_duals": np.asarray(solution.row_dual, dtype=float),
            "objective": float(highs.getInfo().objective_function_value),
            "iterations": int(highs.getInfo().simplex_iteration_count)}


#: what the forked processes read (set in this process just before forking)
_FORKED: dict | None = None


def _fork_pays(columns: int, blocks: int) -> bool:
    """Whether the blocks are solved in forked processes: a large LP, two cores or more, and this process
    running no other thread (executor.can_fork)."""
    from .executor import can_fork

    return columns >= FORK_FROM and blocks >= 2 and can_fork()


def _serve(connection) -> None:
    """A forked process's loop: lists of blocks to solve in, their answers (or the exception) out."""
    shared = _FORKED
    while True:
        try:
            items = connection.recv()
        except EOFError:
            return
        if items is None:
            return
        try:
            connection.send([solve_block(shared, item) for item in items])
        except BaseException as error:  # noqa: BLE001 - raised again in the parent
            connection.send(error)


class _Forked:
    """Processes forked from this one, one per core, each owning a fixed set of blocks for the whole solve:
    a block is always re-solved warm in the process that solved it last, in the same order as in this
    process, so the answers are the ones an in-process solve gives. Used like an in-process Executor."""

    in_process = True
    scheduler = None

    def __init__(self, shared: dict, sizes: list[int]):
        import multiprocessing

        from .executor import default_workers

        global _FORKED
        count = min(default_workers(), len(sizes))
        # the largest blocks first, each to the least loaded process
        load = [0] * count
        self.owner = [0] * len(sizes)
        for block in sorted(range(len(sizes)), key=lambda b: (-sizes[b], b)):
            self.owner[block] = load.index(min(load))
            load[self.owner[block]] += sizes[block]
        context = multiprocessing.get_context("fork")
        self.connections, self.processes = [], []
        _FORKED = shared
        try:
            for _ in range(count):
                mine, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(theirs,), daemon=True)
                process.start()
                theirs.close()
                self.connections.append(mine)
                self.processes.append(process)
        except BaseException:
            self.close()
            raise
        finally:
            _FORKED = None

    def map(self, fn, items: list, shared=None) -> list:
        """[solve_block(shared, item) for item in items], each item in the process owning its block."""
        batches: list[list] = [[] for _ in self.connections]
        for position, item in enumerate(items):
            batches[self.owner[item[0]]].append((position, item))
        for connection, batch in zip(self.connections, batches):
            if batch:
                connection.send([item for _, item in batch])
        out: list = [None] * len(items)
        for connection, batch in zip(self.connections, batches):
            if not batch:
                continue
            try:
                answers = connection.recv()
            except EOFError:
                raise RuntimeError("a process solving the blocks stopped (out of memory?)") from None
            if isinstance(answers, BaseException):
                raise answers
            for (position, _), answer in zip(batch, answers):
                out[position] = answer
        return out

    def close(self) -> None:
        for connection in self.connections:
            try:
                connection.send(None)
                connection.close()
            except OSError:
                pass
        from .executor import join_or_terminate

        join_or_terminate(self.processes)


# --------------------------------------------------------------------------- the method

@dataclass
class Decomposed:
    """The answer of a decomposed solve, on the whole LP's columns and rows.

    bound: the lower bound proved (equal to objective without linking rows); gap: (objective - bound) /
    max(1, |objective|); rounds: pricing rounds (1 without linking rows).
    """

    status: str
    objective: float | None = None
    values: np.ndarray | None = field(default=None, repr=False)
    row_duals: np.ndarray | None = field(default=None, repr=False)
    bound: float | None = None
    gap: float = 0.0
    rounds: int = 0
    blocks: int = 0
    seconds: float = 0.0


class _Source:
    """Where workers find the blocks: a temporary file for local workers (read once each), the blocks
    themselves for a remote cluster."""

    def __init__(self, specs: list[dict], executor):
        self.path = None
        if executor is None or getattr(executor, "scheduler", None) is None:
            if executor is None or getattr(executor, "in_process", True):
                self.source = specs
                return
            import pickle

            handle, self.path = tempfile.mkstemp(prefix=".sourcing-blocks-", suffix=".pkl")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(specs, out, protocol=pickle.HIGHEST_PROTOCOL)
            self.source = self.path
        else:
            self.source = specs

    def close(self) -> None:
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _run_map(executor, shared: dict, items: list) -> list:
    if executor is None:
        return [solve_block(shared, item) for item in items]
    return executor.map(solve_block, items, shared=shared)


def solve_blocks(lp: StandardLP, blocks: Blocks, executor=None, time_limit: float | None = None,
                 options: dict | None = None, gap: float = DEFAULT_GAP, max_rounds: int = 5000,
                 fork: bool = False) -> Decomposed:
    """Solve the LP block by block (column generation over the blocks when there are linking rows).

    fork: without an executor, solve the blocks in forked processes when it pays (see FORK_FROM)."""
    started = time.perf_counter()
    specs = [block_lp(lp, c, r) for c, r in zip(blocks.columns, blocks.rows)]
    source = _Source(specs, executor)
    shared = {"token": uuid.uuid4().hex, "source": source.source, "options": dict(options or {})}
    forked = None
    try:
        if executor is None and fork and _fork_pays(lp.shape[1], blocks.count):
            executor = forked = _Forked(shared, [len(c) for c in blocks.columns])
        if len(blocks.linking_rows) == 0 and len(blocks.linking_columns) == 0:
            return _independent(lp, blocks, executor, shared, time_limit, started)
        return _column_generation(lp, blocks, specs, executor, shared, time_limit, gap, max_rounds, started)
    finally:
        if forked is not None:
            forked.close()
        source.close()
        _forget(executor, shared)


def _forget(executor, shared: dict) -> None:
    """Drop this solve's HiGHS objects from the caller's process (workers' caches keep only the latest few)."""
    from . import executor as executor_module

    executor_module._CACHE.pop(("decomposition", shared["token"]), None)


def _remaining(time_limit: float | None, started: float) -> float | None:
    return None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - started))


def _independent(lp, blocks, executor, shared, time_limit, started) -> Decomposed:
    answers = _run_map(executor, shared, [(b, None, time_limit) for b in range(blocks.count)])
    failed = _failure(answers)
    if failed:
        return Decomposed(failed, blocks=blocks.count, seconds=time.perf_counter() - started)
    values = np.zeros(lp.shape[1])
    duals = np.zeros(lp.shape[0])
    for b, answer in enumerate(answers):
        values[blocks.columns[b]] = answer["values"]
        duals[blocks.rows[b]] = answer["row_duals"]
    objective = float(lp.cost @ values) + lp.offset
    return Decomposed(OPTIMAL, objective, values, duals, objective, 0.0, 1, blocks.count,
                      time.perf_counter() - started)


def _failure(answers: list[dict]) -> str | None:
    """The whole LP's status when a block did not reach an optimum: infeasible if any block is (the whole LP
    has no plan then), else the first other status."""
    statuses = [a["status"] for a in answers]
    if all(s == OPTIMAL for s in statuses):
        return None
    if REFUSED_BLOCK in statuses:  # nothing is known of that block: say so, as the monolithic solve does
        return REFUSED_BLOCK
    if INFEASIBLE in statuses:
        return INFEASIBLE
    return next(s for s in statuses if s != OPTIMAL)


class _Master:
    """The restricted master LP of column generation, in HiGHS: linking columns, two artificial columns
    per linking row, and the proposals; linking rows, then one convexity row per block."""

    def __init__(self, lp: StandardLP, blocks: Blocks, options: dict | None):
        import highspy
        from scipy.sparse import csc_matrix

        from .solver import new_highs

        self.highspy = highspy
        link_rows, link_cols = blocks.linking_rows, blocks.linking_columns
        self.n_link = len(link_rows)
        self.n_blocks = blocks.count
        n_rows = self.n_link + self.n_blocks
        linking = lp.matrix[link_rows, :].tocsc()
        self.linking = linking  # linking rows x all columns, to price blocks and make proposals' columns
        sub = linking[:, link_cols].tocsc()
        highs = new_highs()
        for key, value in options.items():
            highs.setOptionValue(key, value)
        lower = np.concatenate([lp.row_lower[link_rows], np.ones(self.n_blocks)])
        upper = np.concatenate([lp.row_upper[link_rows], np.ones(self.n_blocks)])
        highs.addRows(n_rows, lower, upper, 0, np.array([], dtype=np.int32), np.array([], dtype=np.int32),
                      np.array([], dtype=float))
        if len(link_cols):
            highs.addCols(len(link_cols), lp.cost[link_cols], lp.col_lower[link_cols], lp.col_upper[link_cols],
                          sub.nnz, sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
        k = self.n_link
        art = csc_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                          (np.concatenate([np.arange(k), np.arange(k)]), np.arange(2 * k))), shape=(n_rows, 2 * k))
        highs.addCols(2 * k, np.full(2 * k, ARTIFICIAL_COST), np.zeros(2 * k), np.full(2 * k, np.inf),
                      art.nnz, art.indptr[:-1].astype(np.int32), art.indices.astype(np.int32), art.data)
        self.n_fixed = len(link_cols) + 2 * k
        self.n_link_cols = len(link_cols)
        self.highs = highs
        self.proposals: list[tuple[int, np.ndarray]] = []  # (block, the block's column values)

    def add(self, block: int, columns: np.ndarray, values: np.ndarray, cost: float) -> None:
        """A proposal of `block` (its values on its columns) as a master column."""
        coefficients = self.linking[:, columns] @ values
        index = np.flatnonzero(np.abs(coefficients) > 0)
        index = np.append(index, self.n_link + block).astype(np.int32)
        data = np.append(coefficients[index[:-1]], 1.0)
        self.highs.addCol(float(cost), 0.0, np.inf, len(index), index, data)
        self.proposals.append((block, values))

    def solve(self) -> tuple[str, float, np.ndarray, np.ndarray]:
        with SOLVE_LOCK:
            self.highs.run()
        status = highs_status(self.highs)
        if status != OPTIMAL:
            return status, np.nan, np.zeros(0), np.zeros(0)
        solution = self.highs.getSolution()
        return (OPTIMAL, float(self.highs.getInfo().objective_function_value),
                np.asarray(solution.row_dual, dtype=float), np.asarray(solution.col_value, dtype=float))


def _column_generation(lp, blocks, specs, executor, shared, time_limit, gap, max_rounds, started) -> Decomposed:
    options = dict(shared["options"])
    master = _Master(lp, blocks, {**_master_options(), **options})
    link_rows, link_cols = blocks.linking_rows, blocks.linking_columns
    # first proposals: each block at its own costs
    answers = _run_map(executor, shared, [(b, None, _remaining(time_limit, started)) for b in range(blocks.count)])
    failed = _failure(answers)
    if failed:
        return Decomposed(failed, blocks=blocks.count, seconds=time.perf_counter() - started)
    for b, answer in enumerate(answers):
        master.add(b, blocks.columns[b], answer["values"], float(specs[b]["cost"] @ answer["values"]))
    best_bound, rounds = -np.inf, 0
    last_block_duals = None
    while True:
        status, upper, row_duals, column_values = master.solve()
        if status != OPTIMAL:  # cannot happen with the artificial columns; be honest if it does
            return Decomposed(status, blocks=blocks.count, rounds=rounds, seconds=time.perf_counter() - started)
        pi = row_duals[:master.n_link]
        mu = row_duals[master.n_link:]
        remaining = _remaining(time_limit, started)
        if remaining is not None and remaining <= 0:
            return Decomposed(TIME_LIMIT, blocks=blocks.count, rounds=rounds, seconds=time.perf_counter() - started)
        priced = lp.cost - master.linking.T @ pi
        answers = _run_map(executor, shared, [(b, priced[blocks.columns[b]], remaining) for b in range(blocks.count)])
        rounds += 1
        failed = _failure(answers)
        if failed:
            return Decomposed(TIME_LIMIT if failed == TIME_LIMIT else failed, blocks=blocks.count, rounds=rounds,
                              seconds=time.perf_counter() - started)
        bound = _lagrangian_bound(lp, blocks, pi, priced, answers)
        if bound > best_bound:
            best_bound = bound
        artificial = column_values[master.n_link_cols:master.n_fixed]
        feasible = float(artificial.sum()) <= 1e-9 * max(1.0, float(np.abs(lp.row_upper[np.isfinite(lp.row_upper)]).max(initial=1.0)))
        last_block_duals = [a["row_duals"] for a in answers]
        relative = (upper - best_bound) / max(1.0, abs(upper))
        added = 0
        for b, answer in enumerate(answers):
            if answer["objective"] - mu[b] < -1e-9 * max(1.0, abs(upper)):
                master.add(b, blocks.columns[b], answer["values"], float(specs[b]["cost"] @ answer["values"]))
                added += 1
        if relative <= gap or added == 0 or rounds >= max_rounds:
            break
    if not feasible:
        # the proposals cannot meet the linking rows without the artificial columns: there is no plan
        return Decomposed(INFEASIBLE, blocks=blocks.count, rounds=rounds, seconds=time.perf_counter() - started)
    values = np.zeros(lp.shape[1])
    values[link_cols] = column_values[:master.n_link_cols]
    weights = column_values[master.n_fixed:]
    for (b, proposal), weight in zip(master.proposals, weights):
        if weight != 0.0:
            values[blocks.columns[b]] += weight * proposal
    duals = np.zeros(lp.shape[0])
    duals[link_rows] = pi
    for b, block_duals in enumerate(last_block_duals):
        duals[blocks.rows[b]] = block_duals
    objective = float(lp.cost @ values) + lp.offset
    bound = best_bound + lp.offset
    return Decomposed(OPTIMAL, objective, values, duals, bound, (objective - bound) / max(1.0, abs(objective)),
                      rounds, blocks.count, time.perf_counter() - started)


def _master_options() -> dict:
    from .solver import HIGHS_OPTIONS

    return dict(HIGHS_OPTIONS)


def _lagrangian_bound(lp: StandardLP, blocks: Blocks, pi: np.ndarray, priced: np.ndarray, answers: list) -> float:
    """L(pi) = sum_i pi_i * (the bound of linking row i that pi's sign selects) + min over the linking
    columns' bounds of their priced costs + each block's priced optimum: a lower bound on the LP's optimum
    for any pi of the right signs (the master's duals have them)."""
    lower, upper = lp.row_lower[blocks.linking_rows], lp.row_upper[blocks.linking_rows]
    tiny = 1e-12
    bound = 0.0
    for p, lo, up in zip(pi.tolist(), lower.tolist(), upper.tolist()):
        if p > tiny:
            bound += p * lo if np.isfinite(lo) else -np.inf
        elif p < -tiny:
            bound += p * up if np.isfinite(up) else -np.inf
    cols = blocks.linking_columns
    reduced = priced[cols]
    scale = max(1.0, float(np.abs(lp.cost[cols]).max(initial=0.0)))
    for r, lo, up in zip(reduced.tolist(), lp.col_lower[cols].tolist(), lp.col_upper[cols].tolist()):
        if r > 1e-9 * scale:
            bound += r * lo if np.isfinite(lo) else -np.inf
        elif r < -1e-9 * scale:
            bound += r * up if np.isfinite(up) else -np.inf
    return bound + sum(a["objective"] for a in answers)


# --------------------------------------------------------------------------- the model

def linking_names() -> set[str]:
    """The model components that tie materials together, as the rules declare them."""
    from ..model.rules import RULES

    return {name for rule in RULES for name in rule.linking}


def split_model(lp: StandardLP, form) -> Blocks:
    """The compiled model's blocks: its linking rows and columns are those of the rules' linking components."""
    names = linking_names()
    linking: dict[int, bool] = {}  # by component: a component's full name costs more than the rest of the split

    def of_linking(data) -> bool:
        component = data.parent_component()
        found = linking.get(id(component))
        if found is None:
            found = linking[id(component)] = component.name in names
        return found

    linking_rows = np.fromiter((of_linking(con) for con, _ in form.rows), dtype=bool, count=len(form.rows))
    linking_columns = np.fromiter((of_linking(var) for var in form.columns), dtype=bool, count=len(form.columns))
    return split(lp, linking_rows, linking_columns)


def solve_decomposed(model, time_limit: float | None = None, options: dict | None = None, executor=None,
                     gap: float = DEFAULT_GAP, load: bool = True, fork: bool = False) -> SolverRun:
    """Compile the model, solve it by material (see the module's docstring) and map the answer back: a
    SolverRun like a monolithic solve's, with method "decomposed", the bound proved and the gap."""
    started = time.perf_counter()
    lp, form = compile_lp(model)
    blocks = split_model(lp, form)
    handover = time.perf_counter() - started
    answer = solve_blocks(lp, blocks, executor, time_limit, options, gap, fork=fork)
    columns = lp.shape[1]
    del lp
    release_freed_memory(columns)
    if answer.status == REFUSED_BLOCK:
        run = SolverRun(NOT_SOLVED, REFUSED, None, answer.seconds)
    elif answer.status != OPTIMAL:
        run = not_solved(answer.status, answer.seconds)
    else:
        column_of = {id(var): j for j, var in enumerate(form.columns)}
        run = solved(form, answer.values, answer.row_duals, answer.objective, answer.seconds, column_of, load)
        run.message = ("HiGHS proved the plan optimal." if answer.rounds <= 1 else
                       f"Optimal within a relative gap of {max(answer.gap, 0.0):.1e} (bound {answer.bound:,.2f}).")
    run.handover_seconds = handover
    run.method, run.bound, run.gap = "decomposed", answer.bound, max(answer.gap, 0.0)
    run.blocks, run.rounds = answer.blocks, answer.rounds
    return run
