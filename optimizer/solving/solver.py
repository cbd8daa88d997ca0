"""Hand the sourcing LP to HiGHS and run it.

Small models (below STANDARD_FORM_FROM variables) go through Pyomo's persistent APPSI
interface, larger ones through Pyomo's standard-form compiler straight into highspy.
Owns the solver: options, the termination check, and the process-wide lock
that keeps two solves from running at once (Pyomo redirects the process's
output streams during a HiGHS solve, and concurrent solves in threads of one
process can deadlock). Reading values is `results`' job, and only after the
status says the solve succeeded.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs


from .highs import SOLVE_LOCK, new_highs  # noqa: E402,F401  (re-exported: the lock and HiGHS maker live there)

OPTIMAL, INFEASIBLE, UNBOUNDED, TIME_LIMIT, NOT_SOLVED = (
    "optimal", "infeasible", "unbounded", "time limit", "not solved")

_STATUS = {
    TerminationCondition.optimal: OPTIMAL,
    TerminationCondition.infeasible: INFEASIBLE,
    TerminationCondition.unbounded: UNBOUNDED,
    TerminationCondition.infeasibleOrUnbounded: INFEASIBLE,
    TerminationCondition.maxTimeLimit: TIME_LIMIT,
}

#: HiGHS options used for every solve: its defaults (dual simplex, presolve on), measured against interior
#: point and other options in bench/results.md ("HiGHS options"), and a fixed seed so plans repeat.
HIGHS_OPTIONS: dict[str, object] = {"random_seed": 0}


class SolveStopped(RuntimeError):
    """HiGHS stopped without a proven answer (time limit, a refused model) where an analysis needs one:
    the command line's exit code 4. status is the solver status; the message says what to do."""

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


@contextlib.contextmanager
def quiet():
    """The process's stdout and stderr (the file descriptors HiGHS writes to from C++) sent to /dev/null
    for the duration: HiGHS's own messages (its banner, errors about values it refuses) never reach the
    user's terminal; what went wrong is said by the status and its message. Hold SOLVE_LOCK around it."""
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = []
    try:
        with open(os.devnull, "w") as null:
            for fd in (1, 2):
                try:
                    saved.append((fd, os.dup(fd)))
                    os.dup2(null.fileno(), fd)
                except OSError:  # no such descriptor (a daemon): nothing to silence
                    pass
            yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)


#: Said when HiGHS did not take the whole model (validation keeps every coefficient within its limits, so
#: this is a last line of defence, never a plan read from a partial model).
REFUSED = ("HiGHS refused the model: a coefficient or bound is beyond what it handles (matrix values above "
           "1e15, costs or bounds of 1e20 or more); no plan is reported. Check the magnitudes of the input.")


def refused_by_appsi(solver) -> bool:
    """APPSI adds rows and columns without checking HiGHS's answer: a refused batch leaves HiGHS with fewer
    rows or columns than the Pyomo model, and whatever it then solves is not the model."""
    highs = getattr(solver, "_solver_model", None)
    if highs is None:
        return False
    return (highs.getNumRow() != len(solver._pyomo_con_to_solver_con_map)
            or highs.getNumCol() != len(solver._pyomo_var_to_solver_var_map))


@dataclass
class SolverRun:
    """What the solver said: status, a sentence for the user, the objective, timings.

    handover_seconds: compiling the Pyomo model into HiGHS's arrays; solve_seconds: HiGHS itself.
    """

    status: str
    message: str
    objective: float | None = None
    solve_seconds: float = 0.0
    solver: str = "HiGHS"
    duals: dict = field(default_factory=dict, repr=False)
    handover_seconds: float = 0.0
    primal: "Primal | None" = field(default=None, repr=False)
    #: how it was solved: "monolithic" (one HiGHS solve) or "decomposed" (by material, see decomposition)
    method: str = "monolithic"
    #: the lower bound proved and the relative gap to it (column generation stops at a stated gap)
    bound: float | None = None
    gap: float = 0.0
    #: decomposed: the number of blocks and of pricing rounds
    blocks: int = 0
    rounds: int = 0


