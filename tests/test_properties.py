"""Property: any mutation of a valid instance either solves (with an honest status) or is an input error."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimizer as so
from conftest import make, supplier

VALID = make(
    periods=[{"period": "t1"}, {"period": "t2"}],
    materials=[{"material": "Dy", "shortage_penalty": 100, "holding_cost": 1, "initial_inventory": 10},
               {"material": "Tb", "shortage_penalty": 500}],
    demand=[{"material": m, "period": t, "quantity": q} for m, q in (("Dy", 100), ("Tb", 20)) for t in ("t1", "t2")],
    suppliers=[supplier("China refiners", "contract", "China", "China"), supplier("Lynas", "contract", "Malaysia"),
               supplier("Spot", "spot", "China"), supplier("Vault", "stockpile", "United States")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10, "capacity": 150, "min_quantity": 5},
            {"supplier": "China refiners", "material": "Tb", "price": 50},
            {"supplier": "Lynas", "material": "Dy", "price": 20, "capacity": 60},
            {"supplier": "Lynas", "material": "Dy", "period": "t2", "price": 22, "capacity": 60},
            {"supplier": "Spot", "material": "Tb", "price": 70},
            {"supplier": "Vault", "material": "Dy", "price": 15, "reserve_limit": 50, "reservation_fee": 1}],
    scenarios=[{"scenario": "calm", "probability": 0.6}, {"scenario": "ban", "probability": 0.4}],
    disruptions=[{"scenario": "ban", "country": "China", "stage": "refining", "start": "t2", "availability": 0.2,
                  "price_multiplier": 2}],
    origin_caps=[{"country": "China", "max_share": 0.8, "per_period": False}],
    service_levels=[{"material": "Dy", "min_fill_rate": 0.9}],
    supplier_caps=[{"supplier": "Lynas", "max_share": 0.7}],
    settings=[{"key": "cvar_weight", "value": 0.1}],
    cases=[{"case": "more Lynas", "sheet": "offers", "where": "supplier=Lynas", "column": "capacity",
            "action": "scale", "value": 2}],
)

CELLS = st.one_of(
    st.none(), st.just(""), st.just("abc"), st.just("-1"), st.just("nan"), st.just("inf"), st.just("1e308"),
    st.just("0"), st.just("1"), st.just("2"), st.just("0.5"), st.just("=1+1"), st.just("t1"), st.just("Dy"),
    st.just("Lynas"), st.just("calm"), st.just("China"), st.just("refining"), st.just("true"), st.just("x" * 300),
    # magnitudes on both sides of the documented limits (1e3 multipliers, 1e10 money per unit, 1e12 quantities,
    # 1e18 money totals)
    st.just("1000"), st.just("1001"), st.just("1e10"), st.just("1.1e10"), st.just("1e12"), st.just("1e13"),
    st.just("1e18"), st.just("1e19"), st.just("1e20"), st.just("-1e15"),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
)

MUTATION = st.tuples(st.sampled_from(sorted(VALID)), st.integers(0, 10), st.integers(0, 10),
                     st.sampled_from(["set", "drop_row", "duplicate_row", "drop_column", "drop_sheet",
                                      "duplicate_sheet"]), CELLS)

#: Names a second copy of a sheet may be given that are the same sheet after normalising.
SAME_SHEET = (str.upper, str.title, lambda name: name + " ", lambda name: " " + name.capitalize())


def mutate(frames: dict, mutations) -> dict:
    frames = copy.deepcopy(frames)
    for sheet, row_pick, column_pick, action, value in mutations:
        rows = frames.get(sheet)
        if rows is None:
            continue
        if action == "drop_sheet":
            del frames[sheet]
            continue
        if action == "duplicate_sheet":
            frames[SAME_SHEET[row_pick % len(SAME_SHEET)](sheet)] = copy.deepcopy(rows)
            continue
        if not rows:
            continue
        row = rows[row_pick % len(rows)]
        columns = sorted({c for r in rows for c in r})
        if not columns:
            continue
        column = columns[column_pick % len(columns)]
        if action == "set":
            row[column] = value
        elif action == "drop_row":
            rows.remove(row)
        elif action == "duplicate_row":
            rows.append(dict(row))
        else:
            for r in rows:
                r.pop(column, None)
    return frames


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_mutations_solve_or_raise_an_input_error(mutations):
    frames = mutate(VALID, mutations)
    duplicated = len({name.strip().casefold() for name in frames}) < len(frames)  # two names, one sheet
    try:
        data = so.from_frames(frames)
    except so.InputError as error:
        assert error.problems and all(str(p) for p in error.problems)
        return
    assert not duplicated, "two copies of one sheet were accepted"
    result = so.solve(data)
    # valid input never makes the LP unbounded (no negative price or penalty) nor leaves HiGHS without an
    # answer (every number within the documented limits); only a time_limit the mutation typed can stop it
    assert result.status in {"optimal", "infeasible", "time limit"}, (result.status, result.message)
    if result.optimal:
        _assert_the_plan_keeps_every_rule(result)
    else:
        assert result.plan.empty and result.message
    try:
        so.compare(data)
    except so.InputError:  # a case the mutation broke: an input error of the cases sheet, never a crash
        pass


def _assert_the_plan_keeps_every_rule(result) -> None:
    """Balances, fill-rate floors and origin caps, read from the result tables the user gets."""
    balance = result.balance
    scale = max(1.0, balance["demand"].abs().max())
    gap = (balance["opening_inventory"] + balance["delivered"] + balance["unmet_demand"]
           - balance["demand"] - balance["closing_inventory"])
    assert gap.abs().max() < 1e-6 * scale
    assert (balance["unmet_demand"] >= -1e-6 * scale).all() and (balance["closing_inventory"] >= -1e-6 * scale).all()
    fills = result.fill_rates
    assert (fills["fill_rate"] >= fills["min_fill_rate"] - 1e-6).all(), fills
    shares = result.origin_shares
    if len(shares):
        excess = shares["supplied_through"] - shares["max_share"] * shares["demand"]
        assert (excess <= 1e-6 * shares["demand"].abs().clip(lower=1.0)).all(), shares
