"""Check raw input tables and turn them into `SourcingData`.

Every check collects problems instead of stopping, so the user sees every
problem at once; one `InputError` is raised at the end. Nothing here builds
or solves a model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .data import Settings, SourcingData, disruption_matches, offer_columns, offer_countries
from .errors import InputError, Problem, describe
from .names import describe_text, lookalikes, mixes_lookalikes, skeleton, suggestion
from .reader import Tables
from .schema import (
    MAGNITUDE_LIMITS,
    MAX_ROWS_PER_SHEET,
    NUMERIC_SETTINGS,
    REQUIRED_SHEETS,
    SETTING_LIMITS,
    SETTINGS_DEFAULTS,
    SHEETS,
    STAGE_SUFFIX,
    SUPPLIER_KINDS,
    Column,
)

#: An origin cap on each single country (model/rules/single_country_caps.py), not a country name.
EACH_COUNTRY = "*"

TRUE_WORDS = {"true", "yes", "y", "1", "x"}
FALSE_WORDS = {"false", "no", "n", "0"}

NONNEGATIVE = {
    "materials": ("shortage_penalty", "holding_cost", "initial_inventory"),
    "demand": ("quantity",),
    "offers": ("price", "capacity", "min_quantity", "reserve_limit", "reservation_fee"),
    "disruptions": ("price_multiplier",),
    "disruption_model": ("price_multiplier_min", "price_multiplier_max"),
}
UNIT_INTERVAL = {
    "disruptions": ("availability",),
    "disruption_model": ("probability", "availability_min", "availability_max"),
    "origin_caps": ("max_share",),
    "service_levels": ("min_fill_rate",),
    "supplier_caps": ("max_share",),
    "scenarios": ("probability",),
}
KEYS = {
    "periods": ("period",),
    "materials": ("material",),
    "demand": ("material", "period"),
    "suppliers": ("supplier",),
    "offers": ("supplier", "material", "period"),
    "scenarios": ("scenario",),
    "disruption_model": ("event",),
    "origin_caps": ("country", "stage", "material", "per_period"),
    "service_levels": ("material", "scenario"),
    "supplier_caps": ("supplier", "material"),
    "settings": ("key",),
}


def validate(tables: Tables, source: str = "", known_countries: Iterable[str] = ()) -> SourcingData:
    """Check every rule of the input schema and return the validated data.

    Raises InputError listing every problem (sheet, row, column, value, fix). known_countries: countries
    a cap may name besides the suppliers' (an edited copy of an instance keeps the original's: a case that
    drops every Chinese supplier leaves a China cap that is simply met).
    """
    problems: list[Problem] = []
    check_for_size(tables, problems)
    if problems:
        raise InputError(problems)
    check_for_missing_sheets(tables, problems)
    stages = _stages(tables)
    typed = {sheet: _parse_sheet(sheet, table, stages, problems) for sheet, table in tables.items()}
    for sheet in SHEETS:
        typed.setdefault(sheet, _empty(sheet))
    check_for_negative_values(typed, problems)
    check_for_magnitudes(typed, problems)
    check_for_shares_outside_unit_interval(typed, problems)
    check_for_duplicate_keys(typed, problems)
    check_for_unknown_names(typed, stages, problems)
    check_for_supplier_kinds(typed, problems)
    check_for_offer_terms(typed, problems)
    check_for_probabilities(typed, problems)
    check_for_disruption_windows(typed, problems)
    check_for_disruption_model(typed, problems)
    settings = check_for_settings(typed, problems)
    notes: list[str] = []
    check_for_country_names(typed, stages, problems, set(known_countries))
    check_for_lookalike_names(typed, stages, notes)
    if problems:
        raise InputError(_sorted(problems))
    data = _assemble(typed, stages, settings, tables, source)
    check_for_disruptions_that_match_nothing(data, notes)
    data.warnings.extend(notes)
    return data


# --------------------------------------------------------------------------- parsing

def _stages(tables: Tables) -> list[str]:
    suppliers = tables.get("suppliers")
    if suppliers is None:
        return []
    return [c[: -len(STAGE_SUFFIX)] for c in suppliers.columns
            if c.endswith(STAGE_SUFFIX) and len(c) > len(STAGE_SUFFIX)]


def _empty(sheet: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=object) for c in SHEETS[sheet]},
                        index=pd.Index([], name="row", dtype=int))


def _schema_columns(sheet: str, stages: list[str]) -> list[Column]:
    columns = list(SHEETS[sheet])
    if sheet == "suppliers":
        columns += [Column(f"{s}{STAGE_SUFFIX}", "label") for s in stages]
    return columns


def _parse_sheet(sheet: str, table: pd.DataFrame, stages: list[str],
                 problems: list[Problem]) -> pd.DataFrame:
    """Convert each cell to its column's kind; a bad cell becomes blank and a problem."""
    out = pd.DataFrame(index=table.index)
    for column in _schema_columns(sheet, stages):
        if column.name not in table.columns:
            if column.required:
                problems.append(Problem(sheet, 1, column.name,
                                        f"required column is missing; add a column headed "
                                        f"'{column.name}' (for example {column.example})."))
            out[column.name] = pd.Series([None] * len(table), index=table.index, dtype=object)
            continue
        values = []
        for row, cell in table[column.name].items():
            if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                if column.required:
                    problems.append(Problem(sheet, row, column.name,
                                            f"the cell is blank but '{column.name}' is required; "
                                            f"fill it in (for example {column.example})."))
                values.append(None)
                continue
            value, error = _convert(cell, column, sheet)
            if error:
                problems.append(Problem(sheet, row, column.name, error))
            values.append(value)
        out[column.name] = pd.Series(values, index=table.index, dtype=object)
    if sheet == "suppliers" and "kind" in stages:
        problems.append(Problem(sheet, 1, "kind_country", "a stage cannot be named 'kind'; rename the column."))
    if sheet == "suppliers" and "supplier" in table.columns and not stages:
        problems.append(Problem(sheet, 1, None, "no '<stage>_country' column; add at least one, "
                                                "for example 'refining_country'."))
    for name in table.columns:  # free columns (notes, sources) are kept as they are
        if name not in out.columns:
            out[name] = table[name]
    return out


