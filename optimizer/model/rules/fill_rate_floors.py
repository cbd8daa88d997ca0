"""Fill-rate floors: in every scenario, unmet demand over the horizon is at most (1 - floor) of demand.

Owns the floor constraints, their relaxation and advice (one sentence per material listing its
scenarios), and the floors' shadow prices. Which floor applies to a material and scenario is resolved
from the service_levels sheet by validation (the most specific row wins).
"""

from __future__ import annotations

import pyomo.core as pyo

from ...inputs.data import SourcingData
from ..terms import linear_sum
from ..tree import ScenarioTree
from .base import BuildContext, Parameter, PathLimit, Relaxation, Rule, advice_row, objective_words, share_text


class FillRateFloors(Rule):
    name = "fill-rate floors"

    def present(self, data: SourcingData) -> bool:
        return bool((data.fill_floors["min_fill_rate"] > 0).any()) if len(data.fill_floors) else False

    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Fill-rate floor: sum_{n in path(w)} u_{m,n} <= (1 - beta_{m,w}) D_m (elastic: beta_{m,w} - v_{m,w})."""
        total = context.total_demand
        floors = data.fill_floors["min_fill_rate"].to_dict()
        index = pyo.Set(initialize=[(mat, w) for (mat, w), beta in floors.items() if beta > 0 and total[mat] > 0],
                        dimen=2, ordered=True)
        node_of = dict(zip(tree.scenarios, tree.node_of.tolist()))
        if elastic:
            model.fill_rate_relaxation = pyo.Var(index, bounds=lambda m, mat, w: (0.0, float(floors[(mat, w)])))
            model.relaxations += [Relaxation(self.name, key, model.fill_rate_relaxation[key], 100.0) for key in index]

        @model.Constraint(index)
        def fill_rate_floor(m, mat, w):
            beta = float(floors[(mat, w)]) - (m.fill_rate_relaxation[mat, w] if elastic else 0)
            return linear_sum((1, m.unmet_demand[mat, n]) for n in node_of[w]) <= (1 - beta) * float(total[mat])

    def path_limits(self, data: SourcingData, scenario: str | None) -> list[PathLimit]:
        """unmet demand of m over the horizon <= (1 - beta_m) D_m; a scenario the input does not name gets
        the floors of the service_levels rows with a blank scenario."""
        total = data.total_demand().to_dict()
        if scenario is not None and len(data.fill_floors):
            floors = data.fill_floors.xs(scenario, level="scenario")["min_fill_rate"]
        else:
            floors = data.unnamed_fill_floors
        return [PathLimit(self.name, f"{mat} fill rate", None, mat, None, None,
                          (1 - float(floors.get(mat, 0.0))) * float(total[mat]))
                for mat in data.materials.index if total[mat] > 0]

    def advise(self, data: SourcingData, instance: tuple, amount: float) -> dict:
        material, scenario = instance
        beta = float(data.fill_floors.loc[(material, scenario), "min_fill_rate"])
        return advice_row(self.name, f"{material} fill-rate floor", beta, beta - amount, "share of demand",
                          f"lower the {material} fill-rate floor in '{scenario}' from {share_text(beta, beta - amount)} to "
                          f"{share_text(beta - amount, beta)}", material=material, scenario=scenario)

    def summarise(self, rows: list[dict]) -> list[str]:
        """One sentence per material and current floor, listing the scenarios under each target."""
        floors: dict[tuple, list[dict]] = {}
        for row in rows:
            floors.setdefault((row["material"], row["current"]), []).append(row)
        out = []
        for (material, current), same in floors.items():
            by_target: dict[float, list[str]] = {}
            for row in same:
                by_target.setdefault(round(row["relax_to"], 6), []).append(f"'{row['scenario']}'")
            nearest = max(by_target)  # the target closest to the floor (each is below it)
            parts = [f"to {share_text(target, current)} in {', '.join(names)}" for target, names in by_target.items()]
            out.append(f"lower the {material} fill-rate floor from {share_text(current, nearest)} "
                       + " and ".join(parts))
        return out

    def parameters(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                   currency: str) -> list[Parameter]:
        """Each floor in percentage points: raising it one lowers the rhs by D_m / 100; its price is the
        objective added."""
        total = data.total_demand().to_dict()
        floors = data.fill_floors["min_fill_rate"].to_dict()
        return [Parameter({"rule": "fill-rate floor", "name": f"{mat} fill rate", "supplier": None, "material": mat,
                           "scenario": w, "period": None, "unit": f"{currency} per percentage point",
                           "meaning": f"{objective_words(data)} added by raising the {mat} floor in '{w}' by one "
                                      "percentage point", "input_row": None},
                          ((con, -float(total[mat]) / 100),), 1.0, 100 * float(floors[(mat, w)]), 0.0, 100.0,
                          "percentage point")
                for (mat, w), con in model.fill_rate_floor.items()]


RULE = FillRateFloors()
