"""Why these suppliers: price ranges, entry prices and both sides of a capacity, against re-solves."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

import optimizer as so
from conftest import make, supplier
from optimizer.model import build
from optimizer.solving.solver import solve_once

#: One period, demand 100, penalty 1000: China refiners at 10 (capacity 60), spot at 25 (capacity 40),
#: Lynas at 30 (no capacity). The optimum signs China's 60 and buys 40 spot: 600 + 1000 = 1600; Lynas is
#: left out. Lynas enters below 25 (it then beats spot). China's 60 stays optimal at any price up to 30: each
#: of its units replaces a Lynas unit (spot is full). One more unit of China's capacity saves 25 - 10 = 15
#: (one spot unit fewer); one fewer costs 30 - 10 = 20 (spot is full, the unit comes from Lynas): a kink.
KINK = dict(
    suppliers=[supplier("China refiners", "contract", "China"), supplier("Spot", "spot", "Malaysia"),
               supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China refiners", "material": "Dy", "price": 10, "capacity": 60},
            {"supplier": "Spot", "material": "Dy", "price": 25, "capacity": 40},
            {"supplier": "Lynas", "material": "Dy", "price": 30}],
)


def rows(analysis, kind):
    table = analysis.table
    return table[table["kind"] == kind].set_index("supplier")


def test_entry_price_range_and_both_sides_of_a_kink_by_hand():
    data = so.from_frames(make(**KINK))
    assert so.solve(data).objective == pytest.approx(1600)
    why = so.why_these_suppliers(data)
    offers = rows(why, "offer price")
    # Lynas at p < 25 replaces the spot's 40: it enters below 25.
    assert not offers.loc["Lynas", "in_plan"]
    assert offers.loc["Lynas", "low"] == pytest.approx(25, rel=1e-3)
    assert offers.loc["Lynas", "line"].startswith("Lynas Dy enters the plan below 25.0")
    # China's 60 at capacity stays optimal while China is cheaper than Lynas at 30 (the unit it would
    # replace: spot is full), from a price of 0.
    assert offers.loc["China refiners", "in_plan"]
    assert offers.loc["China refiners", "low"] == pytest.approx(0)
    assert offers.loc["China refiners", "high"] == pytest.approx(30, rel=1e-3)
    capacity = rows(why, "shadow price").loc["China refiners"]
    assert capacity["one_more"] == pytest.approx(15) and capacity["one_fewer"] == pytest.approx(20)
    assert "one more kg saves 15.00 USD, one fewer kg costs 20.00 USD" in capacity["line"]
    # whichever side HiGHS reports, it holds on that side of 60 only: 15 up to 100 (China then covers all
    # demand), 20 down to 0 (each unit fewer comes from Lynas)
    assert capacity["now"] == 60 and "kink" in capacity["line"]
    if capacity["shadow_price"] == pytest.approx(15):
        assert (capacity["low"], capacity["high"]) == (pytest.approx(60), pytest.approx(100, abs=1e-4))
    else:
        assert capacity["shadow_price"] == pytest.approx(20)
        assert (capacity["low"], capacity["high"]) == (pytest.approx(0, abs=1e-4), pytest.approx(60))


def test_duals_are_d_objective_d_rhs_so_a_binding_capacity_has_a_positive_shadow_price():
    """The reported shadow price (-dual) is the saving of one more unit: here 15, the right side of the kink."""
    result = so.solve(so.from_frames(make(**KINK)))
    prices = result.shadow_prices.set_index("name")
    assert prices.loc["China refiners Dy", "value"] in (pytest.approx(15), pytest.approx(20))


def _objective_with_plan(data, plan=None) -> float:
    """The objective re-solved from the data (first stage fixed at plan when given), built afresh."""
    built = build(data)
    if plan is not None:
        for key, var in built.model.contract_quantity.items():
            var.fix(plan.get(key, 0.0))
        for key, var in built.model.reserved_quantity.items():
            var.fix(plan.get(key, 0.0))
    run = solve_once(built.model)
    assert run.status == "optimal"
    return run.objective


def _first_stage(result) -> dict:
    plan = result.plan
    out = {}
    for r in plan.itertuples(index=False):
        key = (r.supplier, r.material, r.period) if r.decision == "contract" else (r.supplier, r.material)
        out[key] = r.quantity
    return out


def _priced(data, supplier_name, material, factor):
    offers = data.offers.copy()
    rows_of = (offers.index.get_level_values("supplier") == supplier_name) & \
              (offers.index.get_level_values("material") == material)
    offers.loc[rows_of, "price"] = offers.loc[rows_of, "price"] * factor
    return replace(data, offers=offers)


def test_bundled_price_ranges_hold_inside_and_break_outside():
    """For the bundled offers with the narrowest and widest ranges: inside, the plan re-solved with its
    contracts fixed costs what the best plan costs; a little outside, it costs more (finite differences on
    freshly built models)."""
    data = so.read_instance(so.bundled_instance())
    base = so.solve(data)
    plan = _first_stage(base)
    why = so.why_these_suppliers(data)
    offers = why.table[(why.table["kind"] == "offer price") & why.table["in_plan"]]
    assert len(offers)
    checked = 0
    for r in offers.itertuples(index=False):
        for edge in (r.low, r.high):
            if not (edge == edge) or edge <= 0:
                continue
            inside = r.price + 0.5 * (edge - r.price)
            outside = edge + 0.05 * (edge - r.price) + (0.01 * r.price if edge > r.price else -0.01 * r.price)
            for price, stays in ((inside, True), (outside, False)):
                priced = _priced(data, r.supplier, r.material, price / r.price)
                best, fixed = _objective_with_plan(priced), _objective_with_plan(priced, plan)
                assert (fixed <= best * (1 + 1e-7) + 1e-6) is stays, (r.supplier, r.material, price)
            checked += 1
        if checked >= 4:
            break
    assert checked >= 2


def test_bundled_capacity_sides_match_re_solves():
    data = so.read_instance(so.bundled_instance())
    base = so.solve(data).objective
    why = so.why_these_suppliers(data)
    table = why.table
    capacities = table[(table["kind"] == "shadow price") & (table["rule"] == "contract capacity")]
    assert len(capacities)
    kinked = capacities[(capacities["one_more"] - capacities["one_fewer"]).abs() > 1e-6]
    sample = capacities.head(2) if kinked.empty else kinked.head(2)
    for r in sample.itertuples(index=False):
        key = (r.supplier, r.material, r.period)
        for step, expected in ((1.0, r.one_more), (-1.0, -r.one_fewer)):
            offers = data.offers.copy()
            offers.loc[key, "capacity"] += step
            assert base - _objective_with_plan(replace(data, offers=offers)) == pytest.approx(expected, abs=1e-4)


def test_the_optimum_is_reported_unique_only_when_it_is():
    """Two identical Chinese refiners at 10: any split of the 100 units is optimal."""
    frames = make(suppliers=[supplier("A", "contract", "China"), supplier("B", "contract", "China")],
                  offers=[{"supplier": "A", "material": "Dy", "price": 10},
                          {"supplier": "B", "material": "Dy", "price": 10}])
    tie = so.why_these_suppliers(so.from_frames(frames))
    assert not tie.unique and "not unique" in tie.note
    assert so.why_these_suppliers(so.from_frames(make(**KINK))).unique


def test_the_why_sheet_and_summary_lines(tmp_path):
    import openpyxl

    data = so.from_frames(make(**KINK))
    why = so.why_these_suppliers(data)
    path = so.write_plan(so.solve(data), tmp_path / "plan.xlsx", why=why)
    book = openpyxl.load_workbook(path)
    assert "Why" in book.sheetnames
    summary = [c.value for row in book["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(text.startswith("Lynas Dy enters the plan below 25.0") for text in summary)


def test_vss_in_words_when_the_average_plan_breaks_a_rule():
    """China at 10 delivers all in 'calm' and half in 'cut' (p 0.5 each), spot at 40, demand 100, China capped
    at 80%. The average future (availability 0.75) contracts 80 / 0.75 = 106.67, which delivers 106.67 in
    'calm': above the cap, so EEV is infeasible. With the cap relaxed to 106.67% that plan costs 1066.67 in
    calm and 533.33 + 46.67 x 40 = 2400 in cut: 1733.33. RP contracts 80: 0.5 (800 + 800) + 0.5 (400 + 2400)
    = 2200."""
    frames = make(suppliers=[supplier("China refiners", "contract", "China"), supplier("S", "spot", "Malaysia")],
                  offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                          {"supplier": "S", "material": "Dy", "price": 40}],
                  scenarios=[{"scenario": "calm", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
                  disruptions=[{"scenario": "cut", "supplier": "China refiners", "availability": 0.5}],
                  origin_caps=[{"country": "China", "max_share": 0.8}])
    table = so.value_of_information(so.from_frames(frames)).set_index("measure")
    assert table.loc["RP", "value"] == pytest.approx(2200)
    assert table.loc["EEV", "status"] == "infeasible"
    assert "raise the China cap from 80.0% to 106.7%" in table.loc["VSS = EEV - RP", "meaning"]
    # and where it breaks it: 106.67 of the demand of 100 through China in 'calm'
    assert "signs contracts and reservations that put China at 106.7% of Dy in 'calm', above its 80.0% cap" \
        in table.loc["VSS = EEV - RP", "meaning"]
    assert table.loc["EEV, broken rules relaxed", "value"] == pytest.approx(1733.3333, rel=1e-6)
    assert table.loc["VSS, broken rules relaxed", "value"] == pytest.approx(1733.3333 - 2200, rel=1e-6)


def test_a_result_gives_its_model_size_so_the_why_needs_no_extra_build():
    """The size a result reports is its model's, passing it changes no answer, and it decides the limit:
    at WHY_LIMIT + 1 variables nothing is asked."""
    from optimizer.analysis.why import WHY_LIMIT

    data = so.from_frames(make(**KINK))
    result = so.solve(data)
    assert result.variables == build(data).model.nvariables()
    assert so.why_these_suppliers(data, result.variables).table.equals(so.why_these_suppliers(data).table)
    skipped = so.why_these_suppliers(data, WHY_LIMIT + 1)
    assert skipped.table.empty and f"{WHY_LIMIT + 1:,} variables" in skipped.note


# --- the range of each shadow price's right-hand side

def _cap_case(share: float, lynas_capacity: float = 50) -> dict:
    """Demand 100 (penalty 1000), China at 10 unlimited, Lynas at 30 with capacity 50, China capped at share."""
    return make(suppliers=[supplier("China refiners", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
                offers=[{"supplier": "China refiners", "material": "Dy", "price": 10},
                        {"supplier": "Lynas", "material": "Dy", "price": 30, "capacity": lynas_capacity}],
                origin_caps=[{"country": "China", "max_share": share}])


def _price_of(why, rule: str):
    table = why.table
    found = table[(table["kind"] == "shadow price") & (table["rule"] == rule)]
    assert len(found) == 1, found
    return found.iloc[0]


def test_a_cap_price_holds_down_to_where_lynas_runs_out_by_hand():
    """At 60%: one more point moves a unit from Lynas (30) to China (10): 20 saved, on both sides. Below 50%
    China and Lynas together fall short and each point fewer is a shortage at 1000 instead of China at 10;
    above 100% nothing is left to move. So 20 per point holds from 50% to 100%."""
    row = _price_of(so.why_these_suppliers(so.from_frames(make(**_cap_case(0.6)))), "origin cap")
    assert row["now"] == pytest.approx(60)
    assert row["shadow_price"] == pytest.approx(20)
    assert (row["low"], row["high"]) == (pytest.approx(50, abs=1e-6), pytest.approx(100, abs=1e-6))
    assert row["one_more"] == pytest.approx(20) and row["one_fewer"] == pytest.approx(20)
    assert "holds from 50.0% to 100.0%" in row["line"] and "kink" not in row["line"]


def test_a_cap_at_the_kink_gives_both_sides_by_hand():
    """At exactly 50%: one more point saves 20 (Lynas to China), one fewer costs 1000 - 10 = 990 (a
    shortage instead of China: Lynas is full). Whichever side HiGHS reports holds on its own side only."""
    row = _price_of(so.why_these_suppliers(so.from_frames(make(**_cap_case(0.5)))), "origin cap")
    assert row["one_more"] == pytest.approx(20) and row["one_fewer"] == pytest.approx(990)
    assert "one more percentage point saves 20.00 USD, one fewer percentage point costs 990 USD" in row["line"]
    assert "kink" in row["line"]
    if row["shadow_price"] == pytest.approx(20):
        assert (row["low"], row["high"]) == (pytest.approx(50), pytest.approx(100, abs=1e-6))
    else:
        assert row["shadow_price"] == pytest.approx(990)
        assert (row["low"], row["high"]) == (pytest.approx(0, abs=1e-6), pytest.approx(50))


def _floor_case(floor: float, lynas: bool, penalty: float) -> dict:
    """Demand 100, China at 10 with capacity 60, Lynas at 30 unlimited (or none), a fill-rate floor."""
    suppliers = [supplier("China refiners", "contract", "China")]
    offers = [{"supplier": "China refiners", "material": "Dy", "price": 10, "capacity": 60}]
    if lynas:
        suppliers.append(supplier("Lynas", "contract", "Malaysia"))
        offers.append({"supplier": "Lynas", "material": "Dy", "price": 30})
    return make(materials=[{"material": "Dy", "shortage_penalty": penalty}], suppliers=suppliers, offers=offers,
                service_levels=[{"min_fill_rate": floor}])


def test_a_floor_that_does_not_bind_costs_nothing_up_to_what_can_be_bought_by_hand():
    """Only China's 60 to buy: a 50% floor does not bind, and any floor up to 60% changes nothing; above
    60% no plan meets it."""
    row = _price_of(so.why_these_suppliers(so.from_frames(make(**_floor_case(0.5, False, 50)))), "fill-rate floor")
    assert row["shadow_price"] == pytest.approx(0, abs=1e-9)
    assert (row["low"], row["high"]) == (pytest.approx(0), pytest.approx(60, abs=1e-4))
    assert "does not bind" in row["line"] and "from 0.0% to 60.0%" in row["line"]


def test_a_binding_floor_costs_lynas_over_the_shortage_above_what_china_covers_by_hand():
    """Penalty 20 below Lynas's 30: without a floor China's 60 and a shortage of 40. At 80% each point more
    buys a Lynas unit instead of a shortage: 10 added, from 60% (China alone meets it) to 100%."""
    row = _price_of(so.why_these_suppliers(so.from_frames(make(**_floor_case(0.8, True, 20)))), "fill-rate floor")
    assert row["shadow_price"] == pytest.approx(10)
    assert (row["low"], row["high"]) == (pytest.approx(60, abs=1e-6), pytest.approx(100))
    assert row["one_more"] == pytest.approx(10) and row["one_fewer"] == pytest.approx(10)
    assert "one more percentage point costs 10.00 USD, one fewer percentage point saves 10.00 USD" in row["line"]


@pytest.mark.parametrize("kind", ["origin cap", "per-period origin cap", "supplier cap", "fill-rate floor",
                                  "budget", "CVaR cap", "contract capacity"])
def test_each_rules_range_against_re_solves_of_the_raw_table(kind):
    """test_shadow_prices' hand-worked instances, one per rule: the Why row's price is the shadow-price
    table's, and its range is checked by moving the rule's row in the raw input and solving afresh: halfway
    to each end the optimum is on the price's line; a little past an end that is not the rule's own limit
    (a share of 0 or a floor of 100%), it is off the line or no plan exists."""
    from test_shadow_prices import CASES, _moved

    case = CASES[kind]
    data = so.from_frames(case.frames)
    base = so.solve(data)
    table = base.shadow_prices
    row = _price_of(so.why_these_suppliers(data), case.rule)
    assert row["shadow_price"] == pytest.approx(float(table.loc[table["rule"] == case.rule, "value"].sum()), rel=1e-6)
    assert row["shadow_price"] == pytest.approx(case.expected, rel=1e-6)
    slope = row["shadow_price"] if case.tightens_upward else -row["shadow_price"]  # d objective / d unit

    def objective_at(units: float):
        result = so.solve(so.from_frames(_moved(case, (units - row["now"]) / case.per)))
        return result.objective if result.status == "optimal" else None

    def on_line(units: float) -> bool:
        value = objective_at(units)
        return value is not None and value == pytest.approx(base.objective + slope * (units - row["now"]),
                                                             rel=1e-7, abs=1e-6)

    natural = (0.0, 100.0) if row["unit"] == "percentage point" else (0.0,)  # a share, or a capacity or budget
    checked = 0
    for end, outward in ((row["low"], -1.0), (row["high"], 1.0)):
        if not (end == end) or abs(end - row["now"]) < 1e-9:
            continue
        assert on_line(row["now"] + 0.5 * (end - row["now"])), (kind, end)
        if end not in natural:
            assert not on_line(end + outward * max(1e-3 * abs(end), 1e-2)), (kind, end)
        checked += 1
    assert checked, row["line"]


def test_a_spot_price_range_by_hand():
    """KINK: the plan signs China's 60 and buys the spot's 40. Above 30 the spot is dearer than Lynas's
    contract, so the plan would sign Lynas instead; any cheaper spot price leaves it as it is (the spot is
    full and China cheaper still)."""
    spot = rows(so.why_these_suppliers(so.from_frames(make(**KINK))), "spot price").loc["Spot"]
    assert spot["rule"] == "spot" and spot["now"] == 25
    assert spot["low"] == pytest.approx(0) and spot["high"] == pytest.approx(30, abs=0.02)
    assert spot["line"].startswith("The plan stays as signed while Spot Dy (spot) costs up to 30.0")


def test_a_reservation_fee_range_by_hand():
    """VAULT_UNDER_CAP with a fee of 10: the 40 units needed in every scenario cost fee + 15 from the vault
    against 30 from Lynas, the 60 needed only in 'ban' fee + 0.2 x 15 against 30 (or a shortage at 0.2 x
    1000): reserving all 100 stays best while the fee is below 15."""
    from conftest import VAULT_UNDER_CAP

    offers = [dict(o, reservation_fee=10) if o["supplier"] == "Project Vault" else o
              for o in VAULT_UNDER_CAP["offers"]]
    why = so.why_these_suppliers(so.from_frames(make(**dict(VAULT_UNDER_CAP, offers=offers))))
    vault = rows(why, "offer price").loc["Project Vault"]
    assert vault["rule"] == "reservation" and vault["in_plan"] and vault["now"] == 10
    assert vault["low"] == pytest.approx(0) and vault["high"] == pytest.approx(15, abs=0.02)
    assert "stays in the plan as reserved at any reservation fee up to 15.0" in vault["line"]


# --- how the edges are found, and in how many processes

def _probe_of(edge: float, plan_line: tuple[float, float], better: list[tuple[float, float, float]], calls: list):
    """A probe on paper: the plan costs a + b x factor; below `edge` plans cheaper than it take over, each
    (start, a, b) the cheapest from its start down (the better plan's objective is concave, as an LP's
    optimum is in a price). The plan holds where it costs no more than the best, to HiGHS's rounding."""
    def probe(factor: float):
        calls.append(factor)
        plan = plan_line[0] + plan_line[1] * factor
        if factor >= edge:
            return True, plan, plan_line[1]
        start, a, b = min((piece for piece in better if piece[0] >= factor), key=lambda p: p[0])
        best = a + b * factor
        if plan <= best + 1e-9 * max(1.0, abs(best)):
            return True, plan, plan_line[1]
        return False, best, b
    return probe