#: What to type instead of a cell that is not a number: a share (0 to 1) or any other number.
SHARE_EXAMPLE = "enter a share between 0 and 1 (for example 0.6 for 60%)."
NUMBER_EXAMPLE = "enter a number such as 120."


#: Numbers that are never a percentage: "60%" there is a slip (0.6 kg, 0.6 USD), not a share.
NOT_PERCENT = {"a quantity": "enter it in the material's unit", "money per unit": "enter it in the currency"}


def _convert(cell: object, column: Column, sheet: str = "") -> tuple[object, str | None]:
    if column.kind == "number":
        share = column.name in UNIT_INTERVAL.get(sheet, ())
        value, error = _to_number(cell, SHARE_EXAMPLE if share else NUMBER_EXAMPLE)
        what = MAGNITUDE_LIMITS.get((sheet, column.name), (None, None))[1]
        if error is None and what in NOT_PERCENT and isinstance(cell, str) and cell.strip().endswith("%"):
            return None, (f"{describe(cell)}: {what} is not a percentage; {NOT_PERCENT[what]} (for example "
                          f"{column.example or 120}).")
        return value, error
    if column.kind == "bool":
        return _to_bool(cell)
    if column.kind == "label":
        return _to_label(cell), None
    return (cell if isinstance(cell, str) else _to_label(cell)), None


def _to_label(cell: object) -> str:
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell).strip()


def _to_number(cell: object, example: str = NUMBER_EXAMPLE) -> tuple[float | None, str | None]:
    if isinstance(cell, bool) or isinstance(cell, (dt.date, dt.datetime, dt.time)):
        return None, f"{describe(cell)} is not a number; {example}"
    if isinstance(cell, (int, float)):
        value = float(cell)
    else:
        text = str(cell).strip().replace("_", "")
        percent = text.endswith("%")
        try:
            value = float(text[:-1] if percent else text)
        except ValueError:
            return None, f"{describe(cell)} is not a number; {example}"
        if percent:
            value /= 100
    if not math.isfinite(value):
        return None, f"{describe(cell)} is not a finite number; enter an ordinary number."
    return value, None


def _to_bool(cell: object) -> tuple[bool | None, str | None]:
    if isinstance(cell, bool):
        return cell, None
    if isinstance(cell, (int, float)) and cell in (0, 1):
        return bool(cell), None
    text = str(cell).strip().lower()
    if text in TRUE_WORDS:
        return True, None
    if text in FALSE_WORDS:
        return False, None
    return None, f"{describe(cell)} is not true or false; enter TRUE or FALSE."


# --------------------------------------------------------------------------- checks

