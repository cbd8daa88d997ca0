"""Synthetic instances at a buyer's real scale, in the input schema, reproducible from a seed.

Many materials, monthly periods, several Western suppliers per material, and
scenarios sampled from a disruption model: in every month each supplier group
(Chinese export controls, each Western plant) may start a disruption with a
given probability, lasting a random number of months at a random severity.
Scenarios share the months before their first disruption, so the scenario tree
has real shared prefixes. Nothing here reads or solves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd



@dataclass(frozen=True)
class Scale:
    materials: int
    periods: int
    scenarios: int
    western_per_material: int
    cvar_weight: float = 0.1  # lambda; 0 = risk neutral, the input schema's default


#: xl is risk neutral: with a CVaR term every scenario's cost row couples all 24 materials along its path,
#: and HiGHS's dual simplex had not solved that LP after 90 CPU-minutes on 2 cores (bench/results.md, "xl").
SCALES = {
    "small": Scale(materials=3, periods=6, scenarios=8, western_per_material=1),
    "medium": Scale(materials=8, periods=12, scenarios=60, western_per_material=2),
    "large": Scale(materials=12, periods=24, scenarios=150, western_per_material=2),
    "xl": Scale(materials=24, periods=36, scenarios=400, western_per_material=3, cvar_weight=0.0),
}

#: The disruption model: monthly onset probability, duration range (months), availability range,
#: and the price multiplier it puts on ex-China spot.
CHINA_CONTROLS = dict(onset=0.04, duration=(3, 12), availability=(0.1, 0.6), spot_multiplier=(1.5, 4.0))
WESTERN_OUTAGE = dict(onset=0.01, duration=(1, 6), availability=(0.0, 0.3))

WESTERN = [("Lynas", "Australia", "Malaysia"), ("MP Materials", "United States", "United States"),
           ("Iluka", "Australia", "Australia"), ("Solvay", None, "France"), ("Neo", "Canada", "Estonia")]


def generate(scale: str, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The tables of one instance (sheet name -> DataFrame)."""
    size = SCALES[scale]
    rng = np.random.default_rng(seed)
    years = [2027 + m // 12 for m in range(size.periods)]
    periods = [f"{y}-{m % 12 + 1:02d}" for y, m in zip(years, range(size.periods))]
    materials = [f"REE product {i + 1:02d}" for i in range(size.materials)]
    base_price = rng.uniform(20, 1000, size.materials).round(1)
    monthly = rng.uniform(500, 20000, size.materials).round(-1)

    tables: dict[str, pd.DataFrame] = {"periods": pd.DataFrame({"period": periods})}
    tables["materials"] = pd.DataFrame({
        "material": materials, "unit": "kg", "shortage_penalty": (base_price * 12).round(1),
        "holding_cost": (base_price * 0.01).round(2), "initial_inventory": (monthly * 0.5).round(-1)})
    growth = 1 + 0.003 * np.arange(size.periods)
    noise = rng.uniform(0.9, 1.1, (size.materials, size.periods))
    tables["demand"] = pd.DataFrame([
        {"material": m, "period": t, "quantity": float(round(monthly[i] * growth[j] * noise[i, j], -1))}
        for i, m in enumerate(materials) for j, t in enumerate(periods)])

    suppliers = [
        {"supplier": "China refiners", "kind": "contract", "mining_country": "China", "refining_country": "China"},
        {"supplier": "China spot", "kind": "spot", "mining_country": "China", "refining_country": "China"},
        {"supplier": "Europe spot", "kind": "spot", "mining_country": None, "refining_country": "Various"},
        {"supplier": "Strategic stockpile", "kind": "stockpile", "mining_country": None,
         "refining_country": "United States"},
    ]
    western = [w for w in WESTERN[: size.western_per_material + 1]]
    suppliers += [{"supplier": name, "kind": "contract", "mining_country": mine, "refining_country": refine}
                  for name, mine, refine in western]
    tables["suppliers"] = pd.DataFrame(suppliers)

    offers = []
    for i, m in enumerate(materials):
        price, need = base_price[i], monthly[i]
        offers += [
            {"supplier": "China refiners", "material": m, "price": price, "capacity": round(need * 1.5, -1)},
            {"supplier": "China spot", "material": m, "price": round(price * 1.05, 2), "capacity": round(need, -1)},
            {"supplier": "Europe spot", "material": m, "price": round(price * 1.6, 2)},
            {"supplier": "Strategic stockpile", "material": m, "price": round(price * 1.3, 2),
             "capacity": round(need, -1), "reserve_limit": round(need * 2, -1),
             "reservation_fee": round(price * 0.08, 2)},
        ]
        for k, (name, _, _) in enumerate(western):
            if k > 0 and rng.random() < 0.3:
                continue  # not every Western producer makes every product
            share = rng.uniform(0.1, 0.35)
            offers.append({"supplier": name, "material": m, "price": round(price * rng.uniform(1.3, 1.5), 2),
                           "capacity": round(need * share, -1),
                           "min_quantity": round(need * share * 0.2, -1) if rng.random() < 0.5 else None})
    tables["offers"] = pd.DataFrame(offers)

    scenarios, disruptions = _sample_scenarios(rng, size, periods, [w[0] for w in western])
    tables["scenarios"] = scenarios
    tables["disruptions"] = disruptions
    tables["origin_caps"] = pd.DataFrame([{"country": "China", "stage": "refining", "max_share": 0.8,
                                           "per_period": False}])
    tables["service_levels"] = pd.DataFrame([{"min_fill_rate": 0.9}])
    tables["supplier_caps"] = pd.DataFrame([{"supplier": "China refiners", "max_share": 0.9}])
    tables["settings"] = pd.DataFrame([{"key": "cvar_level", "value": "0.95"},
                                       {"key": "cvar_weight", "value": f"{size.cvar_weight:g}"},
                                       {"key": "currency", "value": "USD"}])
    return tables


def _window(rng, periods: int, onset: float, duration: tuple[int, int]) -> tuple[int, int] | None:
    """First month a disruption starts (if any) and its last month, by monthly Bernoulli onsets."""
    starts = np.flatnonzero(rng.random(periods) < onset)
    if not len(starts):
        return None
    start = int(starts[0])
    return start, min(periods - 1, start + int(rng.integers(duration[0], duration[1] + 1)) - 1)


def _sample_scenarios(rng, size: Scale, periods: list[str], western: list[str]):
    names, rows = [], []
    for w in range(size.scenarios):
        name = f"s{w + 1:04d}"
        names.append(name)
        window = _window(rng, size.periods, CHINA_CONTROLS["onset"], CHINA_CONTROLS["duration"])
        if window:
            low, high = CHINA_CONTROLS["availability"]
            rows.append({"scenario": name, "country": "China", "start": periods[window[0]],
                         "end": periods[window[1]], "availability": round(float(rng.uniform(low, high)), 2)})
            low, high = CHINA_CONTROLS["spot_multiplier"]
            rows.append({"scenario": name, "supplier": "Europe spot", "start": periods[window[0]],
                         "end": periods[window[1]], "price_multiplier": round(float(rng.uniform(low, high)), 2)})
        for supplier in western:
            window = _window(rng, size.periods, WESTERN_OUTAGE["onset"], WESTERN_OUTAGE["duration"])
            if window:
                low, high = WESTERN_OUTAGE["availability"]
                rows.append({"scenario": name, "supplier": supplier, "start": periods[window[0]],
                             "end": periods[window[1]], "availability": round(float(rng.uniform(low, high)), 2)})
    probability = np.full(size.scenarios, 1.0 / size.scenarios)
    scenarios = pd.DataFrame({"scenario": names, "probability": probability,
                              "description": "sampled from the disruption model"})
    columns = ["scenario", "supplier", "material", "country", "stage", "start", "end", "availability",
               "price_multiplier"]
    return scenarios, pd.DataFrame(rows, columns=columns)
