"""Budget: the expected cost is at most the budget setting.

Owns the budget constraint, its relaxation and advice, and its shadow price.
"""

from __future__ import annotations

import pyomo.core as pyo

from ...inputs.data import SourcingData
from ..tree import ScenarioTree
from .base import BuildContext, Parameter, Relaxation, Rule, advice_row


class Budget(Rule):
    name = "budget"
    linking = ("budget",)

    def present(self, data: SourcingData) -> bool:
        return data.settings.budget is not None

    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Budget: sum_w p_w cost_w <= budget."""
        budget = data.settings.budget
        if budget is None:
            return
        if elastic:
            model.budget_relaxation = pyo.Var(domain=pyo.NonNegativeReals)
            model.relaxations.append(Relaxation(self.name, None, model.budget_relaxation,
                                                100 / max(abs(float(budget)), 1.0)))
        model.budget = pyo.Constraint(
            expr=model.expected_cost <= float(budget) + (model.budget_relaxation if elastic else 0))

    def advise(self, data: SourcingData, instance: None, amount: float) -> dict:
        budget, currency = float(data.settings.budget), data.settings.currency
        return advice_row(self.name, "budget", budget, budget + amount, currency,
                          f"raise the budget from {budget:,.0f} to {budget + amount:,.0f} {currency}")

    def parameters(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                   currency: str) -> list[Parameter]:
        """The budget: one more unit is one more on the rhs; its price is the objective saved."""
        if not hasattr(model, "budget"):
            return []
        return [Parameter({"rule": "budget", "name": "budget", "supplier": None, "material": None, "scenario": None,
                           "period": None, "unit": f"{currency} per {currency}",
                           "meaning": "objective saved per extra unit of budget", "input_row": None},
                          ((model.budget, 1.0),), -1.0, float(data.settings.budget), None, None, currency)]


RULE = Budget()