def check_for_size(tables: Tables, problems: list[Problem]) -> None:
    """Refuse sheets beyond the documented row limit before doing any work."""
    for sheet, table in tables.items():
        if len(table) > MAX_ROWS_PER_SHEET:
            problems.append(Problem(sheet, None, None,
                                    f"{len(table):,} rows is more than the limit of {MAX_ROWS_PER_SHEET:,}; "
                                    "split the instance or aggregate rows."))


def check_for_missing_sheets(tables: Tables, problems: list[Problem]) -> None:
    for sheet in REQUIRED_SHEETS:
        if sheet not in tables:
            names = ", ".join(c.name for c in SHEETS[sheet])
            problems.append(Problem(sheet, None, None,
                                    f"required sheet is missing; add a sheet named '{sheet}' "
                                    f"with columns {names}."))
    for sheet in ("periods", "materials"):
        if sheet in tables and tables[sheet].empty:
            problems.append(Problem(sheet, None, None, f"the sheet has no rows; list at least one {sheet[:-1]}."))
    if "demand" in tables and tables["demand"].empty:  # nothing to buy: a plan of nothing, 100% filled
        problems.append(Problem("demand", None, None, "the sheet has no rows; list the quantity of at least one "
                                                      "material in a period."))


def _cells(table: pd.DataFrame, column: str) -> Iterable[tuple[int, object]]:
    if column not in table.columns:
        return ()
    return ((row, v) for row, v in table[column].items() if v is not None)


def check_for_negative_values(typed: Tables, problems: list[Problem]) -> None:
    for sheet, columns in NONNEGATIVE.items():
        for column in columns:
            for row, value in _cells(typed[sheet], column):
                if value < 0:
                    problems.append(Problem(sheet, row, column,
                                            f"{describe(value)} is negative; enter 0 or more."))


def check_for_magnitudes(typed: Tables, problems: list[Problem]) -> None:
    """Numbers beyond the documented limits (schema.MAGNITUDE_LIMITS): no buyer types them, and HiGHS would
    read them as infinite or refuse the model."""
    for (sheet, column), (limit, what) in MAGNITUDE_LIMITS.items():
        for row, value in _cells(typed[sheet], column):
            if value > limit:
                problems.append(Problem(sheet, row, column, too_large(value, limit, what)))


_LARGER_UNIT = {
    "money per unit": "count money in thousands or millions of the currency",
    "a money total": "count money in thousands or millions of the currency",
    "a quantity": "use a larger unit, e.g. tonnes instead of kg",
    "a price multiplier": "a multiplier that large means the offer is gone: set availability 0 instead",
    "a CVaR weight": "a weight of 1e3 already ranks plans by CVaR alone",
    "a number of periods": "a disruption that outlasts the horizon ends with it: enter the horizon's length",
}


def too_large(value: float, limit: float, what: str) -> str:
    """The message for a number beyond its limit, with the way to bring it within."""
    return f"{describe(value)} is above the limit of {limit_text(limit)} for {what}; {_LARGER_UNIT[what]}."


def limit_text(limit: float) -> str:
    """A documented limit as the README writes it: 1e10, 1e3 (not 1e+10, 1e+03)."""
    mantissa, exponent = f"{limit:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def check_for_shares_outside_unit_interval(typed: Tables, problems: list[Problem]) -> None:
    for sheet, columns in UNIT_INTERVAL.items():
        for column in columns:
            for row, value in _cells(typed[sheet], column):
                positive = sheet == "scenarios"  # a scenario must be possible; an event may be switched off
                low_ok = value > 0 if positive else value >= 0
                if not (low_ok and value <= 1):
                    bound = "above 0 and at most 1" if positive else "between 0 and 1"
                    problems.append(Problem(sheet, row, column,
                                            f"{describe(value)} is outside the allowed range; enter a value "
                                            f"{bound} (for example 0.6 for 60%)."))


def check_for_duplicate_keys(typed: Tables, problems: list[Problem]) -> None:
    for sheet, key in KEYS.items():
        table = typed[sheet]
        seen: dict[tuple, int] = {}
        for row, values in zip(table.index, table[list(key)].itertuples(index=False, name=None)):
            if sheet in ("periods", "materials", "suppliers", "scenarios", "settings", "disruption_model") \
                    and values[0] is None:
                continue
            folded = tuple(v.casefold() if isinstance(v, str) else v for v in values)
            if folded in seen:
                shown = ", ".join(f"{k}={'(blank)' if v is None else v}" for k, v in zip(key, values))
                problems.append(Problem(sheet, row, key[-1] if len(key) == 1 else None,
                                        f"duplicate of row {seen[folded]} ({shown}); keep one of the two rows."))
            else:
                seen[folded] = row


