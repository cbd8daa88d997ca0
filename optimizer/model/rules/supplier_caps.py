"""Supplier caps: supply from one supplier is at most a share of demand, for each material it covers,
in every scenario.

Owns which offers a supplier cap covers (`coverage`), its constraints, relaxation, advice and shadow
prices.
"""

from __future__ import annotations

from typing import NamedTuple

import pyomo.core as pyo

from ...inputs.data import SourcingData
from ..terms import inflows_of, linear_sum, path_keys
from ..tree import ScenarioTree
from .base import BuildContext, Parameter, PathLimit, Relaxation, Rule, advice_row, objective_words, row_id, share_text
from .origin_caps import covered_materials

SHEET = "supplier_caps"


class SupplierCap(NamedTuple):
    """One row of the supplier_caps sheet: position in data.supplier_caps (the model's index), stable id."""

    position: int
    id: str
    supplier: str
    material: str | None
    max_share: float


class SupplierCaps(Rule):
    name = "supplier caps"

    def rows(self, data: SourcingData) -> list[SupplierCap]:
        caps = data.supplier_caps
        return [SupplierCap(i, row_id(SHEET, row), c.supplier, c.material, float(c.max_share))
                for i, (row, c) in enumerate(zip(caps.index, caps.itertuples(index=False)))]

    def coverage(self, data: SourcingData) -> list[tuple[SupplierCap, str]]:
        """Each cap row with each material it covers (the supplier's offers of that material)."""
        return [(cap, mat) for cap in self.rows(data) for mat in covered_materials(data, cap.material)]

    def present(self, data: SourcingData) -> bool:
        return len(data.supplier_caps) > 0

    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Supplier cap: sum_{n in path(w)} sum_{o of supplier s, material m} inflow_{o,n} <= share D_m."""
        rows = self.rows(data)
        if elastic:
            model.supplier_cap_relaxation = pyo.Var(range(len(rows)), domain=pyo.NonNegativeReals)
            model.relaxations += [Relaxation(self.name, cap, model.supplier_cap_relaxation[cap.position], 100.0)
                                  for cap in rows]
        bodies = {}
        for cap, mat in self.coverage(data):
            share = cap.max_share + (model.supplier_cap_relaxation[cap.position] if elastic else 0)
            at = inflows_of(context.inflows, {cap.supplier}, mat)
            for w, keys in path_keys(tree, at, ()).items():
                if keys:
                    bodies[(cap.position, mat, w)] = (linear_sum(model.inflow[k] for k in keys)
                                                      <= share * float(context.total_demand[mat]))
        model.supplier_cap = pyo.Constraint(pyo.Set(initialize=list(bodies), dimen=3, ordered=True), rule=bodies)

    def path_limits(self, data: SourcingData, scenario: str | None) -> list[PathLimit]:
        """inflow of the supplier's offers of m <= share D_m."""
        total = data.total_demand().to_dict()
        return [PathLimit(self.name, f"{cap.supplier} cap", cap.id, mat, None, frozenset({cap.supplier}),
                          cap.max_share * float(total[mat])) for cap, mat in self.coverage(data)]

    def advise(self, data: SourcingData, cap: SupplierCap, amount: float) -> dict:
        what = cap.material or "each material"
        return advice_row(self.name, f"{cap.supplier} cap", cap.max_share, cap.max_share + amount,
                          "share of demand",
                          f"let {cap.supplier} supply {share_text(cap.max_share + amount, cap.max_share)} of {what} "
                          f"instead of {share_text(cap.max_share, cap.max_share + amount)}", material=cap.material)

    def parameters(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                   currency: str) -> list[Parameter]:
        """Each capped supplier's share of a material, in percentage points: one more moves each scenario's
        rhs by D_m / 100; its price is the objective saved."""
        total = data.total_demand().to_dict()
        moves: dict[tuple, list] = {}
        for (position, mat, _), con in model.supplier_cap.items():
            moves.setdefault((position, mat), []).append((con, float(total[mat]) / 100))
        return [Parameter({"rule": "supplier cap", "name": f"{cap.supplier} cap", "supplier": cap.supplier,
                           "material": mat, "scenario": None, "period": None,
                           "unit": f"{currency} per percentage point",
                           "meaning": f"{objective_words(data)} saved if {cap.supplier} could supply one more "
                                      f"percentage point of {mat} demand", "input_row": cap.id},
                          tuple(moves.get((cap.position, mat), ())), -1.0, 100 * cap.max_share, 0.0, 100.0,
                          "percentage point")
                for cap, mat in self.coverage(data)]


RULE = SupplierCaps()
