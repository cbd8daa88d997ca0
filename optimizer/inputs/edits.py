"""What-if edits: the `cases` sheet and the command-line overrides, one parser for both.

An edit is (sheet, where, column, action, value) applied to the raw input
tables; the edited tables are validated again, so a case can never slip bad
data past the checks. Nothing here solves.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from .data import SourcingData
from .errors import InputError, Problem, describe
from .reader import Tables
from .schema import MAGNITUDE_LIMITS, SHEETS, STAGE_SUFFIX
from .validate import limit_text, too_large, validate

ACTIONS = ("set", "scale", "drop")


@dataclass(frozen=True)
class Edit:
    """One edit. where is a list of (column, operator, value); value None means a blank cell.

    origin names where it came from (a cases row or a command-line option), for messages.
    create: when nothing matches a `set`, add a row built from the where conditions (overrides only).
    """

    sheet: str
    where: tuple[tuple[str, str, str | None], ...]
    column: str
    action: str
    value: object
    origin: Problem
    create: bool = False
    optional: bool = False  # a `drop` that may match nothing
    note: str = ""  # said to the user when the edit is applied (e.g. which scenarios an override dropped)


class CapKey(NamedTuple):
    """An origin cap as `--cap` and the frontier name it: `country` or `country:stage` (stage None = any)."""

    country: str
    stage: str | None


def parse_cap_key(text: str) -> CapKey:
    """`China` -> (China, any stage); `China:refining` -> (China, refining): the one reading of the syntax."""
    country, _, stage = text.partition(":")
    return CapKey(country.strip(), stage.strip() or None)


def cap_label(text: str) -> str:
    """How a cap typed as `China:refining` reads in titles: "China refining"; `*:refining` (every country on its
    own) reads "single-country refining"."""
    key = parse_cap_key(text)
    country = "single-country" if key.country == "*" else key.country
    return f"{country} {key.stage}" if key.stage else country


def parse_where(text: str | None, origin: Problem) -> tuple[tuple[str, str, str | None], ...]:
    """`supplier=Lynas; material=NdPr oxide` -> conditions; `period=` is a blank cell; `!=` negates."""
    if text is None or not str(text).strip():
        return ()
    conditions = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)\s*(.*?)\s*", part)
        if not match:
            raise InputError([_at(origin, "where", f"cannot read the condition {describe(part.strip())}; "
                                                   "write column=value, several joined by ';'.")])
        column, operator, value = match.groups()
        conditions.append((column.lower(), operator, value or None))
    return tuple(conditions)


def _at(origin: Problem, column: str | None, message: str) -> Problem:
    """A problem located at the edit's origin: its cases row, or the command-line option."""
    if origin.sheet == "cases":
        return Problem(origin.sheet, origin.row, column, message)
    return Problem(None, None, None, f"{origin.message}: {message}")


def case_edits(data: SourcingData) -> dict[str, list[Edit]]:
    """The cases sheet as named lists of edits, in sheet order."""
    cases: dict[str, list[Edit]] = {}
    problems: list[Problem] = []
    for row, c in zip(data.cases.index, data.cases.to_dict("records")):
        origin = Problem("cases", row, None, "")
        if c["case"] is None:
            continue
        try:
            action = str(c["action"]).lower()
            if action not in ACTIONS:
                raise InputError([_at(origin, "action", f"unknown action {describe(c['action'])}; "
                                                        "use set, scale or drop.")])
            edit = Edit(sheet=str(c["sheet"]).lower(), where=parse_where(c["where"], origin),
                        column=str(c["column"]).lower(), action=action, value=c["value"], origin=origin)
            cases.setdefault(c["case"], []).append(edit)
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    return cases


def _matches(table: pd.DataFrame, where, edit: Edit) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    schema = {c.name for c in SHEETS[edit.sheet]}
    for column, operator, value in where:
        if column not in table.columns and column in schema:  # an optional column left out: all blank
            table = table.assign(**{column: None})
        if column not in table.columns:
            known = ", ".join(sorted(set(table.columns) | schema))
            raise InputError([_at(edit.origin, "where", f"sheet '{edit.sheet}' has no column '{column}' to match; "
                                                        f"use one of {known}.")])
        cells = table[column].map(_as_text)
        hit = cells.isna() if value is None else cells.eq(value)
        mask &= ~hit if operator == "!=" else hit
    return mask


def _as_text(cell: object) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float):
        if math.isnan(cell):
            return None
        if cell.is_integer():
            return str(int(cell))
    return str(cell).strip()


def _number(value: object, edit: Edit, what: str) -> float:
    try:
        number = float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise InputError([_at(edit.origin, "value", f"{what} needs a number, not {describe(value)}.")])
    return number


