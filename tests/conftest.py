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


#: Demand 100; a contract at 10 that delivers half in 'cut' (p 0.5), spot at 40, holding 1 (optimum worked out
#: in test_hand_solved: contract 200, expected cost 1550).
OVER_CONTRACTING = dict(
    materials=[{"material": "Dy", "shortage_penalty": 1000, "holding_cost": 1}],
    suppliers=[supplier("A", "contract", "China"), supplier("S", "spot", "Australia")],
    offers=[{"supplier": "A", "material": "Dy", "price": 10, "capacity": 300},
            {"supplier": "S", "material": "Dy", "price": 40}],
    scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
    disruptions=[{"scenario": "cut", "supplier": "A", "availability": 0.5}],
)

#: Demand 100; China at 10 (gone in 'ban', p 0.2), Project Vault at 15 plus a fee of 2 (limit 100), Lynas at 30;
#: China capped at 60% (optimum worked out in test_hand_solved: expected cost 1460).
VAULT_UNDER_CAP = dict(
    suppliers=[supplier("China refiners", "contract", "China"),
               supplier("Project Vault", "stockpile", "United States"),
               supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
            {"supplier": "Project Vault", "material": "Dy", "price": 15, "reserve_limit": 100,
             "reservation_fee": 2},
            {"supplier": "Lynas", "material": "Dy", "price": 30}],
    scenarios=[{"scenario": "calm", "probability": 0.8}, {"scenario": "ban", "probability": 0.2}],
    disruptions=[{"scenario": "ban", "country": "China", "availability": 0}],
    origin_caps=[{"country": "China", "max_share": 0.6}],
)


def solve(frames: dict):
    result = so.solve(so.from_frames(frames))
    return result


@pytest.fixture
def approx():
    return lambda value: pytest.approx(value, rel=1e-7, abs=1e-6)