def test_an_edge_with_one_kink_is_found_exactly_in_two_probes():
    """The plan costs 100 + 10 f; below f = 0.6 a plan at 88 + 30 f is cheaper (they cross at 0.6). From
    f = 1 (inside) and 0 (outside) the lines cross at the edge: one probe there, one a step beyond."""
    from optimizer.analysis.why import _edge

    calls = []
    probe = _probe_of(0.6, (100.0, 10.0), [(0.6, 88.0, 30.0)], calls)
    found, _, no_plan = _edge((1.0, 110.0, 10.0), (0.0,) + probe(0.0)[1:], probe)
    assert found == pytest.approx(0.6, abs=1e-12) and len(calls) == 1 + 2 and not no_plan


def test_an_edge_behind_many_kinks_is_within_the_stated_tolerance_and_inside():
    """Eight plans take over one after another below the edge at 0.61 (each line crossing the previous at its
    start): the crossings from outside land on each kink in turn; the answer is a factor where the plan
    holds, within 1 / 2**STEPS of one where it does not, in 8 probes at most where halving alone takes
    STEPS (12)."""
    from optimizer.analysis.why import STEPS, _edge

    plan = (100.0, 10.0)
    pieces, start, a, b = [], 0.61, plan[0], plan[1]
    for k in range(8):  # each steeper piece continues the previous one at its start: concave, continuous
        slope = b + 4.0 + k
        a, b = a + b * start - slope * start, slope
        pieces.append((start, a, b))
        start -= 0.07
    calls = []
    probe = _probe_of(0.61, plan, pieces, calls)
    for inside, outside in ((1.0, 0.0), (1.0, 0.3)):
        calls.clear()
        found = _edge((inside,) + probe(inside)[1:], (outside,) + probe(outside)[1:], probe)[0]
        assert len(calls) - 2 <= 8 < STEPS
        assert probe(found)[0] and found <= 0.61 + 1e-12
        assert not probe(found - abs(outside - inside) / 2 ** STEPS)[0]


