"""Origin caps: the supply that passes through a country (at a stage, or any stage) is at most a share
of demand, for each material it covers, in every scenario; over the horizon or in each period.

Owns which suppliers and materials a cap covers (`coverage`, the one place that says so), the cap
constraints, their relaxation and advice, the origin_shares rows, the shadow prices and the sweep
hook. `ShareCap` holds what every cap on the origin_caps sheet shares, so that a variant (such as the
single-country cap) is a subclass saying only what differs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyomo.core as pyo

from ...inputs.data import SourcingData
from ...inputs.names import suggestion
from ..terms import inflows_of, linear_sum, path_keys
from ..tree import ScenarioTree
from .base import (BuildContext, Parameter, PathLimit, Relaxation, Rule, SweepKey, advice_row, objective_words, row_id,
                   share_text)

SHEET = "origin_caps"
SHARE_COLUMNS = ["cap", "country", "stage", "material", "scenario", "period", "supplied_through", "demand",
                 "share", "max_share", "input_row"]


class OriginCap(NamedTuple):
    """One row of the origin_caps sheet.

    position: its row in data.origin_caps (the model's index); id: its stable id ('origin_caps:3');
    name: the readable name, for display only.
    """

    position: int
    id: str
    name: str
    country: str
    stage: str | None
    material: str | None
    max_share: float
    per_period: bool


class Coverage(NamedTuple):
    """What one cap row constrains for one material and one country: the suppliers through it."""

    cap: OriginCap
    country: str
    material: str
    suppliers: frozenset[str]


def all_caps(data: SourcingData) -> list[OriginCap]:
    """Every row of the origin_caps sheet as a record, in sheet order."""
    caps = data.origin_caps
    return [OriginCap(i, row_id(SHEET, row), c.cap, c.country, c.stage, c.material, float(c.max_share),
                      bool(c.per_period))
            for i, (row, c) in enumerate(zip(caps.index, caps.itertuples(index=False)))]


def covered_materials(data: SourcingData, material: str | None) -> list[str]:
    """A rule's material, or every material when the rule leaves it blank."""
    return [material] if material is not None else list(data.materials.index)


def suppliers_through(data: SourcingData, country: str, stage: str | None) -> frozenset[str]:
    """Suppliers whose chain passes through country at stage (any stage when blank)."""
    stages = [stage] if stage is not None else data.stages
    through = data.suppliers[stages].eq(country).any(axis=1)
    return frozenset(through.index[through])


def reached_share(origin_shares: pd.DataFrame, ids) -> float:
    """The share a cap reached: the highest share among the rows it constrains (each material and
    scenario, each period for a per-period cap, each country for a single-country cap), so that the
    cap holds exactly when this is at most its max_share. The frontier and compare both use it."""
    shares = origin_shares.loc[origin_shares["input_row"].isin(set(ids)), "share"]
    return float(shares.max()) if len(shares) else 0.0


class ShareCap(Rule):
    """A cap on the share of demand supplied through countries, stated by rows of the origin_caps sheet.

    Subclasses choose the rows (`rows`), the countries a row stands for (`countries`), the model's
    component names and index (`prefix`), and the wording.
    """

    name = "origin caps"
    component = "origin_cap"           # constraints <component>, <component>_per_period; Params, Vars alike
    price_rule = "origin cap"          # the shadow-price table's `rule`
    index_length = 3                   # (cap position, material, scenario or node)

    # --- which rows, which countries
    def rows(self, data: SourcingData) -> list[OriginCap]:
        """This rule's rows: those no other registered rule claims."""
        from . import RULES  # the registry imports this module

        others = [rule for rule in RULES if rule is not self and isinstance(rule, ShareCap)]
        return [cap for cap in all_caps(data) if not any(rule.claims(cap) for rule in others)]

    def claims(self, cap: OriginCap) -> bool:
        """Whether a row of the sheet is this rule's rather than a plain origin cap."""
        return False

    def countries(self, data: SourcingData, cap: OriginCap) -> list[str]:
        return [cap.country]

    def coverage(self, data: SourcingData) -> list[Coverage]:
        """For each of this rule's rows, each country it stands for and each material it covers."""
        out = []
        for cap in self.rows(data):
            for country in self.countries(data, cap):
                through = suppliers_through(data, country, cap.stage)
                out += [Coverage(cap, country, mat, through) for mat in covered_materials(data, cap.material)]
        return out

    def prefix(self, coverage: Coverage) -> tuple:
        """The leading part of a constraint's index: (cap position, material)."""
        return (coverage.cap.position, coverage.material)

    def present(self, data: SourcingData) -> bool:
        return len(self.rows(data)) > 0

    # --- model
    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Origin cap: sum_{n in path(w)} sum_{o through k at s} inflow_{o,n} <= alpha D_m (per period: each node, <= alpha D_{m,t})."""
        rows = self.rows(data)
        positions = pyo.Set(initialize=[cap.position for cap in rows], ordered=True)
        setattr(model, f"{self.component.upper()}S", positions)
        share = pyo.Param(positions, mutable=True, initialize={cap.position: cap.max_share for cap in rows})
        setattr(model, f"{self.component}_share", share)
        relaxation = None
        if elastic:  # the share a cap would need: alpha + v
            relaxation = pyo.Var(positions, domain=pyo.NonNegativeReals)
            setattr(model, f"{self.component}_relaxation", relaxation)
            model.relaxations += [Relaxation(self.name, cap, relaxation[cap.position], 100.0) for cap in rows]

        def allowed(position: int):
            return share[position] + relaxation[position] if elastic else share[position]

        horizon, per_period = {}, {}
        for covered in self.coverage(data):
            at = inflows_of(context.inflows, covered.suppliers, covered.material)
            if not at:
                continue
            key, position, mat = self.prefix(covered), covered.cap.position, covered.material
            if covered.cap.per_period:
                for (n,), keys in at.items():
                    per_period[key + (n,)] = (linear_sum(model.inflow[k] for k in keys)
                                              <= allowed(position) * float(context.demand[(mat, context.period_of[n])]))
            else:
                for w, keys in path_keys(tree, at, ()).items():
                    if keys:
                        horizon[key + (w,)] = (linear_sum(model.inflow[k] for k in keys)
                                               <= allowed(position) * float(context.total_demand[mat]))
        dimen = self.index_length
        setattr(model, self.component, pyo.Constraint(
            pyo.Set(initialize=list(horizon), dimen=dimen, ordered=True), rule=horizon))
        setattr(model, f"{self.component}_per_period", pyo.Constraint(
            pyo.Set(initialize=list(per_period), dimen=dimen, ordered=True), rule=per_period))

    def path_limits(self, data: SourcingData, scenario: str | None) -> list[PathLimit]:
        """inflow through the country <= alpha D_m over the horizon (per period: <= alpha D_mt each period)."""
        total = data.total_demand().to_dict()
        demand = data.demand["quantity"].to_dict()
        out = []
        for covered in self.coverage(data):
            cap, mat = covered.cap, covered.material
            name = self.price_name(covered)
            if cap.per_period:
                out += [PathLimit(self.name, name, cap.id, mat, t, covered.suppliers,
                                  cap.max_share * float(demand[(mat, t)])) for t in data.periods]
            else:
                out.append(PathLimit(self.name, name, cap.id, mat, None, covered.suppliers,
                                     cap.max_share * float(total[mat])))
        return out

    # --- explanation
    def advise(self, data: SourcingData, cap: OriginCap, amount: float) -> dict:
        return advice_row(self.name, f"{cap.name} cap", cap.max_share, cap.max_share + amount, "share of demand",
                          f"raise the {cap.name} cap from {share_text(cap.max_share, cap.max_share + amount)} to "
                          f"{share_text(cap.max_share + amount, cap.max_share)}", material=cap.material)

    # --- results
    def tables(self, data: SourcingData, tree: ScenarioTree, inflow: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """origin_shares: share of demand supplied through each capped country and stage, per scenario
        (and period)."""
        total = data.total_demand().to_dict()
        demand = data.demand["quantity"].to_dict()
        scenarios, periods = np.asarray(tree.scenarios, dtype=object), np.asarray(data.periods, dtype=object)
        n_scenarios, n_periods = len(scenarios), len(periods)
        # the inflow rows' suppliers and materials as codes, so that each covered material's rows are picked
        # by integer comparisons (a sweep makes this table at every point)
        supplier_code, supplier_names = pd.factorize(inflow["supplier"])
        material_code, material_names = pd.factorize(inflow["material"])
        supplier_of = {name: k for k, name in enumerate(supplier_names)}
        material_of = {name: k for k, name in enumerate(material_names)}
        node, quantity = inflow["node"].to_numpy(dtype=int), inflow["quantity"].to_numpy(dtype=float)
        frames = []
        for covered in self.coverage(data):
            cap, mat = covered.cap, covered.material
            through = [supplier_of[s] for s in covered.suppliers if s in supplier_of]
            rows = np.isin(supplier_code, through) & (material_code == material_of.get(mat, -1))
            per_node = np.zeros(len(tree.nodes))
            np.add.at(per_node, node[rows], quantity[rows])
            along = per_node[tree.node_of]  # scenarios x periods
            if cap.per_period:
                columns = {
                    "scenario": np.repeat(scenarios, n_periods), "period": np.tile(periods, n_scenarios),
                    "supplied_through": along.ravel(),
                    "demand": np.tile([float(demand[(mat, t)]) for t in data.periods], n_scenarios)}
            else:
                columns = {"scenario": scenarios, "period": None, "supplied_through": along.sum(axis=1),
                           "demand": np.full(n_scenarios, float(total[mat]))}
            supplied, needed = columns["supplied_through"], columns["demand"]
            frames.append(pd.DataFrame({
                "cap": cap.name, "country": covered.country, "stage": cap.stage or "any", "material": mat,
                **columns, "share": np.divide(supplied, needed, out=np.zeros_like(supplied), where=needed > 0),
                "max_share": cap.max_share, "input_row": cap.id}))
        if not frames:
            return {"origin_shares": pd.DataFrame(columns=SHARE_COLUMNS)}
        return {"origin_shares": pd.concat(frames, ignore_index=True)[SHARE_COLUMNS]}

    def meaning(self, covered: Coverage, data: SourcingData) -> str:
        return (f"{objective_words(data)} saved if the {covered.country} cap allowed one more percentage point of "
                f"{covered.material} demand")

    def price_name(self, covered: Coverage) -> str:
        return covered.cap.name

    def parameters(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree,
                   currency: str) -> list[Parameter]:
        """Each covered material's share, in percentage points: one more moves the rhs of each scenario's
        row by D_m / 100 (per period: each node's by D_mt / 100); its price is the objective saved."""
        total = data.total_demand().to_dict()
        demand = data.demand["quantity"].to_dict()
        period_of = tree.nodes["period"].to_dict()
        moves: dict[tuple, list] = {}
        for key, con in getattr(model, self.component).items():
            moves.setdefault(key[:-1], []).append((con, float(total[key[-2]]) / 100))
        for key, con in getattr(model, f"{self.component}_per_period").items():
            moves.setdefault(key[:-1], []).append((con, float(demand[(key[-2], period_of[key[-1]])]) / 100))
        return [Parameter({"rule": self.price_rule, "name": self.price_name(covered), "supplier": None,
                           "material": covered.material, "scenario": None, "period": None,
                           "unit": f"{currency} per percentage point", "meaning": self.meaning(covered, data),
                           "input_row": covered.cap.id},
                          tuple(moves.get(self.prefix(covered), ())), -1.0, 100 * covered.cap.max_share, 0.0, 100.0,
                          "percentage point")
                for covered in self.coverage(data)]

    # --- sweeps
    def sweeps(self, key: SweepKey) -> bool:
        """Any country that no other rule's sweep claims."""
        from . import RULES

        return not any(rule.sweeps(key) for rule in RULES if rule is not self and isinstance(rule, ShareCap))

    def sweep_problems(self, data: SourcingData, key: SweepKey) -> list[str]:
        problems = []
        if key.country not in data.countries():
            problems.append(f"no supplier has country '{key.country}', so there is no "
                            f"'{key.country}{':' + key.stage if key.stage else ''}' cap to sweep"
                            f"{suggestion(key.country, data.countries())}.")
        return problems + stage_problems(data, key)

    def swept(self, data: SourcingData, key: SweepKey) -> list[OriginCap]:
        return [cap for cap in self.rows(data) if cap.country == key.country and cap.stage == key.stage]

    def swept_constraints(self, model: pyo.ConcreteModel, records: list[OriginCap]) -> list:
        positions = {cap.position for cap in records}
        return [con for block in (getattr(model, self.component), getattr(model, f"{self.component}_per_period"))
                for key, con in block.items() if key[0] in positions]

    def set_share(self, model: pyo.ConcreteModel, records: list[OriginCap], share: float) -> None:
        param = getattr(model, f"{self.component}_share")
        for cap in records:
            param[cap.position] = share


def stage_problems(data: SourcingData, key: SweepKey) -> list[str]:
    if key.stage is not None and key.stage not in data.stages:
        return [f"unknown stage '{key.stage}'; use one of " + ", ".join(data.stages) + "."]
    return []


class OriginCaps(ShareCap):
    """Origin caps on a named country."""


RULE = OriginCaps()
