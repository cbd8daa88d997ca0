"""The validated input: one object the model builder can trust.

Built only by `validate.validate`; every table here is clean (types checked,
names resolved, defaults filled in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Settings:
    cvar_level: float = 0.95
    cvar_weight: float = 0.0
    cvar_max: float | None = None
    budget: float | None = None
    currency: str = "USD"
    time_limit: float | None = None
    dependency_country: str = "China"

    @property
    def uses_cvar(self) -> bool:
        """CVaR enters the model when weighted in the objective or capped."""
        return self.cvar_weight > 0 or self.cvar_max is not None


@dataclass
class SourcingData:
    """Validated tables of the input schema (README.md, "Input").

    periods: period labels in time order.
    materials: index material; unit, shortage_penalty, holding_cost, initial_inventory.
    demand: index (material, period), column quantity; every material x period, 0 if not given.
    suppliers: index supplier; kind and one column per stage with its country (None = not applicable).
    stages: the stage names (the '<stage>_country' columns of suppliers).
    offers: one row per offered (supplier, material, period): kind, price, capacity (inf = unlimited),
        min_quantity (contracts only, else 0).
    stockpiles: index (supplier, material); reserve_limit, reservation_fee.
    scenarios: index scenario; probability, description.
    disruptions: scenario, supplier, material, country, stage, start, end, availability, price_multiplier
        (filters None = any; start/end resolved to period labels).
    origin_caps: one row per cap: cap (a readable name), country, stage, material, max_share, per_period.
    fill_floors: index (material, scenario); min_fill_rate, resolved from service_levels.
    supplier_caps: supplier, material (None = each), max_share.
    disruption_model: one row per event (index: spreadsheet row): event, group (the event's name when
        blank), supplier, material, country, stage (filters, None = any), probability (of starting in a
        period), earliest_start (a period label), duration_min, duration_max (whole periods),
        availability_min, availability_max, price_multiplier_min, price_multiplier_max (defaults 1).
    unnamed_fill_floors: material -> fill-rate floor in a scenario the service_levels sheet does not name
        (a sampled future), from its rows with a blank scenario; 0 when none.
    """

    periods: list[str]
    materials: pd.DataFrame
    demand: pd.DataFrame
    suppliers: pd.DataFrame
    stages: list[str]
    offers: pd.DataFrame
    stockpiles: pd.DataFrame
    scenarios: pd.DataFrame
    disruptions: pd.DataFrame
    origin_caps: pd.DataFrame
    fill_floors: pd.DataFrame
    supplier_caps: pd.DataFrame
    settings: Settings
    cases: pd.DataFrame
    disruption_model: pd.DataFrame = field(default_factory=pd.DataFrame)
    unnamed_fill_floors: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    tables: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)
    source: str = ""
    warnings: list[str] = field(default_factory=list)

    def total_demand(self) -> pd.Series:
        """Demand of each material summed over the horizon.

        Summed once per demand table (the rules and the result tables ask for it at every sweep point); a
        new table assigned to `demand` is summed anew. A copy is returned, so callers may change it."""
        known = self.__dict__.get("_total_demand")
        if known is None or known[0] is not self.demand:
            known = (self.demand, self.demand["quantity"].groupby(level="material").sum())
            self.__dict__["_total_demand"] = known
        return known[1].copy()

    def countries(self) -> set[str]:
        return {c for s in self.stages for c in self.suppliers[s] if c is not None}


def disruption_matches(disruption, offers, countries: np.ndarray, stages: list[str],
                       period_index: np.ndarray, position: dict[str, int], cache: dict | None = None) -> np.ndarray:
    """Which offers one disruption row touches: every filled filter matches (country with stage: that
    stage's country; country alone: any stage; stage alone: the stage applies), in its periods start..end.

    offers: data.offers with its index as columns (a DataFrame, or `offer_columns` of it, which is faster
    over many rows); countries: offers x stages; period_index: each offer's period position; cache: a dict
    kept by the caller across rows, so that rows with the same filters (a sampled instance has many) are
    matched once. The one definition, used by the scenario factors and by the check for rows that match
    nothing. The array returned must not be changed.
    """
    d = disruption
    key = (d.supplier, d.material, d.country, d.stage, d.start, d.end)
    if cache is not None and key in cache:
        return cache[key]
    match = (period_index >= position[d.start]) & (period_index <= position[d.end])
    if d.supplier is not None:
        match &= np.asarray(offers["supplier"] == d.supplier, dtype=bool)
    if d.material is not None:
        match &= np.asarray(offers["material"] == d.material, dtype=bool)
    if d.stage is not None:
        column = countries[:, stages.index(d.stage)]
        match &= (column == d.country) if d.country is not None else (column != None)  # noqa: E711
    elif d.country is not None:
        match &= (countries == d.country).any(axis=1) if countries.shape[1] else False
    if cache is not None:
        cache[key] = match
    return match


def offer_columns(offers: pd.DataFrame) -> dict[str, np.ndarray]:
    """The supplier and material of each offer as arrays, for `disruption_matches` over many rows."""
    return {"supplier": offers["supplier"].to_numpy(dtype=object), "material": offers["material"].to_numpy(dtype=object)}


def offer_countries(data: SourcingData, offers: pd.DataFrame) -> np.ndarray:
    """offers x stages array of each offer's supplier's country at each stage (None: not applicable)."""
    if not data.stages:
        return np.empty((len(offers), 0), dtype=object)
    return data.suppliers.loc[offers["supplier"], data.stages].to_numpy(dtype=object)