def test_the_price_slope_is_the_derivative_of_the_optimum_so_the_duals_have_the_right_sign():
    """lp.slope (quantities x prices less the CVaR rows' duals x coefficients) against a finite difference
    of the optimum re-solved with the offer's price moved, on the bundled instance (CVaR weighted)."""
    from optimizer.analysis.why import _Lp, _priced_offers

    data = so.read_instance(so.bundled_instance())
    lp = _Lp(data)
    assert lp.price_rows  # the price sits in the CVaR rows too
    signed = [o for o in _priced_offers(lp, data) if o[0] == "contract" and o[5]]
    checked = 0
    for kind, supplier_name, material, columns, price, _, _ in signed[:3]:
        slope = lp.slope(columns, lp.base_values, lp.row_duals)
        h = 1e-4
        up, down = (_objective_with_plan(_priced(data, supplier_name, material, 1 + s)) for s in (h, -h))
        # the optimum is piecewise linear in the price: a one-sided difference when 1 sits at a kink
        assert slope == pytest.approx((up - lp.objective) / h, rel=1e-6) or \
            slope == pytest.approx((lp.objective - down) / h, rel=1e-6), (supplier_name, material)
        assert slope > 0  # a dearer signed offer costs more
        checked += 1
    assert checked


FORKED_WHY = """
import json, sys
import optimizer as so
from optimizer.analysis import why

forked = []
real = why.forked_map
def counted(fn, count, processes=None):
    forked.append(count)
    return real(fn, count, processes)
why.forked_map = counted
why.FORK_FROM = 0  # the bundled instance forks too
data = so.read_instance(so.bundled_instance())
there = so.why_these_suppliers(data)
here = so.why_these_suppliers(data, fork=False)
numbers = [c for c in here.table.columns if here.table[c].dtype.kind == "f"]
worst = max(float(((there.table[c] - here.table[c]).abs() / here.table[c].abs().clip(lower=1)).max())
            for c in numbers)
print(json.dumps({"forked": forked, "lines": bool(there.table["line"].equals(here.table["line"])),
                  "columns": bool((there.table.columns == here.table.columns).all()), "worst": worst,
                  "rows": len(here.table), "telling": there.lines == here.lines,
                  "unique": there.unique == here.unique}))
"""