def _rows(table: pd.DataFrame) -> Iterable[tuple[int, dict]]:
    """(spreadsheet row, cells) pairs; unlike iterrows, blank cells stay None."""
    return zip(table.index, table.to_dict("records"))


def _names(typed: Tables, sheet: str, column: str) -> set[str]:
    return {v for v in typed[sheet][column] if v is not None}


def check_for_unknown_names(typed: Tables, stages: list[str], problems: list[Problem]) -> None:
    """Every period, material, supplier, scenario and stage named must be defined."""
    known = {
        "period": (_names(typed, "periods", "period"), "periods"),
        "material": (_names(typed, "materials", "material"), "materials"),
        "supplier": (_names(typed, "suppliers", "supplier"), "suppliers"),
    }
    scenarios = _names(typed, "scenarios", "scenario")
    if typed["scenarios"].empty:
        scenarios = {"base"}
    known["scenario"] = (scenarios, "scenarios")
    known["stage"] = (set(stages), "suppliers")
    references = {
        "demand": ("material", "period"),
        "offers": ("supplier", "material", "period"),
        "disruptions": ("scenario", "supplier", "material", "stage", "start", "end"),
        "disruption_model": ("supplier", "material", "stage", "earliest_start"),
        "origin_caps": ("stage", "material"),
        "service_levels": ("material", "scenario"),
        "supplier_caps": ("supplier", "material"),
    }
    # a missing or empty defining sheet is already one problem: every name it would define is not another
    reported = {p.sheet for p in problems if p.row is None and p.column is None}
    for sheet, columns in references.items():
        for column in columns:
            kind = "period" if column in ("start", "end", "earliest_start") else column
            names, defined_in = known[kind]
            if not names and kind != "stage" and defined_in in reported:
                continue
            for row, value in _cells(typed[sheet], column):
                if value not in names:
                    if kind == "stage":
                        fix = (f"use one of {_listing(names)} (the '<stage>_country' columns of suppliers)"
                               if names else "add a '<stage>_country' column to suppliers")
                    elif not names:
                        fix = f"sheet '{defined_in}' lists no {kind}s; add it there"
                    else:
                        fix = f"use a {kind} listed in sheet '{defined_in}'"
                        close = suggestion(value, names, spelling=kind != "period")
                        if close:
                            fix += close
                        elif len(names) <= 8:
                            fix += f": {_listing(names)}"
                    problems.append(Problem(sheet, row, column, f"unknown {kind} {describe(value)}; {fix}."))


def _listing(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in sorted(names))


def check_for_supplier_kinds(typed: Tables, problems: list[Problem]) -> None:
    for row, value in _cells(typed["suppliers"], "kind"):
        if value.lower() not in SUPPLIER_KINDS:
            problems.append(Problem("suppliers", row, "kind",
                                    f"unknown kind {describe(value)}; use contract, spot or stockpile."))


def _kind_of(typed: Tables) -> dict[str, str]:
    suppliers = typed["suppliers"]
    return {s: str(k).lower() for s, k in zip(suppliers["supplier"], suppliers["kind"])
            if s is not None and k is not None}


