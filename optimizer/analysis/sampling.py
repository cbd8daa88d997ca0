"""Futures drawn from the input's disruption model (the `disruption_model` sheet, docs/model.md).

An event group may start in any period from its earliest start on, with its probability, when it is
not already under way; its events then last a number of periods drawn from their duration range and
hit the offers their filters match at a severity drawn once for the whole group (a severe episode is
severe for every event of the group: availability at the low end of each range and price multiplier at
the high end). Draws come from numpy's PCG64 generator seeded by the user's seed, in a fixed order
(future, period, group), so the same seed gives the same futures on every machine.

Owns the sampling, the futures as effects on offers, and the instance with sampled scenarios (identical
histories merged, so that the scenario tree has real shared prefixes). Solves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..inputs.data import SourcingData
from ..inputs.errors import InputError, Problem

#: Sampled availabilities and price multipliers are rounded to this many decimals, in the written
#: scenarios and in the stress test alike.
DECIMALS = 2


@dataclass(frozen=True)
class Effects:
    """Sampled futures as effects: one row per (future, event) episode, in arrays.

    future: which future; event: position of the event in data.disruption_model; start, end: period
    indexes (inclusive; end cut at the horizon); availability, multiplier: the effect's factors on the
    offers the event matches; duration_min, duration_max: the event's range (for the re-planning
    forecast, which does not know `end`); n_futures: how many futures were drawn.
    """

    n_futures: int
    future: np.ndarray
    event: np.ndarray
    start: np.ndarray
    end: np.ndarray
    availability: np.ndarray
    multiplier: np.ndarray
    duration_min: np.ndarray
    duration_max: np.ndarray

    def of(self, future: int) -> slice:
        """The rows of one future (rows are sorted by future)."""
        lo, hi = np.searchsorted(self.future, [future, future + 1])
        return slice(int(lo), int(hi))


def require_model(data: SourcingData, what: str) -> None:
    if data.disruption_model is None or data.disruption_model.empty:
        raise InputError([Problem("disruption_model", None, None,
                                  f"{what} needs a disruption model; add a sheet 'disruption_model' with one row per "
                                  "event (see docs/model.md, 'Disruption model').")])


def sample_effects(data: SourcingData, n_futures: int, seed: int) -> Effects:
    """Draw n_futures futures from the disruption model with Generator(PCG64(seed))."""
    require_model(data, "Sampling futures")
    model = data.disruption_model.reset_index(drop=True)
    position = {p: i for i, p in enumerate(data.periods)}
    n_periods = len(data.periods)
    groups = list(dict.fromkeys(model["group"]))
    group_of = model["group"].map({g: k for k, g in enumerate(groups)}).to_numpy()
    first = model.drop_duplicates("group").set_index("group")
    probability = first.loc[groups, "probability"].to_numpy(dtype=float)
    earliest = first.loc[groups, "earliest_start"].map(position).to_numpy(dtype=int)
    d_min = model["duration_min"].to_numpy(dtype=int)
    d_max = model["duration_max"].to_numpy(dtype=int)
    a_min, a_max = (model[c].to_numpy(dtype=float) for c in ("availability_min", "availability_max"))
    g_min, g_max = (model[c].to_numpy(dtype=float) for c in ("price_multiplier_min", "price_multiplier_max"))

    rng = np.random.Generator(np.random.PCG64(seed))
    n_groups = len(groups)
    onset = rng.random((n_futures, n_periods, n_groups))
    length = rng.random((n_futures, n_periods, n_groups))
    severity = rng.random((n_futures, n_periods, n_groups))

    busy_until = np.full((n_futures, n_groups), -1)
    columns = ("future", "event", "start", "stop", "availability", "multiplier")
    rows: dict[str, list] = {c: [] for c in columns}  # arrays per (period, event), one table at the end
    for t in range(n_periods):
        starts = (onset[:, t, :] < probability) & (t >= earliest) & (t > busy_until)
        fut, grp = np.nonzero(starts)
        if not len(fut):
            continue
        for event in range(len(model)):
            hit = grp == group_of[event]
            if not hit.any():
                continue
            f = fut[hit]
            u = length[f, t, group_of[event]]
            span = d_max[event] - d_min[event] + 1
            duration = d_min[event] + np.minimum((u * span).astype(int), span - 1)
            s = severity[f, t, group_of[event]]
            for column, values in zip(columns, (
                    f, np.full(len(f), event), np.full(len(f), t), t + duration - 1,
                    np.round(a_max[event] - s * (a_max[event] - a_min[event]), DECIMALS),
                    np.round(g_min[event] + s * (g_max[event] - g_min[event]), DECIMALS))):
                rows[column].append(values)
            busy_until[f, group_of[event]] = np.maximum(busy_until[f, group_of[event]], t + duration - 1)
    table = (pd.DataFrame({c: np.concatenate(parts) for c, parts in rows.items()}) if rows["future"] else
             pd.DataFrame({c: pd.Series(dtype=int) for c in ("future", "event", "start", "stop")}
                          | {"availability": pd.Series(dtype=float), "multiplier": pd.Series(dtype=float)}))
    table = table.sort_values(["future", "start", "event"], kind="stable")
    event = table["event"].to_numpy(dtype=int)
    return Effects(n_futures, table["future"].to_numpy(dtype=int), event, table["start"].to_numpy(dtype=int),
                   np.minimum(table["stop"].to_numpy(dtype=int), n_periods - 1),
                   table["availability"].to_numpy(dtype=float), table["multiplier"].to_numpy(dtype=float),
                   d_min[event], d_max[event])


def scenario_effects(data: SourcingData) -> tuple[Effects, list[dict]]:
    """The instance's own scenarios as effects: each disruptions row is an event whose end is known once it
    has started (the scenario states it). Also returns the matching filters of each row (in `event` order)."""
    scenarios = list(data.scenarios.index)
    index = {s: i for i, s in enumerate(scenarios)}
    position = {p: i for i, p in enumerate(data.periods)}
    d = data.disruptions.reset_index(drop=True)
    order = np.argsort([index[s] for s in d["scenario"]], kind="stable")
    d = d.iloc[order].reset_index(drop=True)
    start = d["start"].map(position).to_numpy(dtype=int)
    end = d["end"].map(position).to_numpy(dtype=int)
    known = end - start + 1
    effects = Effects(len(scenarios), d["scenario"].map(index).to_numpy(dtype=int), np.arange(len(d)), start, end,
                      d["availability"].to_numpy(dtype=float), d["price_multiplier"].to_numpy(dtype=float),
                      known, known)
    filters = d[["supplier", "material", "country", "stage"]].to_dict("records")
    return effects, filters


def event_filters(data: SourcingData) -> list[dict]:
    """The matching filters of each disruption-model event, in `Effects.event` order."""
    return data.disruption_model[["supplier", "material", "country", "stage"]].to_dict("records")


def offer_masks(data: SourcingData, filters: list[dict]) -> np.ndarray:
    """events x offers (rows of data.offers): whether an event's filters match an offer (any period).

    The same matching as the disruptions sheet (model.tree.offer_factors)."""
    offers = data.offers.reset_index()
    countries = (data.suppliers.loc[offers["supplier"], data.stages].to_numpy(dtype=object)
                 if data.stages else np.empty((len(offers), 0), dtype=object))
    masks = np.ones((len(filters), len(offers)), dtype=bool)
    supplier = offers["supplier"].to_numpy(dtype=object)
    material = offers["material"].to_numpy(dtype=object)
    for i, f in enumerate(filters):
        if f["supplier"] is not None:
            masks[i] &= supplier == f["supplier"]
        if f["material"] is not None:
            masks[i] &= material == f["material"]
        if f["stage"] is not None:
            column = countries[:, data.stages.index(f["stage"])]
            masks[i] &= (column == f["country"]) if f["country"] is not None else (column != None)  # noqa: E711
        elif f["country"] is not None:
            masks[i] &= (countries == f["country"]).any(axis=1)
    return masks


# --------------------------------------------------------------------------- sampled instance

def sampled_tables(data: SourcingData, n_scenarios: int, seed: int) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The instance's tables with `scenarios` and `disruptions` replaced by n_scenarios futures drawn from
    its disruption model; futures with the same history are one scenario with their summed probability.

    Returns the tables and notes for the user (service_levels rows naming a scenario are dropped)."""
    if n_scenarios < 1:
        raise InputError([Problem(None, None, None, f"option --scenarios {n_scenarios}: enter 1 or more.")])
    effects = sample_effects(data, n_scenarios, seed)
    model = data.disruption_model
    rows_of_model = list(model.index)
    keys: dict[tuple, int] = {}
    counts: list[int] = []
    members: list[slice] = []
    for f in range(n_scenarios):
        part = effects.of(f)
        key = tuple(zip(effects.event[part].tolist(), effects.start[part].tolist(), effects.end[part].tolist(),
                        effects.availability[part].tolist(), effects.multiplier[part].tolist()))
        if key in keys:
            counts[keys[key]] += 1
        else:
            keys[key] = len(counts)
            counts.append(1)
            members.append(part)
    width = max(3, len(str(len(counts))))
    names = [f"sample {k + 1:0{width}d}" for k in range(len(counts))]
    periods = data.periods
    scenario_rows, disruption_rows = [], []
    events = model.to_dict("records")  # rows as dicts: a pandas .iloc per sampled disruption is slow
    for k, part in enumerate(members):
        described = []
        for e, s, t, a, g in zip(effects.event[part], effects.start[part], effects.end[part],
                                 effects.availability[part], effects.multiplier[part]):
            event = events[int(e)]
            disruption_rows.append({
                "scenario": names[k], "supplier": event["supplier"], "material": event["material"],
                "country": event["country"], "stage": event["stage"], "start": periods[s], "end": periods[t],
                "availability": float(a), "price_multiplier": float(g),
                "source": f"sampled from disruption_model row {rows_of_model[int(e)]} (seed {seed})"})
            described.append(f"{event['event']} {periods[s]}-{periods[t]} (availability {a:.0%}, price x{g:g})")
        scenario_rows.append({"scenario": names[k], "probability": counts[k] / n_scenarios,
                              "description": "; ".join(described) if described else "no disruption",
                              "source": f"{counts[k]} of {n_scenarios} futures drawn from the disruption model "
                                        f"(seed {seed})"})
    tables = {name: table.reset_index(drop=True) for name, table in data.tables.items()}
    tables["scenarios"] = pd.DataFrame(scenario_rows)
    tables["disruptions"] = pd.DataFrame(disruption_rows, columns=[
        "scenario", "supplier", "material", "country", "stage", "start", "end", "availability",
        "price_multiplier", "source"])
    notes = []
    levels = tables.get("service_levels")
    if levels is not None and "scenario" in levels.columns:
        named = levels["scenario"].notna() & (levels["scenario"].astype(str).str.strip() != "")
        if named.any():
            notes.append(f"{int(named.sum())} service_levels row(s) name a scenario of the instance and do not "
                         "apply to sampled scenarios; they were left out.")
            tables["service_levels"] = levels[~named].reset_index(drop=True)
    return tables, notes


def sample_instance(data: SourcingData, n_scenarios: int, seed: int) -> SourcingData:
    """The instance with n_scenarios sampled scenarios (see sampled_tables), validated again."""
    from ..inputs import from_frames

    tables, notes = sampled_tables(data, n_scenarios, seed)
    sampled = from_frames(tables, source=f"{data.source} with {n_scenarios} sampled scenarios (seed {seed})")
    sampled.warnings[:0] = list(data.warnings) + notes
    return sampled