#: Where the edits went: (sheet, row, column) -> the edit that wrote the cell; (sheet, row, None) -> the edit
#: that added the row (overrides only); (sheet, None, None) -> the edits that changed the sheet.
Touched = dict


def apply_edits(tables: Tables, edits: list[Edit], touched: Touched | None = None) -> Tables:
    """A copy of tables with every edit applied in order. Raises InputError naming the edit's origin.

    touched, when given, is filled with where each edit went (see Touched), so that a problem the edited
    tables have can be laid at the edit that made it.
    """
    tables = {name: table.copy() for name, table in tables.items()}
    touched = {} if touched is None else touched
    for edit in edits:
        if edit.sheet not in SHEETS or edit.sheet == "cases":
            raise InputError([_at(edit.origin, "sheet", f"unknown sheet {describe(edit.sheet)}; use one of "
                                                        + ", ".join(s for s in SHEETS if s != "cases") + ".")])
        table = tables.get(edit.sheet)
        if table is None:
            table = pd.DataFrame({c.name: pd.Series(dtype=object) for c in SHEETS[edit.sheet]},
                                 index=pd.Index([], name="row", dtype=int))
        known = set(table.columns) | {c.name for c in SHEETS[edit.sheet]}
        if edit.sheet == "suppliers":
            known |= {c for c in table.columns if c.endswith(STAGE_SUFFIX)}
        if edit.column not in known:
            raise InputError([_at(edit.origin, "column", f"sheet '{edit.sheet}' has no column "
                                                         f"{describe(edit.column)}; use one of "
                                                         + ", ".join(sorted(known)) + ".")])
        mask = _matches(table, edit.where, edit)
        if not mask.any():
            if edit.optional:
                continue
            if edit.action == "set" and edit.create:
                table = _append(table, edit)
                tables[edit.sheet] = table
                touched[(edit.sheet, int(table.index[-1]), None)] = edit
                touched.setdefault((edit.sheet, None, None), []).append(edit)
                continue
            conditions = "; ".join(f"{c}{o}{v or ''}" for c, o, v in edit.where) or "(all rows)"
            raise InputError([_at(edit.origin, "where", f"no row of sheet '{edit.sheet}' matches "
                                                        f"{describe(conditions)}; check the names.")])
        touched.setdefault((edit.sheet, None, None), []).append(edit)
        if edit.action != "drop":
            for row in table.index[mask]:
                touched[(edit.sheet, int(row), edit.column)] = edit
        if edit.action == "drop":
            table = table[~mask]
        elif edit.action == "set":
            if edit.column not in table.columns:
                table[edit.column] = None
            table[edit.column] = table[edit.column].astype(object)
            table.loc[mask, edit.column] = _as_text(edit.value) if not isinstance(edit.value, float) else edit.value
        else:
            factor = _number(edit.value, edit, "scale")
            if factor < 0:
                raise InputError([_at(edit.origin, "value", f"scale needs a factor of 0 or more, not "
                                                            f"{describe(edit.value)}.")])
            if edit.column not in table.columns:
                table[edit.column] = None
            column = table[edit.column].astype(object)
            limit = MAGNITUDE_LIMITS.get((edit.sheet, edit.column))
            for row in table.index[mask]:
                cell = column[row]
                if _as_text(cell) is None:
                    continue  # a blank (unlimited capacity, default term) stays blank
                before = _number(cell, edit, f"scaling {edit.sheet} row {row}")
                scaled = before * factor
                if not math.isfinite(scaled) or (limit is not None and scaled > limit[0]):
                    raise InputError([_at(edit.origin, "value", _scaled_too_far(edit, row, before, scaled,
                                                                                limit))])
                column[row] = scaled
            table[edit.column] = column
        tables[edit.sheet] = table.astype(object).where(table.notna(), None)
    return tables


def _scaled_too_far(edit: Edit, row: int, before: float, scaled: float, limit) -> str:
    """A scale factor that takes a cell beyond what the input may hold, in the words of the edit (the scaled
    number is the edit's result, never shown as a value the user typed)."""
    cell = f"the {edit.column} {describe(before)} in sheet '{edit.sheet}', row {row}"
    if limit is None:
        return f"scaling {cell} by {describe(edit.value)} gives a number too large to compute; use a smaller factor."
    bound, what = limit
    result = "a number too large to compute" if not math.isfinite(scaled) else f"{scaled:.3g}".replace("e+", "e")
    return (f"scaling {cell} by {describe(edit.value)} gives {result}, above the limit of "
            f"{limit_text(bound)} for {what}; use a smaller factor.")


