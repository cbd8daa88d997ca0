"""The what-if levers of an instance: their values in the input, and a set of lever values as overrides.

A lever is one of the command line's one-off overrides (origin caps, fill-rate floors, CVaR weight and
level, scaling a supplier's capacity or price, dropping a supplier, scenario probabilities) with the
value the input gives it. `Levers.of(data)` reads those values; a changed copy turns into the very
`Overrides` (and so the very edits) that the equivalent `sourcing solve` options would, and says which
options those are. A fix from the explanation of an infeasible plan becomes a lever change. Nothing
here solves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from .data import SourcingData
from .edits import Overrides, apply_case

#: A lever value closer than this to the input's is unchanged (sliders and floats round).
TOLERANCE = 1e-9

#: Shares a fix moves to are rounded away from the rule's limit by this step (HiGHS's answer is exact to
#: its tolerances; the rounded value keeps the relaxed rule strictly feasible).
FIX_STEP = 1e-4


def cap_key(country: str, stage: str | None) -> str:
    """The `--cap` name of an origin cap: `China` (any stage) or `China:refining`."""
    return f"{country}:{stage}" if stage else str(country)


@dataclass
class Levers:
    """Values of every lever. caps: `--cap` name -> max_share; fill_rate: one value for every floor (None:
    as the input has them) and material -> floor for one material; capacity, price: supplier -> factor;
    dropped: suppliers left out; probabilities: scenario settings in the order they were made, each the
    `--probability` option (that scenario set, the others rescaled to sum to 1)."""

    caps: dict[str, float] = field(default_factory=dict)
    fill_rate: float | None = None
    material_fill_rates: dict[str, float] = field(default_factory=dict)
    cvar_weight: float = 0.0
    cvar_level: float = 0.95
    capacity: dict[str, float] = field(default_factory=dict)
    price: dict[str, float] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    probabilities: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, data: SourcingData) -> Levers:
        """The levers as the input sets them."""
        caps: dict[str, float] = {}
        for cap in data.origin_caps.itertuples(index=False):
            key = cap_key(cap.country, cap.stage)
            caps[key] = max(caps.get(key, 0.0), float(cap.max_share))
        floors = data.fill_floors["min_fill_rate"]
        by_material = floors.groupby(level="material").min()
        uniform = len(floors) and floors.max() - floors.min() <= TOLERANCE
        suppliers = list(data.suppliers.index)
        return cls(caps=caps, fill_rate=float(floors.min()) if uniform else None,
                   material_fill_rates={m: float(v) for m, v in by_material.items()},
                   cvar_weight=float(data.settings.cvar_weight), cvar_level=float(data.settings.cvar_level),
                   capacity={s: 1.0 for s in suppliers}, price={s: 1.0 for s in suppliers})

    def copy(self) -> Levers:
        return replace(self, caps=dict(self.caps), material_fill_rates=dict(self.material_fill_rates),
                       capacity=dict(self.capacity), price=dict(self.price))

    # ------------------------------------------------------------------ against the input's values

    def overrides(self, base: Levers) -> Overrides:
        """The overrides that turn the input (whose levers are base) into these levers."""
        caps = [f"{key}={_number(share)}" for key, share in self.caps.items()
                if _changed(share, base.caps.get(key))]
        fill = []
        if self.fill_rate is not None and _changed(self.fill_rate, base.fill_rate):
            fill.append(_number(self.fill_rate))
        for material, floor in self.material_fill_rates.items():
            reference = self.fill_rate if self.fill_rate is not None and fill else base.material_fill_rates.get(
                material)
            if _changed(floor, reference) and _changed(floor, base.material_fill_rates.get(material)):
                fill.append(f"{material}={_number(floor)}")
        dropped = [s for s in self.dropped]
        return Overrides(
            caps=caps or None, fill_rate=fill or None,
            cvar_weight=self.cvar_weight if _changed(self.cvar_weight, base.cvar_weight) else None,
            cvar_level=self.cvar_level if _changed(self.cvar_level, base.cvar_level) else None,
            scale_capacity=[f"{s}={_number(f)}" for s, f in self.capacity.items()
                            if s not in dropped and _changed(f, 1.0)] or None,
            scale_price=[f"{s}={_number(f)}" for s, f in self.price.items()
                         if s not in dropped and _changed(f, 1.0)] or None,
            drop_supplier=dropped or None,
            probability=[f"{s}={_number(p)}" for s, p in self.probabilities] or None)

    def arguments(self, base: Levers) -> list[str]:
        """The `sourcing solve` options that make the same overrides, in the order they apply."""
        overrides = self.overrides(base)
        out: list[str] = []
        for option, values in (("--cap", overrides.caps), ("--fill-rate", overrides.fill_rate),
                               ("--cvar-weight", _listed(overrides.cvar_weight)),
                               ("--cvar-level", _listed(overrides.cvar_level)),
                               ("--scale-capacity", overrides.scale_capacity),
                               ("--scale-price", overrides.scale_price),
                               ("--drop-supplier", overrides.drop_supplier),
                               ("--probability", overrides.probability)):
            for value in values or ():
                out += [option, str(value)]
        return out

    def changes(self, base: Levers) -> list[str]:
        """The changed levers in words, one line each."""
        lines = []
        for key, share in self.caps.items():
            if _changed(share, base.caps.get(key)):
                was = base.caps.get(key)
                lines.append(f"{key.replace(':', ' ')} cap: {_percent(was) if was is not None else 'none'} -> "
                             f"{_percent(share)}")
        if self.fill_rate is not None and _changed(self.fill_rate, base.fill_rate):
            was = base.fill_rate
            lines.append(f"every fill-rate floor: {_percent(was) if was is not None else 'mixed'} -> "
                         f"{_percent(self.fill_rate)}")
        for material, floor in self.material_fill_rates.items():
            if _changed(floor, base.material_fill_rates.get(material)) and (
                    self.fill_rate is None or _changed(floor, self.fill_rate)):
                lines.append(f"{material} fill-rate floor: {_percent(base.material_fill_rates.get(material))} -> "
                             f"{_percent(floor)}")
        if _changed(self.cvar_weight, base.cvar_weight):
            lines.append(f"CVaR weight: {base.cvar_weight:g} -> {self.cvar_weight:g}")
        if _changed(self.cvar_level, base.cvar_level):
            lines.append(f"CVaR level: {_percent(base.cvar_level)} -> {_percent(self.cvar_level)}")
        for supplier in self.dropped:
            lines.append(f"{supplier}: left out")
        for what, factors in (("capacity", self.capacity), ("prices", self.price)):
            for supplier, factor in factors.items():
                if supplier not in self.dropped and _changed(factor, 1.0):
                    lines.append(f"{supplier} {what} x {factor:g}")
        for scenario, probability in self.probabilities:
            lines.append(f"probability of {scenario}: {_percent(probability)} (the others rescaled)")
        return lines

    def apply(self, data: SourcingData, base: Levers | None = None, name: str = "command-line overrides") -> SourcingData:
        """The data with these levers (validated again; an input error names the option it came from). The
        case is named as the command line names its overrides, so that the workbooks written are the same."""
        base = Levers.of(data) if base is None else base
        edits = self.overrides(base).edits(data.tables)
        if not edits:
            return data
        edited = apply_case(data, name, edits)
        edited.warnings[:0] = [w for w in data.warnings if w not in edited.warnings]
        return edited

    def with_probability(self, scenario: str, probability: float) -> Levers:
        """These levers with one more scenario setting (a later one for the same scenario replaces it)."""
        kept = tuple((s, p) for s, p in self.probabilities if s != scenario)
        return replace(self.copy(), probabilities=kept + ((scenario, float(probability)),))

    def with_fix(self, data: SourcingData, fix: pd.DataFrame) -> Levers | None:
        """These levers with one fix of an explanation applied (the rows of one `fix` alternative), or None
        when a row's rule has no lever. An origin cap moves to the largest share the fix names (the lever
        moves every material's row of that cap), a material's floor to the lowest."""
        levers = self.copy()
        moved: set[str] = set()
        for row in fix.to_dict("records"):
            relax = float(row["relax_to"])
            if row["rule"] == "origin caps":
                name = str(row["name"]).removesuffix(" cap")
                caps = data.origin_caps[data.origin_caps["cap"] == name]
                if caps.empty:
                    return None
                key = cap_key(caps["country"].iloc[0], caps["stage"].iloc[0])
                share = min(1.0, math.ceil(relax / FIX_STEP) * FIX_STEP)
                levers.caps[key] = max(levers.caps[key], share) if key in moved else share
                moved.add(key)
            elif row["rule"] == "fill-rate floors" and isinstance(row["material"], str):
                floor = max(0.0, math.floor(relax / FIX_STEP) * FIX_STEP)
                current = levers.material_fill_rates.get(row["material"], 1.0)
                levers.material_fill_rates[row["material"]] = min(current, floor)
            else:
                return None
        return levers


def _changed(value: float | None, reference: float | None) -> bool:
    if value is None:
        return False
    return reference is None or abs(float(value) - float(reference)) > TOLERANCE


def _number(value: float) -> str:
    """A lever value as typed on the command line: the shortest text that reads back as the same float."""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _listed(value):
    return None if value is None else [value]
