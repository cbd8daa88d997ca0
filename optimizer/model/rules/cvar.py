"""CVaR: the Rockafellar-Uryasev conditional value at risk of the scenario costs, as a term of the
objective (weight cvar_weight) and, when cvar_max is set, a cap.

Owns the CVaR variables and Expression (`model.cvar`, which the objective weighs), the cap, its
relaxation and advice, and the cap's shadow price.
"""

from __future__ import annotations

import pyomo.core as pyo

from ...inputs.data import SourcingData
from ..tree import ScenarioTree
from .base import BuildContext, Parameter, Relaxation, Rule, advice_row


class ConditionalValueAtRisk(Rule):
    name = "CVaR cap"
    linking = ("value_at_risk", "cost_excess", "cost_excess_definition", "cvar_cap")

    def present(self, data: SourcingData) -> bool:
        """Only the cap is a rule to relax; the objective term is a preference, not a constraint."""
        return data.settings.cvar_max is not None

    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """CVaR_beta = eta + 1/(1-beta) sum_w p_w z_w, z_w >= cost_w - eta, z_w >= 0; CVaR <= cvar_max if set."""
        settings = data.settings
        if not settings.uses_cvar:
            return
        probability = dict(zip(tree.scenarios, tree.probability.tolist()))
        model.value_at_risk = pyo.Var(domain=pyo.Reals)
        model.cost_excess = pyo.Var(model.SCENARIOS, domain=pyo.NonNegativeReals)

        @model.Constraint(model.SCENARIOS)
        def cost_excess_definition(m, w):
            return m.cost_excess[w] >= m.scenario_cost[w] - m.value_at_risk

        model.cvar = pyo.Expression(expr=model.value_at_risk + 1 / (1 - settings.cvar_level) * sum(
            probability[w] * model.cost_excess[w] for w in model.SCENARIOS))
        if settings.cvar_max is not None:
            if elastic:
                model.cvar_relaxation = pyo.Var(domain=pyo.NonNegativeReals)
                model.relaxations.append(Relaxation(self.name, None, model.cvar_relaxation,
                                                    100 / max(abs(float(settings.cvar_max)), 1.0)))
            model.cvar_cap = pyo.Constraint(
                expr=model.cvar <= float(settings.cvar_max) + (model.cvar_relaxation if elastic else 0))

    def advise(self, data: SourcingData, instance: None, amount: float) -> dict:
        limit, currency = float(data.settings.cvar_max), data.settings.currency
        return advice_row(self.name, "CVaR cap", limit, limit + amount, currency,
                          f"raise cvar_max from {limit:,.0f} to {limit + amount:,.0f} {currency}")

    def parameters(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                   currency: str) -> list[Parameter]:
        """cvar_max: one more unit is one more on the rhs; its price is the objective saved."""
        if not hasattr(model, "cvar_cap"):
            return []
        return [Parameter({"rule": "CVaR cap", "name": "CVaR cap", "supplier": None, "material": None,
                           "scenario": None, "period": None, "unit": f"{currency} per {currency}",
                           "meaning": "objective saved per extra unit of cvar_max", "input_row": None},
                          ((model.cvar_cap, 1.0),), -1.0, float(data.settings.cvar_max), None, None, currency)]


RULE = ConditionalValueAtRisk()