def test_the_questions_asked_in_forked_processes_get_the_answers_asked_in_process():
    """In a fresh process (forking is left out while other threads run, as they may in this one): every
    sentence the same, every figure to rounding (each question starts from the plan's basis, wherever)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FORKED_WHY], check=True, capture_output=True, text=True, timeout=300)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(answer["forked"]) == 1 and answer["forked"][0] >= answer["rows"] > 20
    assert answer["lines"] and answer["columns"] and answer["telling"] and answer["unique"]
    assert answer["worst"] <= 1e-8


# --- offers priced by period, ties at today's price, a budget, and the Summary's price of de-risking

def test_an_offer_priced_by_period_moves_every_periods_price_and_says_so_by_hand():
    """Two periods of demand 100: China at 10 in t1 and 20 in t2 (capacity 60 each), spot at 25 (capacity 40
    each), Lynas at 30. The plan signs China's 60 in both periods (15 on average as bought). One factor f on
    both prices: t2's 20 f passes Lynas's 30 (spot is full) at f = 1.5, t1's only at 3, so the plan stays as
    signed up to an average of 15 x 1.5 = 22.50."""
    data = so.from_frames(make(
        periods=[{"period": "t1"}, {"period": "t2"}],
        demand=[{"material": "Dy", "period": t, "quantity": 100} for t in ("t1", "t2")],
        suppliers=KINK["suppliers"],
        offers=[{"supplier": "China refiners", "material": "Dy", "period": "t1", "price": 10, "capacity": 60},
                {"supplier": "China refiners", "material": "Dy", "period": "t2", "price": 20, "capacity": 60},
                {"supplier": "Spot", "material": "Dy", "price": 25, "capacity": 40},
                {"supplier": "Lynas", "material": "Dy", "price": 30}]))
    china = rows(so.why_these_suppliers(data), "offer price").loc["China refiners"]
    assert china["in_plan"] and china["now"] == pytest.approx(15)
    assert china["low"] == pytest.approx(0) and china["high"] == pytest.approx(22.5, rel=1e-3)
    assert china["line"].startswith("China refiners Dy stays in the plan as signed at any price up to 22.5")
    assert "(now 15.00 USD/kg on average as bought, 10.00 to 20.00 by period, every period's price moved alike)" \
        in china["line"]


def test_todays_price_at_an_end_of_its_range_is_a_tie_so_the_optimum_is_not_unique():
    """The bundled instance with MP Materials 30% dearer: Lynas NdPr oxide's range starts at today's 105.
    Re-solved a millionth cheaper (a fresh build), the plan signs differently: at 105 both plans cost the
    same, and the note says so."""
    from optimizer.inputs.edits import Overrides

    base = so.read_instance(so.bundled_instance())

    def priced(*scales):
        edits = Overrides(scale_price=list(scales)).edits(base.tables)
        return so.apply_case(base, "priced", edits)

    data = priced("MP Materials=1.3")
    why = so.why_these_suppliers(data)
    lynas = rows(why, "offer price")
    lynas = lynas[lynas["material"] == "NdPr oxide"].loc["Lynas"]
    assert lynas["low"] == pytest.approx(lynas["now"], rel=1.0 / 4096)
    assert not why.unique and "Lynas NdPr oxide" in why.note
    plan = _first_stage(so.solve(data))
    cheaper = _first_stage(so.solve(_priced(data, "Lynas", "NdPr oxide", 1 - 1e-6)))
    assert any(abs(cheaper.get(k, 0.0) - v) > 1e-3 for k, v in plan.items())


def test_a_price_beyond_which_the_budget_leaves_no_plan_says_so_by_hand():
    """KINK costs 1600 at best (China's 60 at 10, the spot's 40 at 25); with a budget of 1600 any dearer
    China leaves no plan within it, and any cheaper one keeps the plan: up to 10, then no plan."""
    data = so.from_frames(make(**KINK, settings=[{"key": "budget", "value": 1600}]))
    why = so.why_these_suppliers(data)
    china = rows(why, "offer price").loc["China refiners"]
    assert china["high"] == pytest.approx(10, rel=1e-3)
    assert china["line"].endswith("; from 10.01 USD/kg up, no plan meets every rule")
    assert "China refiners" not in why.note  # an end where no plan is left is no tie
    assert so.solve(_priced(data, "China refiners", "Dy", 1.001)).status == "infeasible"


def test_the_summarys_price_of_de_risking_says_where_one_point_tighter_leaves_no_plan():
    """On the bundled instance the China refining cap (90%) prices its point below, but one point tighter on
    NdFeB magnets alone has no plan (re-solved with a magnets row at 89%): the Summary says so."""
    from optimizer.reports.export import summary_lines

    data = so.read_instance(so.bundled_instance())
    result = so.solve(data)
    line = next(row for row in summary_lines(result, so.why_these_suppliers(data))
                if isinstance(row, tuple) and row[0] == "China refining cap")
    assert "one point tighter on NdFeB magnets leaves no plan" in line[3]
    without = next(row for row in summary_lines(result) if isinstance(row, tuple) and row[0] == "China refining cap")
    assert "leaves no plan" not in without[3]
    caps = data.tables["origin_caps"]
    tighter = pd.concat([caps, caps.assign(material="NdFeB magnets", max_share=0.89)], ignore_index=True)
    assert so.solve(so.from_frames({**data.tables, "origin_caps": tighter})).status == "infeasible"


def test_the_shadow_prices_sheet_has_both_sides_beside_each_dual(tmp_path):
    """With the Why analysis the plan workbook's Shadow prices sheet shows, beside each dual, what one unit
    more and one unit fewer are worth, re-solved: on the bundled instance the China cap on NdFeB magnets has
    no plan one point tighter (blank), and one more point on Dy oxide saves what re-solving the raw table
    with Dy's cap at 91% (the others' at 90%) saves."""
    data = so.read_instance(so.bundled_instance())
    result = so.solve(data)
    path = so.write_plan(result, tmp_path / "plan.xlsx", why=so.why_these_suppliers(data))
    sheet = pd.read_excel(path, sheet_name="Shadow prices", engine="openpyxl")
    caps = sheet[sheet["Rule"] == "origin cap"].set_index("Material")
    assert pd.isna(caps.loc["NdFeB magnets", "One fewer, re-solved"])
    table = data.tables["origin_caps"].reset_index(drop=True)
    materials = list(data.materials.index)
    per_material = pd.concat([table.assign(material=m, max_share=0.91 if m == "Dy oxide" else 0.9)
                              for m in materials], ignore_index=True)
    looser = so.solve(so.from_frames({**data.tables, "origin_caps": per_material}))
    saved = result.objective - looser.objective
    assert caps.loc["Dy oxide", "One more, re-solved"] == pytest.approx(saved, rel=1e-6)
    assert caps.loc["Dy oxide", "Value"] != pytest.approx(saved, rel=1e-6)  # the dual is the other side
    plain = pd.read_excel(so.write_plan(result, tmp_path / "plain.xlsx"), sheet_name="Shadow prices",
                          engine="openpyxl")
    assert "One more, re-solved" not in plain.columns


def _bundled_with(tmp_path, settings=(), offers=None):
    """The bundled instance's CSV folder with settings rows added and offer prices set, read back."""
    import shutil

    folder = tmp_path / "instance"
    shutil.copytree(so.bundled_instance(), folder)
    if settings:
        with open(folder / "settings.csv", "a") as out:
            out.writelines(f"{key},{value},\n" for key, value in settings)
    if offers:
        table = pd.read_csv(folder / "offers.csv", dtype=str, keep_default_na=False)
        for (supplier_name, material), price in offers.items():
            table.loc[(table["supplier"] == supplier_name) & (table["material"] == material), "price"] = price
        table.to_csv(folder / "offers.csv", index=False)
    return so.read_instance(folder)


