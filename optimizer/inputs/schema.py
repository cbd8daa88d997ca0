"""The input schema (README.md, "Input"; docs/model.md): sheets, columns and their kinds.

This module only describes the tables; reading them is `reader`, checking
them is `validate`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of an input sheet.

    kind is "label" (a name), "number", "bool" or "text" (free text).
    A required column must be present and every cell in it filled.
    """

    name: str
    kind: str
    required: bool = False
    example: str = ""


def _c(name: str, kind: str, required: bool = False, example: str = "") -> Column:
    return Column(name, kind, required, example)


SHEETS: dict[str, tuple[Column, ...]] = {
    "periods": (_c("period", "label", True, "2026Q1"),),
    "materials": (
        _c("material", "label", True, "Dy oxide"),
        _c("unit", "text"),
        _c("shortage_penalty", "number", True, "5000"),
        _c("holding_cost", "number"),
        _c("initial_inventory", "number"),
    ),
    "demand": (
        _c("material", "label", True, "Dy oxide"),
        _c("period", "label", True, "2026Q1"),
        _c("quantity", "number", True, "1500"),
    ),
    "suppliers": (
        _c("supplier", "label", True, "Lynas"),
        _c("kind", "label", True, "contract"),
    ),
    "offers": (
        _c("supplier", "label", True, "Lynas"),
        _c("material", "label", True, "Dy oxide"),
        _c("period", "label"),
        _c("price", "number", True, "310"),
        _c("capacity", "number"),
        _c("min_quantity", "number"),
        _c("reserve_limit", "number"),
        _c("reservation_fee", "number"),
    ),
    "scenarios": (
        _c("scenario", "label", True, "calm"),
        _c("probability", "number", True, "0.35"),
        _c("description", "text"),
    ),
    "disruptions": (
        _c("scenario", "label", True, "heavy-REE controls"),
        _c("supplier", "label"),
        _c("material", "label"),
        _c("country", "label"),
        _c("stage", "label"),
        _c("start", "label"),
        _c("end", "label"),
        _c("availability", "number"),
        _c("price_multiplier", "number"),
    ),
    "disruption_model": (
        _c("event", "label", True, "Dy export licences"),
        _c("group", "label"),
        _c("supplier", "label"),
        _c("material", "label"),
        _c("country", "label"),
        _c("stage", "label"),
        _c("probability", "number", True, "0.05"),
        _c("earliest_start", "label"),
        _c("duration_min", "number", True, "2"),
        _c("duration_max", "number"),
        _c("availability_min", "number"),
        _c("availability_max", "number"),
        _c("price_multiplier_min", "number"),
        _c("price_multiplier_max", "number"),
    ),
    "origin_caps": (
        _c("country", "label", True, "China"),
        _c("stage", "label"),
        _c("material", "label"),
        _c("max_share", "number", True, "0.6"),
        _c("per_period", "bool"),
    ),
    "service_levels": (
        _c("material", "label"),
        _c("scenario", "label"),
        _c("min_fill_rate", "number", True, "0.95"),
    ),
    "supplier_caps": (
        _c("supplier", "label", True, "China refiners"),
        _c("material", "label"),
        _c("max_share", "number", True, "0.7"),
    ),
    "settings": (
        _c("key", "label", True, "cvar_level"),
        _c("value", "text", True, "0.95"),
    ),
    "cases": (
        _c("case", "label", True, "Lynas doubles capacity"),
        _c("sheet", "label", True, "offers"),
        _c("where", "text"),
        _c("column", "label", True, "capacity"),
        _c("action", "label", True, "scale"),
        _c("value", "text"),
    ),
}

REQUIRED_SHEETS = ("periods", "materials", "demand", "suppliers", "offers")

#: Sheets in the order the template and the "inputs as used" export show them.
SHEET_ORDER = tuple(SHEETS)

SUPPLIER_KINDS = ("contract", "spot", "stockpile")
STAGE_SUFFIX = "_country"

SETTINGS_DEFAULTS: dict[str, object] = {
    "cvar_level": 0.95,
    "cvar_weight": 0.0,
    "cvar_max": None,
    "budget": None,
    "currency": "USD",
    "time_limit": None,
    "dependency_country": "China",
}
NUMERIC_SETTINGS = ("cvar_level", "cvar_weight", "cvar_max", "budget", "time_limit")

#: Inputs larger than this are refused before validation (documented in README). A workbook's sheet is
#: measured from its XML before it is loaded (a reader allocates a sheet's whole extent), up to its last
#: cell that holds a value: blank cells beyond the table do not count.
MAX_ROWS_PER_SHEET = 1_000_000
MAX_COLUMNS_PER_SHEET = 1_000
MAX_CELLS_PER_SHEET = 20_000_000

#: Limits checked on a workbook's zip archive before any XML is parsed (documented in README).
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_PARTS = 2_000


#: The largest number each kind of input may hold (documented in README, "Input"): far beyond what a buyer
#: types (a price per tonne in any currency, a world's demand in grams), and small enough that every
#: coefficient of the LP stays inside what HiGHS handles (it refuses matrix values above 1e15 and reads
#: costs and bounds of 1e20 as infinite).
MAX_MONEY_PER_UNIT = 1e10
MAX_QUANTITY = 1e12
MAX_PRICE_MULTIPLIER = 1e3
MAX_MONEY_TOTAL = 1e18
MAX_CVAR_WEIGHT = 1e3  # already ranks plans by CVaR alone; HiGHS loses the expected cost's digits beyond it
MAX_DURATION = 1e6  # periods: a disruption longer than the longest horizon (MAX_ROWS_PER_SHEET) just ends with it

#: (sheet, column) -> (the largest value, what the column holds, for messages).
MAGNITUDE_LIMITS: dict[tuple[str, str], tuple[float, str]] = {
    **{("materials", c): (MAX_MONEY_PER_UNIT, "money per unit") for c in ("shortage_penalty", "holding_cost")},
    **{("offers", c): (MAX_MONEY_PER_UNIT, "money per unit") for c in ("price", "reservation_fee")},
    ("materials", "initial_inventory"): (MAX_QUANTITY, "a quantity"),
    ("demand", "quantity"): (MAX_QUANTITY, "a quantity"),
    **{("offers", c): (MAX_QUANTITY, "a quantity") for c in ("capacity", "min_quantity", "reserve_limit")},
    ("disruptions", "price_multiplier"): (MAX_PRICE_MULTIPLIER, "a price multiplier"),
    **{("disruption_model", c): (MAX_PRICE_MULTIPLIER, "a price multiplier")
       for c in ("price_multiplier_min", "price_multiplier_max")},
    **{("disruption_model", c): (MAX_DURATION, "a number of periods") for c in ("duration_min", "duration_max")},
}

#: Settings with a magnitude limit: the money totals and the CVaR weight.
SETTING_LIMITS: dict[str, tuple[float, str]] = {
    "budget": (MAX_MONEY_TOTAL, "a money total"),
    "cvar_max": (MAX_MONEY_TOTAL, "a money total"),
    "cvar_weight": (MAX_CVAR_WEIGHT, "a CVaR weight"),
}
