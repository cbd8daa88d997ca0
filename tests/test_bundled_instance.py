"""The bundled instance's disruptions can hurt: its properties, read from the raw CSV files.

The offers and disruptions are read here with pandas and a small re-statement of the disruption filters
(supplier, material, country, stage, start..end; several matching rows multiply), not through the
optimizer's reader, so that a change to the data cannot pass by changing the code. The figures the
allocations are measured against are those of the sources the instance cites (market structure, Lynas,
MP Materials, IEA); the solved-plan tests compare the optimizer with bounds computed from the same tables.
"""

from __future__ import annotations

import math
from functools import cache

import pandas as pd
import pytest

import optimizer as so
from optimizer.inputs.catalog import bundled_instance

FOLDER = bundled_instance()
OXIDES_HEAVY = ["Dy oxide", "Tb oxide"]
STAGES = ["mining_country", "refining_country", "manufacturing_country"]

# Outputs per year in tonnes, as the instance's sources give them.
CHINA_MAGNETS_T = 300_000     # China's NdFeB production 2024
NDPR_IN_MAGNET = 0.30         # NdFeB is about 30% NdPr (materials.csv)
LYNAS_NDPR_T = 10_500         # Lynas NdPr capacity
MP_NDPR_T = 1_300             # MP Materials NdPr oxide 2024
MP_TEXAS_MAGNETS_T = 1_000    # MP Independence (Texas) NdFeB
US_PRICE_FLOOR = 110          # USD/kg the US government guarantees MP Materials for NdPr
IEA_MAX_MULTIPLE = 6          # European prices during the 2025 controls: up to 6x Chinese domestic


@cache
def table(name: str) -> pd.DataFrame:
    return pd.read_csv(FOLDER / f"{name}.csv", dtype=str, keep_default_na=False)


def number(text: str) -> float | None:
    return None if text.strip() == "" else float(text)


@cache
def periods() -> list[str]:
    return table("periods")["period"].tolist()


def demand(material: str) -> dict[str, float]:
    rows = table("demand")[table("demand")["material"] == material]
    return {row.period: float(row.quantity) for row in rows.itertuples()}


def supplier(name: str) -> pd.Series:
    return table("suppliers").set_index("supplier").loc[name]


def touches_china(name: str) -> bool:
    return any(supplier(name)[stage] == "China" for stage in STAGES)


def offer_terms(name: str, material: str, period: str) -> tuple[float, float | None] | None:
    """(price, capacity) of the offer in a period: a row with the period replaces the blank-period row."""
    rows = table("offers")[(table("offers")["supplier"] == name) & (table("offers")["material"] == material)]
    own = rows[rows["period"] == period]
    row = own.iloc[0] if len(own) else (rows[rows["period"] == ""].iloc[0] if (rows["period"] == "").any()
                                        else None)
    return None if row is None else (float(row["price"]), number(row["capacity"]))


def offers() -> list[tuple[str, str]]:
    return sorted(set(zip(table("offers")["supplier"], table("offers")["material"])))


def factors(scenario: str, name: str, material: str, period: str) -> tuple[float, float]:
    """(availability, price multiplier) of an offer in a scenario and period."""
    availability, multiplier = 1.0, 1.0
    position = periods().index(period)
    for row in table("disruptions").itertuples():
        if row.scenario != scenario or (row.supplier and row.supplier != name):
            continue
        if row.material and row.material != material:
            continue
        if row.country:
            stages = [f"{row.stage}_country"] if row.stage else STAGES
            if not any(supplier(name)[stage] == row.country for stage in stages):
                continue
        elif row.stage and supplier(name)[f"{row.stage}_country"] == "":
            continue
        start = periods().index(row.start) if row.start else 0
        end = periods().index(row.end) if row.end else len(periods()) - 1
        if not start <= position <= end:
            continue
        availability *= 1.0 if row.availability == "" else float(row.availability)
        multiplier *= 1.0 if row.price_multiplier == "" else float(row.price_multiplier)
    return availability, multiplier


def kind(name: str) -> str:
    return supplier(name)["kind"]


def control_cells() -> list[tuple[str, str, str]]:
    """(scenario, material, period) where some channel through China delivers less than its allocation."""
    cells = set()
    for scenario in table("scenarios")["scenario"]:
        for name, material in offers():
            if touches_china(name):
                cells.update((scenario, material, period) for period in periods()
                             if factors(scenario, name, material, period)[0] < 1)
    return sorted(cells)