def _first_stage_moves(data, epsilon: float) -> float:
    """How far any contract or reservation can move among plans within epsilon of the optimum (the largest of a
    few random directions, minimised and maximised): proportional to epsilon when the optimum is unique, a
    fixed amount when another plan costs the same (an independent check, on a model built afresh)."""
    import numpy as np
    import pyomo.core as pyo

    built = build(data)
    model = built.model
    best = solve_once(built.model).objective
    first = list(model.contract_quantity.values()) + list(model.reserved_quantity.values())
    objective = next(model.component_data_objects(pyo.Objective, active=True))
    model.within = pyo.Constraint(expr=objective.expr <= best + epsilon)
    objective.deactivate()
    rng = np.random.default_rng(0)
    reach = 0.0
    for _ in range(3):
        weights = rng.normal(size=len(first))
        ends = []
        for sense in (pyo.minimize, pyo.maximize):
            model.direction = pyo.Objective(expr=sum(w * v for w, v in zip(weights, first)), sense=sense)
            run = solve_once(model)
            assert run.status == "optimal"
            ends.append([pyo.value(v) for v in first])
            model.del_component(model.direction)
        reach = max(reach, float(np.abs(np.subtract(*ends)).max()))
    return reach


def test_a_range_pinned_by_a_binding_budget_is_no_tie(tmp_path):
    """With a budget of 73.65M the bundled plan's ranges shrink to today's prices, but no other plan costs the
    same: the best plan moves with the price because the price sits in the budget's row. Among plans within
    epsilon of the optimum the contracts move in proportion to epsilon (a unique optimum), and the note does
    not call it a tie."""
    data = _bundled_with(tmp_path, settings=[("budget", 73_650_000)])
    why = so.why_these_suppliers(data)
    pinned = [line for line in why.table["line"] if " only at today's " in line]
    assert pinned  # the budget binds: ranges are points
    assert "sits at an end of its range" not in why.note
    small, large = _first_stage_moves(data, 1e-2), _first_stage_moves(data, 1.0)
    assert small < 0.05 * large  # moves shrink with epsilon: unique


def test_an_end_just_past_todays_price_is_no_tie_but_one_exactly_at_it_is(tmp_path):
    """Lynas NdPr oxide's range ends at 110.55: priced at 110.50 the end is within the search's precision of
    today's price but the other plan costs more today (unique); priced at 110.55 it costs the same (a tie),
    which the independent check confirms both ways."""
    near = _bundled_with(tmp_path / "near", offers={("Lynas", "NdPr oxide"): "110.50"})
    why = so.why_these_suppliers(near)
    assert "Lynas NdPr oxide" not in why.note
    assert _first_stage_moves(near, 1e-3) < 0.05 * _first_stage_moves(near, 1.0)
    at = _bundled_with(tmp_path / "at", offers={("Lynas", "NdPr oxide"): "110.55"})
    why = so.why_these_suppliers(at)
    assert not why.unique and "Lynas NdPr oxide" in why.note
    assert _first_stage_moves(at, 1e-3) > 100  # kg: another plan at the same cost