def value_never_seen(var) -> float:
    """The value of a variable HiGHS never saw (in no row and not in the objective, or fixed, which the
    standard-form compiler moves into the right-hand sides): a fixed one keeps its value, any other is
    reported at its lower bound (or 0). The one definition; results.decision_value and Primal.at use it."""
    return float(var.value) if var.fixed and var.value is not None else float(var.lb or 0.0)


@dataclass
class Primal:
    """HiGHS's primal values by column of the standard form, read without loading them into Pyomo.

    column_of: id(variable) -> column; a variable in no row and not in the objective has no column.
    handover: the serial number of the hand-over that numbered the columns (another numbers them anew).
    """

    values: np.ndarray
    column_of: dict
    variables: list = field(default_factory=list, repr=False)  # the columns' variables: keeps their ids valid
    handover: int = 0

    def columns(self, variables) -> np.ndarray:
        """The columns of these variables (-1 for one with none), to look up at every solve of a model."""
        return np.fromiter((self.column_of.get(id(v), -1) for v in variables), dtype=np.int64, count=len(variables))

    def at(self, columns, variables) -> np.ndarray:
        """Values of variables at their columns. One with no column is fixed (the compiler moved it into the
        right-hand sides) and keeps its value, or appears nowhere and is reported at its lower bound (or 0)."""
        out = np.asarray(self.values)[np.maximum(columns, 0)]
        for i in np.flatnonzero(columns < 0):
            out[i] = value_never_seen(variables[i])
        return out


@functools.cache
def solver_version() -> str:
    return f"HiGHS {new_highs().version()}"


def make_solver(time_limit: float | None = None, options: dict | None = None) -> Highs:
    """A persistent HiGHS solver that leaves loading values to the caller."""
    solver = Highs(only_child_vars=True)
    solver.config.load_solution = False
    solver.config.stream_solver = False
    if time_limit is not None:
        solver.config.time_limit = float(time_limit)
    solver.highs_options = {**HIGHS_OPTIONS, **(options or {})}
    return solver


def make_sweep_solver(time_limit: float | None = None, options: dict | None = None) -> Highs:
    """A persistent solver that only pushes changed mutable Params between solves (and keeps its basis)."""
    solver = make_solver(time_limit, options)
    update = solver.update_config
    update.check_for_new_or_removed_constraints = False
    update.check_for_new_or_removed_vars = False
    update.check_for_new_or_removed_params = False
    update.check_for_new_objective = False
    update.update_constraints = False
    update.update_vars = False
    update.update_named_expressions = False
    update.update_objective = False
    update.update_params = True
    return solver


def run_solver(model: pyo.ConcreteModel, solver: Highs) -> SolverRun:
    """Solve; load primal values and duals only when HiGHS proved optimality."""
    started = time.perf_counter()
    with SOLVE_LOCK, quiet():
        result = solver.solve(model)
    seconds = time.perf_counter() - started
    if refused_by_appsi(solver):
        return SolverRun(NOT_SOLVED, REFUSED, None, seconds)
    status = _STATUS.get(result.termination_condition, NOT_SOLVED)
    if status != OPTIMAL:
        return SolverRun(status, _status_message(status, result.termination_condition), None, seconds)
    result.solution_loader.load_vars()
    duals = dict(result.solution_loader.get_duals())
    # HiGHS's own objective: evaluating the Pyomo expression again costs more than the solve on sweeps.
    return SolverRun(OPTIMAL, "HiGHS proved the plan optimal.", float(result.best_feasible_objective),
                     seconds, duals=duals)


@dataclass
class StandardLP:
    """The LP as plain arrays, min cost x + offset s.t. row_lower <= A x <= row_upper, col_lower <= x <=
    col_upper (A a scipy CSC matrix): what HiGHS is given, and what a decomposition splits into blocks."""

    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: Any

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape


