"""Why there is no plan: which policy rules conflict and how far each must move.

Solves the elastic model (model.build_model with `elastic`): each policy rule gets
a relaxation variable and the objective is the total relaxation, in percent of
each rule's value; physical balances and capacities stay hard. Each family of
rules is first relaxed alone (one fix per family: "relax the cap to 34%, or the
floor to 71%"); when no family alone is enough, all are relaxed together.
"""

from __future__ import annotations

import pandas as pd

from ..inputs.data import SourcingData
from ..model.formulation import (BUDGET, CVAR_CAP, FILL_FLOORS, ORIGIN_CAPS, POLICY_RULES, SUPPLIER_CAPS, TAKE_OR_PAY)
from ..model import build
from .solver import OPTIMAL, make_solver, run_solver

TOLERANCE = 1e-7
COLUMNS = ["fix", "rule", "name", "material", "scenario", "period", "current", "relax_to", "unit", "advice"]


def present_rules(data: SourcingData) -> list[str]:
    """The policy rules this instance actually states."""
    present = {
        ORIGIN_CAPS: len(data.origin_caps) > 0,
        FILL_FLOORS: bool((data.fill_floors["min_fill_rate"] > 0).any()) if len(data.fill_floors) else False,
        SUPPLIER_CAPS: len(data.supplier_caps) > 0,
        BUDGET: data.settings.budget is not None,
        CVAR_CAP: data.settings.cvar_max is not None,
        TAKE_OR_PAY: bool((data.offers["min_quantity"] > 0).any()),
    }
    return [rule for rule in POLICY_RULES if present[rule]]


def _share(value: float) -> str:
    return f"{value:.1%}"


def _relaxed(data: SourcingData, rules: frozenset[str]) -> list[dict] | None:
    """The relaxations the elastic model needs, one dict per relaxed rule instance (None: still infeasible)."""
    built = build(data, elastic=rules)
    run = run_solver(built.model, make_solver(data.settings.time_limit))
    if run.status != OPTIMAL:
        return None
    currency = data.settings.currency
    rows = []
    for rule, var, _ in built.model.relaxations:
        amount = float(var.value or 0.0)
        if amount <= TOLERANCE:
            continue
        key = var.index()
        row = {"rule": rule, "name": "", "material": None, "scenario": None, "period": None}
        if rule == ORIGIN_CAPS:
            cap = data.origin_caps.iloc[key]
            row.update(name=f"{cap['cap']} cap", material=cap["material"], current=cap["max_share"],
                       relax_to=cap["max_share"] + amount, unit="share of demand")
            row["advice"] = f"raise the {cap['cap']} cap from {_share(cap['max_share'])} to " \
                            f"{_share(cap['max_share'] + amount)}"
        elif rule == FILL_FLOORS:
            material, scenario = key
            beta = float(data.fill_floors.loc[(material, scenario), "min_fill_rate"])
            row.update(name=f"{material} fill-rate floor", material=material, scenario=scenario, current=beta,
                       relax_to=beta - amount, unit="share of demand")
            row["advice"] = f"lower the {material} fill-rate floor in '{scenario}' from {_share(beta)} to " \
                            f"{_share(beta - amount)}"
        elif rule == SUPPLIER_CAPS:
            cap = data.supplier_caps.iloc[key]
            what = cap["material"] or "each material"
            row.update(name=f"{cap['supplier']} cap", material=cap["material"], current=cap["max_share"],
                       relax_to=cap["max_share"] + amount, unit="share of demand")
            row["advice"] = f"let {cap['supplier']} supply {_share(cap['max_share'] + amount)} of {what} " \
                            f"instead of {_share(cap['max_share'])}"
        elif rule == BUDGET:
            budget = float(data.settings.budget)
            row.update(name="budget", current=budget, relax_to=budget + amount, unit=currency)
            row["advice"] = f"raise the budget from {budget:,.0f} to {budget + amount:,.0f} {currency}"
        elif rule == CVAR_CAP:
            limit = float(data.settings.cvar_max)
            row.update(name="CVaR cap", current=limit, relax_to=limit + amount, unit=currency)
            row["advice"] = f"raise cvar_max from {limit:,.0f} to {limit + amount:,.0f} {currency}"
        else:
            supplier, material, period = key
            floor = float(data.offers.loc[key, "min_quantity"])
            unit = data.materials.loc[material, "unit"] or "units"
            row.update(name=f"{supplier} take-or-pay", material=material, period=period, current=floor,
                       relax_to=floor - amount, unit=unit)
            row["advice"] = f"lower {supplier}'s {material} take-or-pay floor in {period} from {floor:,.0f} to " \
                            f"{floor - amount:,.0f} {unit}"
        rows.append(row)
    return rows


def explain_infeasibility(data: SourcingData) -> tuple[str, pd.DataFrame]:
    """A sentence for the user and the table of fixes (column `fix`: which alternative a row belongs to)."""
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
        lines += [f"  - {text}" for text in _summarise(fixes[0][1])]
    else:
        lines = ["No plan meets every rule. Any one of these would give a plan:"]
        for i, (_, relaxed) in enumerate(fixes, start=1):
            lines.append(f"  {i}. " + "; ".join(_summarise(relaxed)))
        if not_enough:
            lines.append("Relaxing only the " + " or only the ".join(not_enough) + " is not enough.")
    return "\n".join(lines), table


def _summarise(relaxed: list[dict]) -> list[str]:
    """Advice sentences, one fill-rate floor sentence per material listing its scenarios."""
    out, floors = [], {}
    for row in relaxed:
        if row["rule"] == FILL_FLOORS:
            floors.setdefault((row["material"], row["current"]), []).append(row)
        else:
            out.append(row["advice"])
    for (material, current), rows in floors.items():
        by_target: dict[float, list[str]] = {}
        for row in rows:
            by_target.setdefault(round(row["relax_to"], 4), []).append(f"'{row['scenario']}'")
        parts = [f"to {_share(target)} in {', '.join(names)}" for target, names in by_target.items()]
        out.append(f"lower the {material} fill-rate floor from {_share(current)} " + " and ".join(parts))
    return out