def _append(table: pd.DataFrame, edit: Edit) -> pd.DataFrame:
    row = {c: None for c in table.columns}
    for column, operator, value in edit.where:
        row[column] = value
    row[edit.column] = edit.value
    number = int(table.index.max()) + 1 if len(table) else 2
    added = pd.DataFrame([row], index=pd.Index([number], name="row"), dtype=object)
    return pd.concat([table.astype(object), added])


def apply_case(data: SourcingData, name: str, edits: list[Edit]) -> SourcingData:
    """Validated data for one case (or set of overrides). A problem the edits leave is laid at the edit that
    made it: a row of the cases sheet, or the command-line option as the user typed it."""
    touched: Touched = {}
    tables = apply_edits(data.tables, edits, touched)
    try:
        edited = validate(tables, source=f"{data.source} [{name}]", known_countries=data.countries())
    except InputError as error:
        problems = list(dict.fromkeys(_blame(name, edits, touched, p) for p in error.problems))
        raise InputError(problems) from None
    edited.warnings.extend(dict.fromkeys(edit.note for edit in edits if edit.note))
    return edited


_VERBS = {"set": "sets", "scale": "scales", "drop": "drops"}


def _blame(name: str, edits: list[Edit], touched: Touched, problem: Problem) -> Problem:
    """The problem an edited table has, located at the edit that made it (see apply_case)."""
    cell = touched.get((problem.sheet, problem.row, problem.column))
    added = touched.get((problem.sheet, problem.row, None))
    edit = cell or added
    where = problem.location()
    if edit is not None:
        if edit.origin.sheet == "cases":
            return Problem("cases", edit.origin.row, "value" if edit.action != "drop" else "action",
                           f"case '{name}' {_VERBS[edit.action]} {where}: {problem.message}")
        if added is not None or edit.action == "set":  # the value is the option's own: no (made-up) row
            return Problem(None, None, None, f"{edit.origin.message}: {problem.message}")
        return Problem(None, None, None, f"{edit.origin.message} {_VERBS[edit.action]} {where}: {problem.message}")
    # A problem of a cell no edit wrote (a sum, a name a drop left dangling): the edits of its sheet, or all.
    suspects = touched.get((problem.sheet, None, None)) or edits
    origins = list(dict.fromkeys(e.origin for e in suspects))
    if origins[0].sheet == "cases":
        rows = sorted({o.row for o in origins})
        also = f" (its rows {', '.join(map(str, rows))})" if len(rows) > 1 else ""
        return Problem("cases", rows[0], None, f"after the edits of case '{name}'{also}, {problem}")
    options = ", ".join(o.message.removeprefix("option ") for o in origins)
    return Problem(None, None, None, f"after option{'s' if len(origins) > 1 else ''} {options}: {problem}")


# --------------------------------------------------------------------------- overrides

@dataclass
class Overrides:
    """The command line's one-off what-ifs, turned into edits by `edits()`."""

    caps: list[str] | None = None                # "China=0.4" or "China:refining=0.3"
    fill_rate: list[str] | None = None           # "0.97" or "Dy oxide=0.98"
    cvar_weight: float | None = None
    cvar_level: float | None = None
    scale_capacity: list[str] | None = None      # "Lynas=2"
    scale_price: list[str] | None = None         # "Lynas=1.1"
    drop_supplier: list[str] | None = None       # "Project Vault"
    probability: list[str] | None = None         # "heavy-REE controls=0.5" (others rescaled)

    def edits(self, tables: Tables) -> list[Edit]:
        edits: list[Edit] = []
        for text in self.caps or ():
            key, value = _pair(text, "--cap", "China=0.4 or China:refining=0.3")
            cap = parse_cap_key(key)
            where = (("country", "=", cap.country), ("stage", "=", cap.stage))
            edits.append(Edit("origin_caps", where, "max_share", "set", value, _option("--cap", text), create=True))
        for text in self.fill_rate or ():
            if "=" in text:
                material, value = _pair(text, "--fill-rate", "0.97 or 'Dy oxide=0.98'")
                where = (("material", "=", material), ("scenario", "=", None))
                edits.append(Edit("service_levels", where, "min_fill_rate", "set", value,
                                  _option("--fill-rate", text), create=True))
            else:
                levels = tables.get("service_levels")
                where = () if levels is not None and len(levels) else (("material", "=", None),)
                edits.append(Edit("service_levels", where, "min_fill_rate", "set", text,
                                  _option("--fill-rate", text), create=True))
        for key, value in (("cvar_weight", self.cvar_weight), ("cvar_level", self.cvar_level)):
            if value is not None:
                edits.append(Edit("settings", (("key", "=", key),), "value", "set", str(value),
                                  _option(f"--{key.replace('_', '-')}", str(value)), create=True))
        for option, column, texts in (("--scale-capacity", "capacity", self.scale_capacity),
                                      ("--scale-price", "price", self.scale_price)):
            for text in texts or ():
                name, value = _pair(text, option, "Lynas=2")
                edits.append(Edit("offers", (("supplier", "=", name),), column, "scale", value,
                                  _option(option, text)))
        for name in self.drop_supplier or ():
            origin = _option("--drop-supplier", name)
            edits.append(Edit("suppliers", (("supplier", "=", name),), "supplier", "drop", None, origin))
            for sheet in ("offers", "disruptions", "disruption_model", "supplier_caps"):  # every row that names it
                edits.append(Edit(sheet, (("supplier", "=", name),), "supplier", "drop", None, origin,
                                  optional=True))
        if self.probability:
            edits += _probability_edits(tables, self.probability)
        return edits


