"""Domain errors: what the user did wrong, said where and how to fix it."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input, located as the user sees the spreadsheet.

    row is the spreadsheet row (header = row 1); None for a whole sheet or file.
    """

    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def location(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class InputError(ValueError):
    """The input cannot be used; every problem found is listed at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return f"The input has a problem: {self.problems[0]}"
        lines = [f"The input has {len(self.problems):,} problems:"]
        lines += screenful(self.problems)
        return "\n".join(lines)


#: A flood of problems is shown as the first PER_KIND of each kind, at most SCREEN lines in all
#: (InputError.problems keeps every one).
PER_KIND = 5
SCREEN = 40


def kind_of(problem: Problem) -> tuple:
    """Problems of one kind: the same sheet, column and message but for the values it quotes."""
    template = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem.message)
    template = re.sub(r"\d[\d,.e+-]*", "N", template)
    return problem.sheet, problem.column, template


def screenful(problems: list[Problem]) -> list[str]:
    """Lines listing problems: all of them when they fit a screen and no kind repeats more than PER_KIND
    times; otherwise the first PER_KIND of each kind, each kind followed by 'and K more like it'."""
    groups: dict[tuple, list[Problem]] = {}
    for problem in problems:
        groups.setdefault(kind_of(problem), []).append(problem)
    if len(problems) <= SCREEN and all(len(g) <= PER_KIND for g in groups.values()):
        return [f"  - {p}" for p in problems]
    lines: list[str] = []
    shown = 0
    for group in groups.values():
        if len(lines) >= SCREEN:
            break
        lines += [f"  - {p}" for p in group[:PER_KIND]]
        shown += min(len(group), PER_KIND)
        if len(group) > PER_KIND:
            lines.append(f"    and {len(group) - PER_KIND:,} more like it")
            shown += len(group) - PER_KIND
    if shown < len(problems):
        lines.append(f"  - and {len(problems) - shown:,} more problems of other kinds")
    return lines


#: Longest value a message quotes in full; a longer one is cut (a pasted paragraph is not a name).
MAX_SHOWN = 60


def describe(value: object) -> str:
    """A cell value as the user typed it, for messages: whole numbers without '.0', huge ones as 1e+300,
    long texts cut to MAX_SHOWN characters."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        text = str(int(value))
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 1] + "…"
    return repr(text)
