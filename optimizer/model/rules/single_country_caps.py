"""Single-country caps: an origin_caps row whose country is `*` caps the supply through each single
country separately, at the row's stage (or at any stage), for each material it covers, in every
scenario; over the horizon or in each period. This is the EU Critical Raw Materials Act's benchmark,
"no more than 65% of any stage from a single third country": `*` / refining / 0.65.

A single country is any country a supplier names at that stage, except values that name no one
country: a blank (the stage does not apply), and pseudo-countries: a value containing "various",
"unknown", "mixed" or "other" (any letter case), a parenthesis or a "/" (e.g.
"Various (ex-China)", "China/Malaysia"; a comma is allowed, as in "Korea, Republic of"). Supply from those is capped by no country's row: the rule
cannot tell whose it is, so it neither counts it for one country nor refuses it. EU member states are
countries like any other: the sheet does not say which countries are "third" ones.

Owns everything the rule means (rows, constraints, relaxation and advice, origin_shares rows with the
country each row is about, shadow prices naming the country, the sweep for `--cap '*:refining'`);
what it shares with a plain origin cap is inherited from origin_caps.ShareCap.
"""

from __future__ import annotations

import pyomo.core as pyo

from ...inputs.data import SourcingData
from ...inputs.validate import EACH_COUNTRY
from ..tree import ScenarioTree
from .base import BuildContext, SweepKey, advice_row, objective_words, share_text
from .origin_caps import Coverage, OriginCap, ShareCap, all_caps, stage_problems

_NOT_ONE_COUNTRY = ("various", "unknown", "mixed", "other")


def is_single_country(value: object) -> bool:
    """Whether a supplier's country value names one country (see the module docstring)."""
    if not isinstance(value, str) or not value.strip():
        return False
    folded = value.casefold()
    return not any(word in folded for word in _NOT_ONE_COUNTRY) and not any(c in value for c in "()/")


class SingleCountryCaps(ShareCap):
    name = "single-country caps"
    component = "single_country_cap"
    price_rule = "single-country cap"
    index_length = 4  # (cap position, country, material, scenario or node)

    def claims(self, cap: OriginCap) -> bool:
        return cap.country == EACH_COUNTRY

    def rows(self, data: SourcingData) -> list[OriginCap]:
        return [cap for cap in all_caps(data) if self.claims(cap)]

    def countries(self, data: SourcingData, cap: OriginCap) -> list[str]:
        """Each single country a supplier names at the row's stage (any stage when blank)."""
        stages = [cap.stage] if cap.stage is not None else data.stages
        return sorted({c for s in stages for c in data.suppliers[s] if is_single_country(c)})

    def prefix(self, coverage: Coverage) -> tuple:
        return (coverage.cap.position, coverage.country, coverage.material)

    def define(self, model: pyo.ConcreteModel, data: SourcingData, tree: ScenarioTree, context: BuildContext,
               elastic: bool = False) -> None:
        """Single-country cap: for each single country k, sum_{n in path(w)} sum_{o through k at s} inflow_{o,n} <= alpha D_m (per period: each node, <= alpha D_{m,t})."""
        super().define(model, data, tree, context, elastic)

    def advise(self, data: SourcingData, cap: OriginCap, amount: float) -> dict:
        where = f"at {cap.stage}" if cap.stage else "at any stage"
        return advice_row(self.name, f"{cap.name} cap", cap.max_share, cap.max_share + amount, "share of demand",
                          f"let a single country supply {share_text(cap.max_share + amount, cap.max_share)} of "
                          f"{cap.material or 'each material'} {where} instead of {share_text(cap.max_share, cap.max_share + amount)} "
                          f"(the {cap.name} cap)", material=cap.material)

    def price_name(self, covered: Coverage) -> str:
        return f"{covered.cap.name}: {covered.country}"

    def meaning(self, covered: Coverage, data: SourcingData) -> str:
        where = f"at {covered.cap.stage}" if covered.cap.stage else "at any stage"
        return (f"{objective_words(data)} saved if {covered.country} could supply one more percentage point of "
                f"{covered.material} demand {where} (single-country cap)")

    def sweeps(self, key: SweepKey) -> bool:
        return key.country == EACH_COUNTRY

    def sweep_problems(self, data: SourcingData, key: SweepKey) -> list[str]:
        problems = stage_problems(data, key)
        stages = [key.stage] if key.stage in data.stages else data.stages
        if not problems and not any(is_single_country(c) for s in stages for c in data.suppliers[s]):
            problems.append(f"no supplier names a single country at {key.stage or 'any stage'}, so there is "
                            f"no '{EACH_COUNTRY}{':' + key.stage if key.stage else ''}' cap to sweep.")
        return problems


RULE = SingleCountryCaps()