def _option(option: str, text: str) -> Problem:
    return Problem(None, None, None, f"option {option} {text}")


def _pair(text: str, option: str, example: str) -> tuple[str, str]:
    key, sep, value = text.rpartition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError([Problem(None, None, None, f"option {option} {describe(text)}: write it as {example}.")])
    return key.strip(), value.strip()


def _probability_edits(tables: Tables, texts: list[str]) -> list[Edit]:
    """Set these scenarios' probabilities and scale the others so that all still sum to 1. Probabilities
    that sum to 1 on their own keep only those scenarios: the others are dropped (with their disruptions
    and service levels), and the user is told which."""
    scenarios = tables.get("scenarios")
    names = [] if scenarios is None else [_as_text(c) for c in scenarios["scenario"]]
    given: dict[str, tuple[float, Problem]] = {}
    for text in texts:
        name, value = _pair(text, "--probability", "'heavy-REE controls=0.5'")
        origin = _option("--probability", text)
        new = _number(value, Edit("scenarios", (), "probability", "set", value, origin), "--probability")
        if not 0 < new <= 1:
            raise InputError([_at(origin, None, "a probability must be above 0 and at most 1 (1 keeps only "
                                                "this scenario).")])
        if name not in names:
            if not names and name == "base" and new == 1:  # the one implicit scenario: nothing to change
                return []
            listing = ", ".join(f"'{n}'" for n in names if n) or "none: the instance has one scenario, 'base'"
            raise InputError([_at(origin, None, f"no scenario named {describe(name)}; the scenarios are {listing}.")])
        if name in given:
            raise InputError([_at(origin, None, f"scenario {describe(name)} is given twice; give it once.")])
        given[name] = (new, origin)
    total = math.fsum(p for p, _ in given.values())
    first = next(iter(given.values()))[1]
    origins = [o for _, o in given.values()]
    everything = Problem(None, None, None, "option " + " ".join(
        "--probability " + o.message.removeprefix("option --probability ") for o in origins)) \
        if len(origins) > 1 else first
    if total > 1 + 1e-9:
        raise InputError([_at(everything, None, f"the probabilities given sum to {total:.6g}, more than 1; "
                                                "lower them.")])
    others = [n for n in names if n not in given]
    edits = [Edit("scenarios", (("scenario", "=", n),), "probability", "set", repr(p), o) for n, (p, o) in given.items()]
    if not others:
        if total < 1 - 1e-6:
            raise InputError([_at(everything, None, f"every scenario is given, and the probabilities sum to "
                                                    f"{total:.6g}, not 1; make them sum to 1.")])
        return edits
    if total >= 1 - 1e-6:
        dropped = ", ".join(f"'{n}'" for n in others)
        kept = " and ".join(f"'{n}'" for n in given)
        note = (f"{everything.message}: only {'scenario' if len(given) == 1 else 'scenarios'} {kept} "
                f"{'is' if len(given) == 1 else 'are'} kept; {dropped} "
                f"{'is' if len(others) == 1 else 'are'} dropped, with their disruptions and service levels.")
        for n in others:
            for sheet in ("scenarios", "disruptions", "service_levels"):
                edits.append(Edit(sheet, (("scenario", "=", n),), "scenario", "drop", None, everything,
                                  optional=sheet != "scenarios", note=note))
        return edits
    rest = 0.0
    for name, cell in zip(names, scenarios["probability"]):
        if name not in given and _as_text(cell) is not None:
            rest += _number(cell, Edit("scenarios", (), "probability", "scale", cell, everything), "--probability")
    if rest <= 0:
        raise InputError([_at(everything, None, "the other scenarios have no probability to rescale; give "
                                                "probabilities that sum to 1 to keep only those scenarios.")])
    factor = (1 - total) / rest
    for n in others:
        edits.append(Edit("scenarios", (("scenario", "=", n),), "probability", "scale", repr(factor), everything))
    return edits
