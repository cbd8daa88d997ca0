"""Take-or-pay floors: a contract's quantity in a period is at least its min_quantity.

Owns the floor (a lower bound on the contract quantity, or an elastic constraint when relaxed), its
relaxation and advice.
"""

from __future__ import annotations

import pyomo.core as pyo

from ...inputs.data import SourcingData
from ..tree import ScenarioTree
from .base import BuildContext, Relaxation, Rule, advice_row


class TakeOrPay(Rule):
    name = "take-or-pay floors"

    def present(self, data: SourcingData) -> bool:
        return bool((data.offers["min_quantity"] > 0).any())

    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Take-or-pay floor: x_ot >= l_ot, a bound on contract_quantity (elastic: x_ot + v_ot >= l_ot)."""
        floor = data.offers["min_quantity"].to_dict()  # a dict: a pandas lookup per offer is slow
        floored = [k for k in model.CONTRACT_OFFERS if floor[k] > 0]
        if not elastic:
            for key in floored:
                model.contract_quantity[key].setlb(float(floor[key]))
            return
        model.take_or_pay_relaxation = pyo.Var(pyo.Set(initialize=floored, dimen=3, ordered=True),
                                               bounds=lambda m, s, mat, t: (0.0, float(floor[(s, mat, t)])))

        @model.Constraint(model.take_or_pay_relaxation.index_set())
        def take_or_pay(m, s, mat, t):
            return m.contract_quantity[s, mat, t] + m.take_or_pay_relaxation[s, mat, t] >= float(floor[(s, mat, t)])

        model.relaxations += [Relaxation(self.name, key, model.take_or_pay_relaxation[key], 100 / float(floor[key]))
                              for key in floored]

    def advise(self, data: SourcingData, instance: tuple, amount: float) -> dict:
        supplier, material, period = instance
        floor = float(data.offers.loc[instance, "min_quantity"])
        unit = data.materials.loc[material, "unit"] or "units"
        return advice_row(self.name, f"{supplier} take-or-pay", floor, floor - amount, unit,
                          f"lower {supplier}'s {material} take-or-pay floor in {period} from {floor:,.0f} to "
                          f"{floor - amount:,.0f} {unit}", material=material, period=period)


RULE = TakeOrPay()