def check_for_offer_terms(typed: Tables, problems: list[Problem]) -> None:
    """Terms that belong to one kind of supplier only, and floors above capacity."""
    offers = typed["offers"]
    kinds = _kind_of(typed)
    stockpile_blank_rows = set()
    for row, o in _rows(offers):
        kind = kinds.get(o["supplier"])
        if kind is None:
            continue
        if o["min_quantity"] is not None and o["min_quantity"] > 0 and kind != "contract":
            problems.append(Problem("offers", row, "min_quantity",
                                    f"min_quantity applies only to contracts, and '{o['supplier']}' is a {kind} "
                                    "supplier; leave the cell blank."))
        for column in ("reserve_limit", "reservation_fee"):
            if o[column] is None:
                continue
            if kind != "stockpile":
                problems.append(Problem("offers", row, column,
                                        f"{column} applies only to stockpiles, and '{o['supplier']}' is a {kind} "
                                        "supplier; leave the cell blank."))
            elif o["period"] is not None:
                problems.append(Problem("offers", row, column,
                                        f"{column} belongs on the offer's row with a blank period; "
                                        "move it there."))
        if kind == "stockpile" and o["period"] is None:
            stockpile_blank_rows.add((o["supplier"], o["material"]))
            if o["reserve_limit"] is None:
                problems.append(Problem("offers", row, "reserve_limit",
                                        f"stockpile '{o['supplier']}' has no reserve_limit for "
                                        f"'{o['material']}'; enter the most that can be reserved."))
        if (o["min_quantity"] is not None and o["capacity"] is not None
                and o["min_quantity"] > o["capacity"]):
            problems.append(Problem("offers", row, "min_quantity",
                                    f"min_quantity {describe(o['min_quantity'])} is above capacity "
                                    f"{describe(o['capacity'])}; lower it or raise the capacity."))
    for row, o in _rows(offers):
        if (kinds.get(o["supplier"]) == "stockpile" and o["period"] is not None
                and (o["supplier"], o["material"]) not in stockpile_blank_rows):
            problems.append(Problem("offers", row, "period",
                                    f"stockpile '{o['supplier']}' offers '{o['material']}' only in some periods; "
                                    "add a row with a blank period holding reserve_limit and reservation_fee."))


def check_for_probabilities(typed: Tables, problems: list[Problem]) -> None:
    scenarios = typed["scenarios"]
    probabilities = [p for p in scenarios["probability"] if p is not None]
    if len(scenarios) and len(probabilities) == len(scenarios):
        total = math.fsum(probabilities)
        if abs(total - 1) > 1e-6:
            problems.append(Problem("scenarios", None, "probability",
                                    f"the probabilities sum to {total:.6g}, not 1; adjust them so they sum to 1."))


def check_for_disruption_windows(typed: Tables, problems: list[Problem]) -> None:
    # a duplicate period is its own problem; its second row must not move the period in this order
    listed = dict.fromkeys(v for v in typed["periods"]["period"] if v is not None)
    order = {p: i for i, p in enumerate(listed)}
    for row, d in _rows(typed["disruptions"]):
        if d["start"] in order and d["end"] in order and order[d["start"]] > order[d["end"]]:
            problems.append(Problem("disruptions", row, "end",
                                    f"end {describe(d['end'])} is before start {describe(d['start'])}; "
                                    "swap them."))


def check_for_disruption_model(typed: Tables, problems: list[Problem]) -> None:
    """Durations are whole numbers of periods, every range runs from its min to its max, and the events of a
    group (which start together) give the same probability and earliest start."""
    model = typed["disruption_model"]
    for row, d in _rows(model):
        for column in ("duration_min", "duration_max"):
            value = d[column]
            if value is not None and not (value >= 1 and float(value).is_integer()):
                problems.append(Problem("disruption_model", row, column,
                                        f"{describe(value)} is not a whole number of periods of at least 1; "
                                        "enter 1, 2, 3, ..."))
        for low, high in (("duration_min", "duration_max"), ("availability_min", "availability_max"),
                          ("price_multiplier_min", "price_multiplier_max")):
            if d[low] is not None and d[high] is not None and d[low] > d[high]:
                problems.append(Problem("disruption_model", row, high,
                                        f"{high} {describe(d[high])} is below {low} {describe(d[low])}; "
                                        "swap them."))
    first: dict[str, tuple[int, dict]] = {}
    for row, d in _rows(model):
        if d["event"] is None:
            continue
        group = d["group"] if d["group"] is not None else d["event"]
        if group not in first:
            first[group] = (row, d)
            continue
        other_row, other = first[group]
        for column in ("probability", "earliest_start"):
            if d[column] != other[column]:
                shown = "(blank)" if d[column] is None else describe(d[column])
                theirs = "(blank)" if other[column] is None else describe(other[column])
                problems.append(Problem("disruption_model", row, column,
                                        f"the events of group '{group}' start together, but this row gives "
                                        f"{shown} and row {other_row} gives {theirs}; make them equal."))


