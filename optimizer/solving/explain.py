"""Why there is no plan: which policy rules conflict and how far each must move.

Solves the elastic model (model.build with `elastic`): each policy rule gets
a relaxation variable and the objective is the total relaxation, in percent of
each rule's value; physical balances and capacities stay hard. Each family of
rules is first relaxed alone (one fix per family: "relax the cap to 34%, or the
floor to 68%"); when no family alone is enough, all are relaxed together.
The wording of each fix is its rule's (model/rules/, `advise` and `summarise`).
"""

from __future__ import annotations

import pandas as pd

from ..inputs.data import SourcingData
from ..model import build
from ..model.rules import RULES, rule_named
from ..model.rules.base import ADVICE_COLUMNS
from .solver import INFEASIBLE, OPTIMAL, SolveStopped, make_solver, run_solver

TOLERANCE = 1e-7
COLUMNS = ["fix", *ADVICE_COLUMNS]


def present_rules(data: SourcingData) -> list[str]:
    """The policy rules this instance actually states."""
    return [rule.name for rule in RULES if rule.present(data)]


def _relaxed(data: SourcingData, rules: frozenset[str]) -> list[dict] | None:
    """The relaxations the elastic model needs, one dict per relaxed rule instance (None: still infeasible)."""
    built = build(data, elastic=rules)
    run = run_solver(built.model, make_solver(data.settings.time_limit))
    if run.status not in (OPTIMAL, INFEASIBLE):
        raise SolveStopped(run.status, run.message)
    if run.status != OPTIMAL:
        return None
    rows = []
    for relaxation in built.model.relaxations:
        amount = float(relaxation.variable.value or 0.0)
        if amount > TOLERANCE:
            rows.append(rule_named(relaxation.rule).advise(data, relaxation.instance, amount))
    return rows


def explain_infeasibility(data: SourcingData) -> tuple[str, pd.DataFrame]:
    """A sentence for the user and the table of fixes (column `fix`: which alternative a row belongs to)."""
    try:
        return _explain(data)
    except SolveStopped as stopped:
        return (f"No plan meets every rule. Finding which rules to relax stopped without a proven answer: "
                f"{stopped}"), pd.DataFrame(columns=COLUMNS)


def _explain(data: SourcingData) -> tuple[str, pd.DataFrame]:
    rules = present_rules(data)
    if not rules:
        return ("No plan exists and the instance states no policy rule to relax; check capacities, "
                "availabilities and demand."), pd.DataFrame(columns=COLUMNS)
    fixes: list[tuple[str, list[dict]]] = []
    not_enough = []
    for rule in rules:
        relaxed = _relaxed(data, frozenset([rule]))
        if relaxed is None:
            not_enough.append(rule)
        elif relaxed:
            fixes.append((f"{rule} alone", relaxed))
    together = not fixes
    if together:
        relaxed = _relaxed(data, frozenset(rules))
        if relaxed is None:
            return ("No plan exists even with every policy rule relaxed; the balances and capacities themselves "
                    "cannot be met."), pd.DataFrame(columns=COLUMNS)
        fixes.append(("together", relaxed))
    rows = [dict(row, fix=name) for name, relaxed in fixes for row in relaxed]
    table = pd.DataFrame(rows, columns=COLUMNS)
    if together:
        lines = ["No plan meets every rule, and no single kind of rule relaxed alone is enough. Relaxed together:"]
        lines += [f"  - {text}" for text in summarise(fixes[0][1])]
    else:
        lines = ["No plan meets every rule. Any one of these would give a plan:"]
        for i, (_, relaxed) in enumerate(fixes, start=1):
            lines.append(f"  {i}. " + "; ".join(summarise(relaxed)))
        if not_enough:
            lines.append("Relaxing only the " + " or only the ".join(not_enough) + " is not enough.")
    return "\n".join(lines), table


def summarise(relaxed: list[dict]) -> list[str]:
    """Advice sentences, each rule's in its own words (a rule may merge rows: one sentence per material)."""
    out = []
    for rule in RULES:
        mine = [row for row in relaxed if row["rule"] == rule.name]
        if mine:
            out += rule.summarise(mine)
    return out
