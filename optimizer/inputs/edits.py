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
from .schema import SHEETS, STAGE_SUFFIX
from .validate import validate

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


class CapKey(NamedTuple):
    """An origin cap as `--cap` and the frontier name it: `country` or `country:stage` (stage None = any)."""

    country: str
    stage: str | None


def parse_cap_key(text: str) -> CapKey:
    """`China` -> (China, any stage); `China:refining` -> (China, refining): the one reading of the syntax."""
    country, _, stage = text.partition(":")
    return CapKey(country.strip(), stage.strip() or None)


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


def apply_edits(tables: Tables, edits: list[Edit]) -> Tables:
    """A copy of tables with every edit applied in order. Raises InputError naming the edit's origin."""
    tables = {name: table.copy() for name, table in tables.items()}
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
                continue
            conditions = "; ".join(f"{c}{o}{v or ''}" for c, o, v in edit.where) or "(all rows)"
            raise InputError([_at(edit.origin, "where", f"no row of sheet '{edit.sheet}' matches "
                                                        f"{describe(conditions)}; check the names.")])
        if edit.action == "drop":
            table = table[~mask]
        elif edit.action == "set":
            if edit.column not in table.columns:
                table[edit.column] = None
            table[edit.column] = table[edit.column].astype(object)
            table.loc[mask, edit.column] = _as_text(edit.value) if not isinstance(edit.value, float) else edit.value
        else:
            factor = _number(edit.value, edit, "scale")
            if edit.column not in table.columns:
                table[edit.column] = None
            column = table[edit.column].astype(object)
            for row in table.index[mask]:
                cell = column[row]
                if _as_text(cell) is None:
                    continue  # a blank (unlimited capacity, default term) stays blank
                column[row] = _number(cell, edit, f"scaling {edit.sheet} row {row}") * factor
            table[edit.column] = column
        tables[edit.sheet] = table.astype(object).where(table.notna(), None)
    return tables


def _append(table: pd.DataFrame, edit: Edit) -> pd.DataFrame:
    row = {c: None for c in table.columns}
    for column, operator, value in edit.where:
        row[column] = value
    row[edit.column] = edit.value
    number = int(table.index.max()) + 1 if len(table) else 2
    added = pd.DataFrame([row], index=pd.Index([number], name="row"), dtype=object)
    return pd.concat([table.astype(object), added])


def apply_case(data: SourcingData, name: str, edits: list[Edit]) -> SourcingData:
    """Validated data for one case (or set of overrides); input errors say which case broke what."""
    tables = apply_edits(data.tables, edits)
    try:
        edited = validate(tables, source=f"{data.source} [{name}]")
    except InputError as error:
        raise InputError([Problem(p.sheet, p.row, p.column, f"after the edits of '{name}': {p.message}")
                          for p in error.problems]) from None
    return edited


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
        for text in self.probability or ():
            edits += _probability_edits(tables, text)
        return edits


def _option(option: str, text: str) -> Problem:
    return Problem(None, None, None, f"option {option} {text}")


def _pair(text: str, option: str, example: str) -> tuple[str, str]:
    key, sep, value = text.rpartition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError([Problem(None, None, None, f"option {option} {describe(text)}: write it as {example}.")])
    return key.strip(), value.strip()


def _probability_edits(tables: Tables, text: str) -> list[Edit]:
    """Set one scenario's probability and scale the others so that they still sum to 1."""
    name, value = _pair(text, "--probability", "'heavy-REE controls=0.5'")
    origin = _option("--probability", text)
    new = _number(value, Edit("scenarios", (), "probability", "set", value, origin), "--probability")
    scenarios = tables.get("scenarios")
    if scenarios is None or not (scenarios["scenario"].map(_as_text) == name).any():
        raise InputError([Problem(None, None, None, f"option --probability {describe(text)}: no scenario named "
                                                    f"{describe(name)}.")])
    others = scenarios[scenarios["scenario"].map(_as_text) != name]["probability"]
    rest = 0.0
    for cell in others:
        if _as_text(cell) is not None:
            rest += _number(cell, Edit("scenarios", (), "probability", "scale", cell, origin), "--probability")
    if not 0 < new <= 1 or (rest <= 0 and new < 1):
        raise InputError([Problem(None, None, None, f"option --probability {describe(text)}: the probability must "
                                                    "be above 0 and at most 1, with other scenarios to rescale.")])
    edits = [Edit("scenarios", (("scenario", "=", name),), "probability", "set", repr(new), origin)]
    if rest > 0 and len(others):
        edits.append(Edit("scenarios", (("scenario", "!=", name),), "probability", "scale",
                          repr((1 - new) / rest), origin))
    return edits