def check_for_settings(typed: Tables, problems: list[Problem]) -> Settings:
    values: dict[str, object] = {}
    for row, s in _rows(typed["settings"]):
        key, raw = s["key"], s["value"]
        if key is None or raw is None:
            continue
        key = key.lower()
        if key not in SETTINGS_DEFAULTS:
            problems.append(Problem("settings", row, "key",
                                    f"unknown setting {describe(key)}; use one of {_listing(SETTINGS_DEFAULTS)}."))
            continue
        if key in NUMERIC_SETTINGS:
            number, error = _to_number(raw)
            if error:
                problems.append(Problem("settings", row, "value", f"{key}: {error}"))
                continue
            limits = {"cvar_level": (0, 1, "above 0 and below 1"), "time_limit": (0, math.inf, "above 0")}
            low, high, words = limits.get(key, (-math.inf, math.inf, ""))
            if key in limits and not (low < number < high):
                problems.append(Problem("settings", row, "value",
                                        f"{key} {describe(raw)} is out of range; enter a value {words}."))
                continue
            if key in SETTING_LIMITS and abs(number) > SETTING_LIMITS[key][0]:
                problems.append(Problem("settings", row, "value",
                                        f"{key}: " + too_large(abs(number), *SETTING_LIMITS[key])))
                continue
            if key == "cvar_weight" and number < 0:
                problems.append(Problem("settings", row, "value",
                                        f"cvar_weight {describe(raw)} is negative; enter 0 or more."))
                continue
            values[key] = number
        else:
            values[key] = str(raw)
    return Settings(**{**{k: v for k, v in SETTINGS_DEFAULTS.items()}, **values})


def _sorted(problems: list[Problem]) -> list[Problem]:
    order = {s: i for i, s in enumerate(SHEETS)}
    return sorted(problems, key=lambda p: (order.get(p.sheet or "", -1), p.row or 0, p.column or ""))


# --------------------------------------------------------------------------- assembly

def _assemble(typed: Tables, stages: list[str], settings: Settings, tables: Tables,
              source: str) -> SourcingData:
    periods = list(typed["periods"]["period"])
    materials = typed["materials"].set_index("material")[["unit", "shortage_penalty", "holding_cost",
                                                          "initial_inventory"]].copy()
    for column in ("holding_cost", "initial_inventory"):
        materials[column] = materials[column].fillna(0.0)
    for column in ("shortage_penalty", "holding_cost", "initial_inventory"):
        materials[column] = materials[column].astype(float)

    given = typed["demand"].set_index(["material", "period"])["quantity"].astype(float)
    full = pd.MultiIndex.from_product([materials.index, periods], names=["material", "period"])
    demand = given.reindex(full, fill_value=0.0).to_frame("quantity")

    suppliers = typed["suppliers"].set_index("supplier")
    suppliers["kind"] = suppliers["kind"].str.lower()
    suppliers = suppliers[["kind"] + [f"{s}{STAGE_SUFFIX}" for s in stages]]
    suppliers.columns = ["kind"] + stages

    offers, stockpiles = _expand_offers(typed["offers"], suppliers, periods)

    scenarios = typed["scenarios"]
    if scenarios.empty:
        scenarios = pd.DataFrame({"probability": [1.0], "description": ["single scenario"]},
                                 index=pd.Index(["base"], name="scenario"))
    else:
        scenarios = scenarios.set_index("scenario")[["probability", "description"]].copy()
        scenarios["probability"] = scenarios["probability"].astype(float)

    disruptions = typed["disruptions"][["scenario", "supplier", "material", "country", "stage",
                                        "start", "end", "availability", "price_multiplier"]].copy()
    disruptions["start"] = disruptions["start"].fillna(periods[0])
    disruptions["end"] = disruptions["end"].fillna(periods[-1])
    disruptions["availability"] = disruptions["availability"].fillna(1.0).astype(float)
    disruptions["price_multiplier"] = disruptions["price_multiplier"].fillna(1.0).astype(float)

    caps = typed["origin_caps"][["country", "stage", "material", "max_share", "per_period"]].copy()
    caps["per_period"] = caps["per_period"].fillna(False).astype(bool)
    caps["max_share"] = caps["max_share"].astype(float)
    caps.insert(0, "cap", [_cap_name(c) for c in caps.itertuples()])

    supplier_caps = typed["supplier_caps"][["supplier", "material", "max_share"]].copy()
    supplier_caps["max_share"] = supplier_caps["max_share"].astype(float)

    floors_elsewhere = _resolve_fill_floors(typed["service_levels"], materials.index, pd.Index([None]))
    unnamed = (floors_elsewhere["min_fill_rate"].droplevel("scenario")
               .reindex(materials.index, fill_value=0.0).astype(float))

    data = SourcingData(
        periods=periods, materials=materials, demand=demand, suppliers=suppliers, stages=stages,
        offers=offers, stockpiles=stockpiles, scenarios=scenarios, disruptions=disruptions,
        origin_caps=caps, fill_floors=_resolve_fill_floors(typed["service_levels"], materials.index,
                                                           scenarios.index),
        supplier_caps=supplier_caps, settings=settings, cases=typed["cases"],
        tables=tables, source=source, disruption_model=_disruption_model(typed["disruption_model"], periods),
        unnamed_fill_floors=unnamed,
    )
    return data


