"""Small instances built in code, so each test states its data next to its expected optimum."""

from __future__ import annotations

import pytest

import optimizer as so


def make(**sheets) -> dict:
    """Frames for a one-material instance; keyword arguments replace or add sheets."""
    frames = {
        "periods": [{"period": "t1"}],
        "materials": [{"material": "Dy", "unit": "kg", "shortage_penalty": 1000, "holding_cost": 0}],
        "demand": [{"material": "Dy", "period": "t1", "quantity": 100}],
        "suppliers": [],
        "offers": [],
    }
    frames.update(sheets)
    return frames


def supplier(name: str, kind: str = "contract", refining: str | None = None,
             mining: str | None = None) -> dict:
    return {"supplier": name, "kind": kind, "mining_country": mining, "refining_country": refining}


def solve(frames: dict):
    result = so.solve(so.from_frames(frames))
    return result


@pytest.fixture
def approx():
    return lambda value: pytest.approx(value, rel=1e-7, abs=1e-6)