# --------------------------------------------------------------------------- the data


def test_every_row_says_where_its_numbers_come_from():
    for path in sorted(FOLDER.glob("*.csv")):
        frame = table(path.stem)
        assert "source" in frame.columns, path.name
        for i, text in enumerate(frame["source"], start=2):
            assert "DATA.md" in text or "assumption" in text, f"{path.name} row {i}: {text!r}"


def test_allocations_are_a_fraction_of_each_suppliers_output():
    yearly = {  # supplier, material -> the share of its yearly output the buyer may be allocated at most
        ("China refiners", "NdPr oxide"): (CHINA_MAGNETS_T * NDPR_IN_MAGNET, 0.001),
        ("China magnet makers", "NdFeB magnets"): (CHINA_MAGNETS_T, 0.001),
        ("Lynas", "NdPr oxide"): (LYNAS_NDPR_T, 0.002),
        ("MP Materials", "NdPr oxide"): (MP_NDPR_T, 0.01),
        ("MP Texas magnets", "NdFeB magnets"): (MP_TEXAS_MAGNETS_T, 0.05),
    }
    for (name, material), (tonnes, share) in yearly.items():
        for period in periods():
            capacity = offer_terms(name, material, period)[1]
            assert capacity is not None and 4 * capacity <= share * tonnes * 1000, (name, material, period)


def test_chinese_channels_no_longer_add_up_to_a_multiple_of_demand():
    """All channels through China together stay under 1.5x demand: at half availability they leave a gap."""
    for material in table("materials")["material"]:
        for period, quantity in demand(material).items():
            chinese = sum(offer_terms(name, m, period)[1] or math.inf for name, m in offers()
                          if m == material and touches_china(name) and kind(name) != "stockpile")
            assert chinese <= 1.5 * quantity, (material, period, chinese)
            assert 0.5 * chinese < quantity


def test_heavy_rare_earths_outside_china_are_scarce():
    for material in OXIDES_HEAVY:
        outside = [name for name, m in offers() if m == material and not touches_china(name)
                   and kind(name) != "stockpile"]
        assert [name for name in outside if kind(name) == "contract"] == ["Lynas"]
        for period, quantity in demand(material).items():
            assert sum(offer_terms(name, material, period)[1] for name in outside) <= 0.25 * quantity


def test_europe_spot_heavy_rare_earths_are_caught_by_the_controls():
    """Most European Dy/Tb is of Chinese origin: whenever Chinese Dy/Tb is cut, so is Europe spot's."""
    cut = [(scenario, material, period) for scenario, material, period in control_cells()
           if material in OXIDES_HEAVY]
    assert cut
    for scenario, material, period in cut:
        china = min(factors(scenario, name, material, period)[0] for name, m in offers()
                    if m == material and touches_china(name))
        assert factors(scenario, "Europe spot", material, period)[0] <= china, (scenario, material, period)


def test_every_channel_that_still_flows_during_controls_is_dearer():
    """Except Project Vault, whose price is locked by the reservation fee (its point)."""
    cells = control_cells()
    assert {scenario for scenario, _, _ in cells} == {"heavy-REE controls", "licence regime returns"}
    for scenario, material, period in cells:
        for name, m in offers():
            if m != material:
                continue
            availability, multiplier = factors(scenario, name, material, period)
            if kind(name) == "stockpile":
                assert multiplier == 1
            elif availability > 0:
                assert multiplier > 1, (scenario, name, material, period)


def test_disrupted_prices_stay_within_what_was_seen_in_2025():
    domestic = {"NdPr oxide": "China refiners", "Dy oxide": "China refiners", "Tb oxide": "China refiners",
                "NdFeB magnets": "China magnet makers"}
    for scenario in table("scenarios")["scenario"]:
        for name, material in offers():
            for period in periods():
                terms = offer_terms(name, material, period)
                if terms is None:
                    continue
                price = terms[0] * factors(scenario, name, material, period)[1]
                assert price <= IEA_MAX_MULTIPLE * offer_terms(domestic[material], material, period)[0]


def test_the_mp_china_processing_route_is_closed():
    """MP stopped shipping concentrate to China on 17 April 2025, before the horizon starts."""
    assert periods()[0] >= "2025Q2"
    for name in table("suppliers")["supplier"]:
        if supplier(name)["mining_country"] == "United States":
            assert "China" not in {supplier(name)[stage] for stage in STAGES}, name


