"""Lever values (the web app's levers): read from the input, turned into the command line's overrides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import optimizer as so


#: the China refining cap the bundled instance ships, read from its raw table
SHIPPED_CAP = float(pd.read_csv(Path(so.bundled_instance()) / "origin_caps.csv")["max_share"].iloc[0])


@pytest.fixture(scope="module")
def data():
    return so.read_instance(so.bundled_instance())


def test_the_levers_read_the_inputs_values(data):
    """instances/rare_earths_2026: origin_caps.csv has one China refining cap, service_levels 0.95, settings
    cvar_weight 0.2 at the default level."""
    levers = so.Levers.of(data)
    assert levers.caps == {"China:refining": SHIPPED_CAP}
    assert levers.fill_rate == 0.95
    assert set(levers.material_fill_rates.values()) == {0.95}
    assert (levers.cvar_weight, levers.cvar_level) == (0.2, 0.95)
    assert set(levers.capacity) == set(data.suppliers.index) and set(levers.capacity.values()) == {1.0}
    assert levers.arguments(levers) == [] and levers.changes(levers) == []
    assert levers.apply(data) is data


def test_changed_levers_are_the_command_lines_options(data):
    base = so.Levers.of(data)
    levers = base.copy()
    levers.caps["China:refining"] = 0.6
    levers.caps["China"] = 0.9
    levers.fill_rate = 0.97
    levers.cvar_weight = 0.5
    levers.capacity["Lynas"] = 2.0
    levers.price["MP Materials"] = 1.1
    levers.dropped = ("Project Vault",)
    levers = levers.with_probability("calm", 0.5)
    arguments = ["--cap", "China:refining=0.6", "--cap", "China=0.9", "--fill-rate", "0.97", "--cvar-weight", "0.5",
                 "--scale-capacity", "Lynas=2", "--scale-price", "MP Materials=1.1", "--drop-supplier",
                 "Project Vault", "--probability", "calm=0.5"]
    assert levers.arguments(base) == arguments
    typed = so.Overrides(caps=["China:refining=0.6", "China=0.9"], fill_rate=["0.97"], cvar_weight=0.5,
                         scale_capacity=["Lynas=2"], scale_price=["MP Materials=1.1"],
                         drop_supplier=["Project Vault"], probability=["calm=0.5"])
    edited = levers.apply(data, base)
    expected = so.apply_case(data, "x", typed.edits(data.tables))
    for sheet in expected.tables:
        assert edited.tables[sheet].equals(expected.tables[sheet]), sheet
    assert levers.changes(base) == [
        f"China refining cap: {SHIPPED_CAP:.1%} -> 60.0%", "China cap: none -> 90.0%", "every fill-rate floor: 95.0% -> 97.0%",
        "CVaR weight: 0.2 -> 0.5", "Project Vault: left out", "Lynas capacity x 2", "MP Materials prices x 1.1",
        "probability of calm: 50.0% (the others rescaled)"]


def test_a_probability_rescales_the_others_to_sum_to_one(data):
    """scenarios.csv: calm 0.35, the others 0.25, 0.20, 0.10, 0.10 (0.65 together): calm at 0.5 leaves them
    0.5/0.65 of what they were; a second setting for calm replaces the first."""
    base = so.Levers.of(data)
    levers = base.with_probability("calm", 0.3).with_probability("calm", 0.5)
    assert levers.probabilities == (("calm", 0.5),)
    scenarios = levers.apply(data, base).scenarios["probability"]
    assert scenarios.to_dict() == pytest.approx({
        "calm": 0.5, "heavy-REE controls": 0.25 * 0.5 / 0.65, "licence regime returns": 0.20 * 0.5 / 0.65,
        "Lynas Kuantan outage": 0.10 * 0.5 / 0.65, "MP magnet ramp delay": 0.10 * 0.5 / 0.65}, abs=1e-12)
    two = levers.with_probability("Lynas Kuantan outage", 0.2)
    assert two.apply(data, base).scenarios["probability"].sum() == pytest.approx(1.0, abs=1e-12)


def fix(rule: str, name: str, material, relax_to: float) -> dict:
    return {"fix": f"{rule} alone", "rule": rule, "name": name, "material": material, "scenario": None,
            "period": None, "current": 0.5, "relax_to": relax_to, "unit": "share of demand", "advice": "..."}


def test_a_fix_becomes_a_lever_change(data):
    base = so.Levers.of(data)
    tight = base.copy()
    tight.caps["China:refining"] = 0.6
    caps = tight.with_fix(data, pd.DataFrame([fix("origin caps", "China refining cap", None, 0.750292),
                                              fix("origin caps", "China refining cap", None, 0.72)]))
    assert caps.caps == {"China:refining": pytest.approx(0.7503, abs=1e-12)}
    floors = base.with_fix(data, pd.DataFrame([fix("fill-rate floors", "x", "NdFeB magnets", 0.838682),
                                               fix("fill-rate floors", "x", "NdFeB magnets", 0.739708)]))
    assert floors.material_fill_rates["NdFeB magnets"] == pytest.approx(0.7397)
    assert floors.material_fill_rates["Dy oxide"] == 0.95
    assert floors.arguments(base) == ["--fill-rate", f"NdFeB magnets={floors.material_fill_rates['NdFeB magnets']!r}"]
    assert base.with_fix(data, pd.DataFrame([fix("supplier caps", "Lynas cap", None, 0.9)])) is None


def test_the_fixes_of_an_explanation_give_plans(data):
    """The bundled instance at a 60% China refining cap has no plan (the tightest is about 71%); each fix
    the explanation offers, applied as levers, solves."""
    base = so.Levers.of(data)
    tight = base.copy()
    tight.caps["China:refining"] = 0.6
    result = so.solve(tight.apply(data, base))
    assert result.status == so.INFEASIBLE
    for _, rows in result.explanation.groupby("fix", sort=False):
        fixed = tight.with_fix(data, rows)
        assert fixed is not None
        assert so.solve(fixed.apply(data, base), explain=False).optimal