def _disruption_model(table: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """The events with defaults filled in: group = event, earliest start = first period, ranges of one value."""
    model = table[[c.name for c in SHEETS["disruption_model"]]].copy()
    model["group"] = model["group"].where(model["group"].notna(), model["event"])
    model["earliest_start"] = model["earliest_start"].fillna(periods[0] if periods else None)
    model["duration_max"] = model["duration_max"].where(model["duration_max"].notna(), model["duration_min"])
    for column in ("duration_min", "duration_max"):
        model[column] = model[column].astype(float).astype(int) if len(model) else model[column].astype(int)
    for low, high in (("availability_min", "availability_max"), ("price_multiplier_min", "price_multiplier_max")):
        model[low] = model[low].astype(float).fillna(1.0)
        model[high] = model[high].astype(float).fillna(model[low])
    model["probability"] = model["probability"].astype(float)
    return model


#: sheets whose rows filter offers: an unknown country there makes a row match nothing (warned), not an error
DISRUPTION_SHEETS = ("disruptions", "disruption_model")


def check_for_country_names(typed: Tables, stages: list[str], problems: list[Problem],
                            also_known: set[str] = frozenset()) -> None:
    """A cap (or the dependency country) on a country no supplier has would silently hold nothing: an error,
    with the country meant when one is close. In disruptions, a country that differs from a supplier's only
    in letter case or look-alike letters is an error too; any other unknown country there makes the row
    match no offer, which `check_for_disruptions_that_match_nothing` reports."""
    suppliers = typed["suppliers"]
    known = {c for s in stages for c in suppliers.get(f"{s}{STAGE_SUFFIX}", []) if c is not None}
    for sheet, row, column, value in _country_cells(typed):
        if value in known or (sheet not in DISRUPTION_SHEETS and value in also_known):
            continue
        meant = [n for n in known if skeleton(n) == skeleton(str(value))]
        if meant:  # a wrong letter case or a look-alike letter: the country meant is plain
            problems.append(Problem(sheet, row, column, f"unknown country {describe(value)}; did you mean "
                                                        f"'{meant[0]}'?{_lookalike_clause(value)} Countries are "
                                                        "matched exactly as the suppliers sheet writes them."))
            continue
        if sheet in DISRUPTION_SHEETS:
            continue
        what = "a cap on it" if sheet == "origin_caps" else "its share"
        close = suggestion(value, known)
        fix = close or (f"; the suppliers' countries are {_listing(known)}" if 0 < len(known) <= 12 else "")
        problems.append(Problem(sheet, row, column,
                                f"no supplier has country {describe(value)}, so {what} would have no effect"
                                f"{fix}. Use a country as the suppliers sheet writes it."))


def _lookalike_clause(value: object) -> str:
    signs = lookalikes(str(value))
    return f" {describe_text(value)} has " + " and ".join(signs) + "." if signs else ""


def _country_cells(typed: Tables) -> list[tuple[str, int, str, object]]:
    places = [(sheet, row, "country", value) for sheet in (*DISRUPTION_SHEETS, "origin_caps")
              for row, value in _cells(typed[sheet], "country")
              if not (sheet == "origin_caps" and value == EACH_COUNTRY)]
    places += [("settings", row, "value", s["value"]) for row, s in _rows(typed["settings"])
               if s["key"] is not None and str(s["key"]).lower() == "dependency_country" and s["value"]]
    return places


def check_for_lookalike_names(typed: Tables, stages: list[str], notes: list[str]) -> None:
    """A name defined with a letter that only looks Latin (or an invisible character) is flagged: every
    reference typed with the plain letter would be unknown, and the rows that copy it look right."""
    defined = [("periods", "period"), ("materials", "material"), ("suppliers", "supplier"),
               ("scenarios", "scenario")] + [("suppliers", f"{s}{STAGE_SUFFIX}") for s in stages]
    seen: set[tuple[str, str]] = set()
    for sheet, column in defined:
        for row, value in _cells(typed[sheet], column):
            if isinstance(value, str) and (column, value) not in seen and mixes_lookalikes(value):
                seen.add((column, value))
                notes.append(f"sheet '{sheet}', row {row}, column '{column}': {describe_text(value)} has "
                             + " and ".join(lookalikes(value)) + "; retype it if it should be plain letters.")


def check_for_disruptions_that_match_nothing(data: SourcingData, notes: list[str]) -> None:
    """A disruption row whose filters match no offer in its periods changes nothing: most often a typo or a
    filter too many. Warn, naming the row."""
    if data.disruptions.empty:
        return
    offers = data.offers.reset_index()
    position = {p: i for i, p in enumerate(data.periods)}
    period_index = offers["period"].map(position).to_numpy()
    countries = offer_countries(data, offers)
    known = data.countries()
    columns, matched = offer_columns(offers), {}
    for d in data.disruptions.itertuples():
        if disruption_matches(d, columns, countries, data.stages, period_index, position, matched).any():
            continue
        filters = ", ".join(f"{k} {describe(getattr(d, k))}" for k in ("supplier", "material", "country", "stage")
                            if getattr(d, k) is not None)
        why = ""
        if d.country is not None and d.country not in known:
            why = f" (no supplier has country {describe(d.country)}{suggestion(d.country, known)})"
        notes.append(f"sheet 'disruptions', row {d.Index}: no offer matches "
                     f"{filters or 'the row'} in {d.start}..{d.end}{why}, so the row changes nothing; "
                     "check its filters.")


def _cap_name(cap) -> str:
    name = cap.country
    if cap.stage is not None:
        name += f" {cap.stage}"
    if cap.material is not None:
        name += f" {cap.material}"
    return name + (" per period" if cap.per_period else "")


def _expand_offers(table: pd.DataFrame, suppliers: pd.DataFrame,
                   periods: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per offered (supplier, material, period); a period row replaces the blank-period row."""
    rows = []
    specific = {(o.supplier, o.material, o.period) for o in table.itertuples() if o.period is not None}
    for o in table.itertuples():
        for period in ([o.period] if o.period is not None else periods):
            if o.period is None and (o.supplier, o.material, period) in specific:
                continue
            rows.append((o.supplier, o.material, period, o.price, o.capacity, o.min_quantity))
    offers = pd.DataFrame(rows, columns=["supplier", "material", "period", "price", "capacity", "min_quantity"])
    offers["kind"] = offers["supplier"].map(suppliers["kind"])
    offers["price"] = offers["price"].astype(float)
    offers["capacity"] = offers["capacity"].astype(float).fillna(np.inf)
    offers["min_quantity"] = offers["min_quantity"].astype(float).fillna(0.0)
    position = {p: i for i, p in enumerate(periods)}
    offers["_order"] = offers["period"].map(position)
    offers = (offers.sort_values(["supplier", "material", "_order"]).drop(columns="_order")
              .set_index(["supplier", "material", "period"]))
    offers = offers[["kind", "price", "capacity", "min_quantity"]]

    blank = table[table["period"].isna()] if len(table) else table
    stock = blank[blank["supplier"].map(suppliers["kind"]) == "stockpile"]
    stockpiles = pd.DataFrame({
        "supplier": stock["supplier"], "material": stock["material"],
        "reserve_limit": stock["reserve_limit"].astype(float),
        "reservation_fee": stock["reservation_fee"].astype(float).fillna(0.0),
    }).set_index(["supplier", "material"])
    return offers, stockpiles


def _resolve_fill_floors(levels: pd.DataFrame, materials: pd.Index, scenarios: pd.Index) -> pd.DataFrame:
    """The most specific service_levels row wins: material+scenario, material, scenario, blank."""
    rank = {}
    for row in levels.itertuples():
        rank[(row.material, row.scenario)] = float(row.min_fill_rate)
    records = []
    for material in materials:
        for scenario in scenarios:
            for key in ((material, scenario), (material, None), (None, scenario), (None, None)):
                if key in rank:
                    records.append((material, scenario, rank[key]))
                    break
    return pd.DataFrame(records, columns=["material", "scenario", "min_fill_rate"]).set_index(
        ["material", "scenario"])


def input_hash(tables: Tables) -> str:
    """A stable fingerprint of the input as read, for the run information sheet."""
    digest = hashlib.sha256()
    for sheet in sorted(tables):
        digest.update(sheet.encode())
        digest.update(tables[sheet].to_csv().encode())
    return digest.hexdigest()[:16]
