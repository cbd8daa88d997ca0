"""Domain errors: what the user did wrong, said where and how to fix it."""

from __future__ import annotations

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
        lines = [f"The input has {len(self.problems)} problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def describe(value: object) -> str:
    """A cell value as the user typed it, for messages."""
    if isinstance(value, float) and value.is_integer():
        return repr(str(int(value)))
    return repr(str(value))
