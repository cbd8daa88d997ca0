"""The stress page compares two plans on the same futures: the plan for the levers as set against the input as
it is (or a saved setting), with the difference future by future."""

from __future__ import annotations

import pytest

import optimizer as so
from appdriver import page, session, start, wait
from optimizer.interfaces.views.common import money, percent


@pytest.fixture
def app(monkeypatch):
    at = start(monkeypatch)
    yield at
    session(at).close()


def run_compared(app, futures: int, seed: int) -> None:
    page(app, "Stress test")
    app.number_input(key="stress-futures").set_value(futures)
    app.number_input(key="stress-seed").set_value(seed)
    app.selectbox(key="stress-second").set_value("the input as it is").run()
    app.button(key="stress-start").click().run()
    wait(app)
    assert not [e for e in app.error]


def test_two_plans_on_the_same_futures_against_the_library_run_directly(app):
    page(app, "Levers")
    slider = app.slider(key=next(s.key for s in app.slider if s.label.startswith("China refining cap")))
    slider.set_value(95.0).run()
    run_compared(app, 40, 3)
    # the same stress test run here, without the page: both plans solved afresh, the same futures and seed
    data = so.read_instance(so.bundled_instance())
    levered = so.apply_case(data, "x", so.Overrides(caps=["China:refining=0.95"]).edits(data.tables))
    plans = [so.plan_of(so.solve(levered), "A"), so.plan_of(so.solve(data), "B")]
    direct = so.stress(levered, plans, futures=40, seed=3, workers=0).futures
    replanned = direct[direct["policy"] == "re-planning"].pivot(index="future", columns="plan", values="cost_USD")
    gap = replanned["A"] - replanned["B"]
    cards = {m.label: m.value for m in app.metric}
    assert cards["Mean cost difference (re-planning)"] == money(gap.mean(), "USD")
    assert gap.abs().max() > 0  # the two plans differ, so the comparison is not empty
    captions = [c.value for c in app.caption]
    assert any(c.startswith(f"Cheaper in {percent((gap < -1e-9 * replanned.abs().max(axis=1).clip(lower=1)).mean())}")
               for c in captions)
    # each plan has its own cards
    assert sum(label.startswith("Probability of any shortfall (re-planning)") for label in cards) == 1
    assert len([m for m in app.metric if m.label == "Probability of any shortfall (re-planning)"]) == 2


def test_a_plan_against_itself_differs_by_nothing_in_every_future(app):
    run_compared(app, 30, 5)  # no lever moved: the input as it is has the same plan
    cards = {m.label: m.value for m in app.metric}
    assert cards["Mean cost difference (re-planning)"] == money(0.0, "USD")
    assert cards["Mean cost difference (perfect foresight)"] == money(0.0, "USD")
    assert any(c.value.startswith(f"Cheaper in {percent(0.0)} of futures; the same in {percent(1.0)}")
               for c in app.caption)