def compile_lp(model: pyo.ConcreteModel):
    """The model as a StandardLP, and the standard form that maps its rows and columns back to Pyomo
    (LinearStandardFormCompiler builds the sparse arrays in one pass)."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    form = LinearStandardFormCompiler().write(model, mixed_form=True)
    matrix = form.A.tocsc()
    n_rows, n_cols = matrix.shape
    sense = np.array([s for _, s in form.rows], dtype=int)
    rhs = np.asarray(form.rhs, dtype=float)
    # both bounds of a variable in one call (each of lb and ub works out the domain's bounds again); None,
    # no bound, becomes NaN here and then an infinite bound. The collector is paused: the (lb, ub) pairs,
    # one per column and freed at once, would otherwise start collections that scan the whole model.
    with PauseGC():
        bounds = np.array([v.bounds for v in form.columns], dtype=float).reshape(-1, 2)
    lp = StandardLP(
        cost=np.asarray(form.c.toarray()).ravel() if n_cols else np.zeros(0),
        offset=float(form.c_offset[0]) if len(form.c_offset) else 0.0,
        col_lower=np.where(np.isnan(bounds[:, 0]), -np.inf, bounds[:, 0]),
        col_upper=np.where(np.isnan(bounds[:, 1]), np.inf, bounds[:, 1]),
        row_lower=np.where(sense <= 0, rhs, -np.inf), row_upper=np.where(sense >= 0, rhs, np.inf),
        matrix=matrix)
    form.A = form.c = None  # the StandardLP holds what HiGHS needs
    return lp, form


def _scipy_without_stats() -> None:
    """Pyomo resolves its deferred scipy on the first import of scipy by anyone (the standard-form compiler,
    the decomposition's scipy.sparse), and its callback then imports scipy.stats, integrate and spatial:
    about 0.9 s, more than the bundled instance's whole solve. scipy loads its submodules when first used, so
    the callback is dropped (Pyomo 6.7 to 6.10 name it so; another Pyomo keeps its own behaviour)."""
    from pyomo.common import dependencies

    flag = getattr(vars(dependencies).get("scipy"), "_indicator_flag", None)
    if flag is not None and getattr(flag, "_module", "") is None and \
            getattr(flag, "_callback", None) is getattr(dependencies, "_finalize_scipy", ()):
        flag._callback = None


_scipy_without_stats()


def highs_of(lp: StandardLP, time_limit: float | None = None, options: dict | None = None):
    """A highspy.Highs holding the LP, with the solver's options (HIGHS_OPTIONS, then `options`)."""
    import highspy

    n_rows, n_cols = lp.shape
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = n_cols, n_rows
    model.col_cost_, model.offset_ = lp.cost, lp.offset
    model.col_lower_, model.col_upper_ = lp.col_lower, lp.col_upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = lp.matrix.indptr
    model.a_matrix_.index_ = lp.matrix.indices
    model.a_matrix_.value_ = lp.matrix.data
    model.integrality_ = [highspy.HighsVarType.kContinuous] * n_cols  # an empty array is read as garbage
    highs = new_highs()
    for key, value in {**HIGHS_OPTIONS, **(options or {})}.items():
        highs.setOptionValue(key, value)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    with SOLVE_LOCK, quiet():
        accepted = highs.passModel(model) != highspy.HighsStatus.kError
    return highs if accepted else None


def hand_over(model: pyo.ConcreteModel, time_limit: float | None = None, options: dict | None = None):
    """The model as a highspy.Highs ready to run, and the standard form that maps its rows and columns
    back to Pyomo: LinearStandardFormCompiler builds the sparse arrays in one pass and highspy takes
    them as they are (about half the hand-over of APPSI)."""
    lp, form = compile_lp(model)
    highs = highs_of(lp, time_limit, options)
    # HiGHS holds its own copy now: drop ours and give the compiler's freed memory back to the system
    # before the solve allocates its own (at a million columns this keeps peak memory about 0.6 GiB lower).
    # rows, columns and rhs stay: they map HiGHS's answer back to the Pyomo model.
    columns = lp.shape[1]
    del lp
    release_freed_memory(columns)
    return highs, form


#: Below this many columns what a trim gives back is a few MiB, and glibc's malloc_trim walks the whole heap:
#: 0.1 s in `sourcing solve --sample 200` (28k columns, a heap left fragmented by sampling and validating)
TRIM_FROM = 100_000


def release_freed_memory(columns: int | None = None) -> None:
    """Return memory that Python has freed to the operating system where the C library allows it (glibc's
    malloc_trim); elsewhere a no-op. columns: the LP's size, below TRIM_FROM nothing is done."""
    if columns is not None and columns < TRIM_FROM:
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def highs_status(highs) -> str:
    """The solver's status of a highspy.Highs that has run."""
    import highspy

    return {
        highspy.HighsModelStatus.kOptimal: OPTIMAL,
        highspy.HighsModelStatus.kInfeasible: INFEASIBLE,
        highspy.HighsModelStatus.kUnbounded: UNBOUNDED,
        highspy.HighsModelStatus.kUnboundedOrInfeasible: INFEASIBLE,
        highspy.HighsModelStatus.kTimeLimit: TIME_LIMIT,
    }.get(highs.getModelStatus(), NOT_SOLVED)


def not_solved(status: str, seconds: float) -> SolverRun:
    """The run of a solve that did not prove an optimum, with its sentence for the user."""
    return SolverRun(status, _status_message(status, TerminationCondition.unknown), None, seconds)


def solved(form, values: np.ndarray, row_duals, objective: float, seconds: float, column_of: dict,
           load: bool = True, handover: int = 0) -> SolverRun:
    """The run of an optimal solve, from the column values and row duals (d objective / d rhs) of the
    standard form's columns and rows, however they were found (one HiGHS solve or a decomposition)."""
    if load:
        for var, value in zip(form.columns, values.tolist()):
            var.set_value(value, skip_validation=True)
    duals: dict = {}
    for (constraint, _), dual in zip(form.rows, np.asarray(row_duals, dtype=float).tolist()):
        duals[constraint] = duals.get(constraint, 0.0) + dual  # a ranged row comes as two rows
    return SolverRun(OPTIMAL, "HiGHS proved the plan optimal.", objective, seconds, duals=duals,
                     primal=Primal(values, column_of, form.columns, handover))


def run_highs(highs, form, column_of: dict, load: bool = True, handover: int = 0) -> SolverRun:
    """Run HiGHS; read primal values and duals (d objective / d rhs) only when it proved optimality.

    column_of: id(variable) -> column of form (kept by the caller across solves); handover: its serial.
    load: also set the values on the Pyomo variables (a sweep point reads them from run.primal instead).
    """
    if highs is None:
        return SolverRun(NOT_SOLVED, REFUSED, None, 0.0)
    started = time.perf_counter()
    with SOLVE_LOCK, quiet():
        highs.run()
    seconds = time.perf_counter() - started
    status = highs_status(highs)
    if status != OPTIMAL:
        return not_solved(status, seconds)
    solution = highs.getSolution()
    values = np.asarray(solution.col_value, dtype=float)
    objective = float(highs.getInfo().objective_function_value)
    return solved(form, values, solution.row_dual, objective, seconds, column_of, load, handover)


#: Below this many variables the model goes to HiGHS through APPSI, whose set-up is quicker on small models;
#: from it the standard-form compiler's one pass (and reading values by column index rather than APPSI's
#: load into Pyomo at every re-solve) wins. Measured on the idle machine, solve() alone: 1,049 variables (the
#: bundled instance) APPSI 0.30 s, standard form 0.36 s; 10,193 (medium) APPSI 1.34 s, standard form 1.12 s,
#: and the medium 21-point curve 3.79 s against 2.96 s.
STANDARD_FORM_FROM = 5_000

_HANDOVERS = itertools.count(1)


class HandedOver:
    """The model handed over to HiGHS once, solved as often as needed; warm re-solves keep the basis.

    Large models go through the standard-form compiler and highspy (see hand_over), small ones through
    APPSI. To change mutable Params between solves, `track` the constraints whose bounds they enter
    first and `refresh` after changing them: the standard-form path recomputes those rows' bounds from
    the Pyomo constraints and changes them in HiGHS (APPSI pushes changed Params by itself).
    """

    def __init__(self, model: pyo.ConcreteModel, time_limit: float | None = None, options: dict | None = None):
        started = time.perf_counter()
        self.model = model
        self.serial = next(_HANDOVERS)
        self.appsi = model.nvariables() < STANDARD_FORM_FROM
        if self.appsi:
            self.solver = make_sweep_solver(time_limit, options)
            with SOLVE_LOCK, quiet():  # APPSI captures the process's output streams here too
                self.solver.set_instance(model)
        else:
            self.highs, self.form = hand_over(model, time_limit, options)
            self._tracked: list = []
            self._column_of: dict | None = None
        self.handover_seconds = time.perf_counter() - started

    def track(self, constraints) -> None:
        """Remember these constraints' rows (besides any tracked before), to `refresh` after their Params
        change. Call before changing them: a row's bound is the constraint's bound less the constant the
        compiler moved out of its body (so only bounds, not bodies, may hold the Params that change)."""
        if self.appsi:
            return
        rows_of: dict = {}
        for j, (con, sense) in enumerate(self.form.rows):
            rows_of.setdefault(con, []).append((j, sense))
        for con in constraints:
            for j, sense in rows_of.get(con, ()):
                bound = con.upper if sense > 0 else con.lower
                self._tracked.append((j, sense, con, float(self.form.rhs[j]) - pyo.value(bound)))

    def refresh(self) -> None:
        """Bring the tracked rows' bounds in HiGHS up to date with the Params they contain."""
        if self.appsi or not self._tracked or self.highs is None:
            return
        index, lower, upper = [], [], []
        for j, sense, con, offset in self._tracked:
            index.append(j)
            lower.append(-np.inf if sense > 0 else pyo.value(con.lower) + offset)
            upper.append(np.inf if sense < 0 else pyo.value(con.upper) + offset)
        self.highs.changeRowsBounds(len(index), np.array(index, dtype=np.int32),
                                    np.array(lower, dtype=float), np.array(upper, dtype=float))

    def solve(self, load: bool = True) -> SolverRun:
        """Solve from where the last solve left off. load=False leaves the Pyomo variables alone on the
        standard-form path (results read run.primal); APPSI always loads them."""
        if self.appsi:
            run = run_solver(self.model, self.solver)
        else:
            if self._column_of is None:
                self._column_of = {id(var): j for j, var in enumerate(self.form.columns)}
            run = run_highs(self.highs, self.form, self._column_of, load, self.serial)
        run.handover_seconds = self.handover_seconds
        return run

    def close(self) -> None:
        """Let go of the solver and give its memory back to the system (a one-off solve does this before
        its results are made; at a million columns HiGHS holds about a gigabyte)."""
        self.highs = self.solver = None
        release_freed_memory(0 if self.appsi else len(self.form.columns))  # APPSI: below STANDARD_FORM_FROM


def solve_once(model: pyo.ConcreteModel, time_limit: float | None = None,
               options: dict | None = None) -> SolverRun:
    """One solve, timed in its two parts (hand-over and HiGHS)."""
    handed = HandedOver(model, time_limit, options)
    run = handed.solve()
    handed.close()
    return run


def _status_message(status: str, condition: TerminationCondition) -> str:
    if status == INFEASIBLE:
        return "No plan meets every rule: the policy is infeasible for this data."
    if status == UNBOUNDED:
        return "The cost can fall without limit: some cost is negative and nothing bounds it."
    if status == TIME_LIMIT:
        return "HiGHS stopped at the time limit before proving a plan optimal; no plan is reported."
    return f"HiGHS stopped without a proven optimum ({condition.name}); no plan is reported."
