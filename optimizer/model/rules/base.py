"""The one interface every policy rule implements, and the records the rules hand around.

A rule owns its meaning in its own module: which rows of the data it covers (named records with
stable ids), its constraints (`define`, formula in the docstring), its elastic relaxation and the
advice wording (`advise`), its report rows (`tables`, `shadow_prices`) and, for a cap on a share,
its hook for sweeps. Validation, building, results, explanation, frontier and compare go through
this interface and the registry in `rules/__init__.py`, never through a rule's internals.

Must not import the solving or analysis stages: the report hooks receive plain values (a duals dict,
a table of inflow values) from solving.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd
import pyomo.core as pyo

from ...inputs.data import SourcingData
from ...inputs.edits import CapKey
from ..tree import ScenarioTree

#: Columns of the explanation rows a rule's `advise` returns (explain adds `fix`).
ADVICE_COLUMNS = ("rule", "name", "material", "scenario", "period", "current", "relax_to", "unit", "advice")
#: Columns of the shadow-price rows a rule's `shadow_prices` returns.
PRICE_COLUMNS = ("rule", "name", "supplier", "material", "scenario", "period", "value", "unit", "meaning",
                 "input_row")


def row_id(sheet: str, row: int) -> str:
    """The stable id of an input row: its sheet and spreadsheet row number, e.g. 'origin_caps:3'.

    Joins between tables use it; display names are only displayed."""
    return f"{sheet}:{int(row)}"


class Relaxation(NamedTuple):
    """One relaxation variable of the elastic model.

    rule: the rule's name; instance: what it relaxes (the rule's own record or key, read back by the
    rule's `advise`); variable: v >= 0; weight: its objective weight, 100 / the rule's own value.
    """

    rule: str
    instance: Any
    variable: Any
    weight: float


class PathLimit(NamedTuple):
    """One limit a rule puts on a single scenario's path, in plain quantities, for code that plays a fixed
    plan through a future without the Pyomo model (analysis.stress).

    The sum over `period` (None: every period) of the inflow of `suppliers`' offers of `material` (when
    suppliers is None: of the material's unmet demand) is at most `limit`, in the material's unit.
    rule: the rule's name; name: the instance's readable name; input_row: its input row id, if any.
    """

    rule: str
    name: str
    input_row: str | None
    material: str
    period: str | None
    suppliers: frozenset | None
    limit: float


class Parameter(NamedTuple):
    """One right-hand side a user states (a cap's share, a floor, the budget, a capacity) as the shadow-price
    table reports it, with the constraints it moves, so that its shadow price and the range over which that
    price holds are read from the same rows (analysis.why re-solves along them).

    row: the shadow-price row's fields but `value` (PRICE_COLUMNS); moves: ((constraint, d rhs / d unit), ...)
    for one unit of the parameter in the direction its `meaning` states; sign: the reported value is
    sign x sum(dual x d rhs / d unit), -1 where the meaning is a saving, +1 where it is a cost; now: its
    value, in `unit`; lowest, highest: how far it can go (None: no limit); unit: 'percentage point' (the
    value then shown as a percentage), a material's unit or the currency.
    """

    row: dict
    moves: tuple
    sign: float
    now: float
    lowest: float | None
    highest: float | None
    unit: str


def priced(parameter: Parameter, duals: dict) -> dict:
    """The shadow-price row of a parameter: sign x sum(dual x d rhs / d unit), duals d objective / d rhs."""
    slope = sum(float(duals.get(con, 0.0)) * step for con, step in parameter.moves)
    return {**parameter.row, "value": parameter.sign * slope}


#: The cap a sweep or a `--cap` override names: `country` or `country:stage` (inputs.edits.parse_cap_key).
SweepKey = CapKey


@dataclass
class BuildContext:
    """What the rules read from the built decisions, worked out once per model.

    inflows: keys of model.inflow by (supplier, material), then by (node,) (see terms.inflows_by_offer);
    total_demand: material -> demand over the horizon; demand: (material, period) -> demand;
    period_of: node -> period label.
    """

    inflows: dict
    total_demand: dict
    demand: dict
    period_of: dict


def advice_row(rule: str, name: str, current: float, relax_to: float, unit: str, advice: str,
               material: str | None = None, scenario: str | None = None, period: str | None = None) -> dict:
    """One relaxed rule instance as explain shows it."""
    return {"rule": rule, "name": name, "material": material, "scenario": scenario, "period": period,
            "current": current, "relax_to": relax_to, "unit": unit, "advice": advice}


def objective_words(data: SourcingData) -> str:
    """What a shadow price moves: the expected cost, or with a CVaR weight the whole objective (a dual is
    d objective / d right-hand side, and the objective then holds the risk term too)."""
    weight = data.settings.cvar_weight
    return f"objective (expected cost + {weight:g} x CVaR)" if weight > 0 else "expected cost"


def share_text(value: float, against: float | None = None) -> str:
    """A share as percent to one decimal, or to as many (up to four) as it takes to differ from `against`
    (a rule's value and the value to relax it to: "from 95.70% to 95.74%", never "from 95.7% to 95.7%")."""
    decimals = 1
    while against is not None and decimals < 4 and f"{value:.{decimals}%}" == f"{against:.{decimals}%}":
        decimals += 1
    return f"{value:.{decimals}%}"


class Rule:
    """A policy rule. Subclasses set `name` and override the hooks that apply to them.

    name: the rule family as the elastic model and the explanation name it ("origin caps").
    """

    name: str = ""
    #: names of this rule's model components (variables and constraints) that tie materials together
    #: (a row over every material's cost); a decomposition across materials keeps them in its master problem
    linking: tuple[str, ...] = ()

    # --- data
    def present(self, data: SourcingData) -> bool:
        """Whether this instance states the rule at all (explain relaxes only present rules)."""
        return False

    # --- model
    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Add the rule's constraints; elastic: also its relaxation variables, appended to model.relaxations."""

    def path_limits(self, data: SourcingData, scenario: str | None) -> list[PathLimit]:
        """The rule's limits along one scenario's path (scenario None: a future the input does not name).

        The same rows, in the same order, for every scenario; only the limits may differ."""
        return []

    # --- explanation
    def advise(self, data: SourcingData, instance: Any, amount: float) -> dict:
        """The explanation row for relaxing `instance` (a Relaxation's) by `amount` (see advice_row)."""
        raise NotImplementedError

    def summarise(self, rows: list[dict]) -> list[str]:
        """Advice sentences for the rows `advise` made (a rule may merge several into one sentence)."""
        return [row["advice"] for row in rows]

    # --- results
    def tables(self, data: SourcingData, tree: ScenarioTree, inflow: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Report tables by result attribute (e.g. origin_shares), from the solved inflow values.

        inflow: one row per available (supplier, material, node) with its solved `quantity`."""
        return {}

    def parameters(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                   currency: str) -> list[Parameter]:
        """The right-hand sides the rule's rows state, one per row of the shadow-price table."""
        return []

    def shadow_prices(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, duals: dict,
                      currency: str) -> list[dict]:
        """Rows of the shadow-price table (PRICE_COLUMNS), from HiGHS's duals d objective / d rhs."""
        return [priced(parameter, duals) for parameter in self.parameters(model, data, tree, currency)]

    # --- sweeps (caps on a share only)
    def sweeps(self, key: SweepKey) -> bool:
        """Whether a sweep or a `--cap` naming `key` means this rule."""
        return False

    def sweep_problems(self, data: SourcingData, key: SweepKey) -> list[str]:
        """Why a cap for `key` cannot be added to this data (empty: it can)."""
        return []

    def swept(self, data: SourcingData, key: SweepKey) -> list:
        """The rule's records that a sweep of `key` moves together."""
        return []

    def swept_constraints(self, model: pyo.ConcreteModel, records: list) -> list:
        """The constraints whose right-hand sides hold those records' share."""
        return []

    def set_share(self, model: pyo.ConcreteModel, records: list, share: float) -> None:
        """Set the swept records' share in the model (mutable Params; re-solve warm after)."""