def test_the_us_price_floor_is_neither_a_buyers_price_nor_the_vaults():
    prices = table("offers").assign(price=lambda f: f["price"].astype(float))
    assert not (prices["price"] == US_PRICE_FLOOR).any()
    assert (prices[prices["supplier"] == "MP Materials"]["price"] < US_PRICE_FLOOR).all()


# --------------------------------------------------------------------------- the solved plans


def shortage_bound(scenario: str, material: str, reserve: float = 0.0) -> float:
    """Least unmet demand in a scenario: over any first periods, demand minus opening stock, the
    reserve and everything every non-stockpile offer can deliver (lost demand is not backlogged)."""
    materials = table("materials").set_index("material")
    stock = float(materials.loc[material, "initial_inventory"] or 0) + reserve
    worst, needed, supplied = 0.0, 0.0, 0.0
    for period, quantity in demand(material).items():
        needed += quantity
        for name, m in offers():
            if m == material and kind(name) != "stockpile":
                supplied += offer_terms(name, material, period)[1] * factors(scenario, name, material, period)[0]
        worst = max(worst, needed - stock - supplied)
    return worst


def tables_without(*sheets: str, drop_supplier: str | None = None) -> dict[str, pd.DataFrame]:
    frames = {name: frame for name, frame in so.read_instance(FOLDER).tables.items() if name not in sheets}
    if drop_supplier:
        frames["offers"] = frames["offers"][frames["offers"]["supplier"] != drop_supplier]
    return frames


def vault_reserve(material: str) -> float:
    rows = table("offers")[(table("offers")["supplier"] == "Project Vault") & (table("offers")["material"] == material)]
    return float(rows["reserve_limit"].iloc[0])


def test_heavy_ree_controls_force_shortages_that_only_project_vault_covers():
    """Without a cap and without the Vault, the controls leave Dy and Tb short by at least the bound."""
    floor = float(table("service_levels")["min_fill_rate"].iloc[0])
    result = so.solve(so.from_frames(tables_without("origin_caps", drop_supplier="Project Vault")))
    assert result.status == "optimal"
    rates = result.fill_rates.set_index(["scenario", "material"])
    for material in OXIDES_HEAVY:
        bound = shortage_bound("heavy-REE controls", material)
        assert bound > 0
        unmet = rates.loc[("heavy-REE controls", material), "unmet_demand"]
        assert unmet >= bound - 1e-6
        assert rates.loc[("heavy-REE controls", material), "fill_rate"] >= floor - 1e-9
        assert shortage_bound("heavy-REE controls", material, vault_reserve(material)) <= 0
    with_vault = so.solve(so.from_frames(tables_without("origin_caps")))
    assert with_vault.fill_rates["unmet_demand"].max() == pytest.approx(0, abs=1e-6)


def test_the_shipped_cap_leaves_shortages_exactly_where_china_is_cut():
    result = so.solve(so.read_instance(FOLDER))
    assert result.status == "optimal"
    unmet = result.fill_rates.groupby("scenario")["unmet_demand"].sum()
    cut = {scenario for scenario, _, _ in control_cells()}
    assert set(unmet[unmet > 1e-6].index) == cut


def test_the_shipped_cap_is_feasible_and_the_fill_floors_end_the_curve():
    cap = float(table("origin_caps")["max_share"].iloc[0])
    floor = float(table("service_levels")["min_fill_rate"].iloc[0])
    curve = so.frontier(so.read_instance(FOLDER), "China:refining", points=3)
    assert curve.tightest < cap
    tightest = curve.table[curve.table["point"] == "tightest"].iloc[0]
    assert floor - 1e-9 <= tightest["lowest_fill_rate"] <= floor + 1e-3  # the bisection stops within 1e-4
    # In calm, magnets from outside China are at most MP Texas plus the Vault reserve: China must supply
    # the rest of the floor's demand beyond the opening stock.
    magnets = demand("NdFeB magnets")
    outside = sum(offer_terms("MP Texas magnets", "NdFeB magnets", p)[1] for p in periods())
    outside += vault_reserve("NdFeB magnets")
    stock = float(table("materials").set_index("material").loc["NdFeB magnets", "initial_inventory"])
    total = sum(magnets.values())
    assert curve.tightest >= (floor * total - stock - outside) / total - 1e-9
