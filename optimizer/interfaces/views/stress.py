"""Stress test: the optimised plan's contracts and reservations played through sampled futures it never saw,
with the cost distribution, the shortfall probability and the command line's workbook."""

from __future__ import annotations

import streamlit as st

import optimizer as so

from .. import jobs
from .common import download, job_status, money, percent, plain, show_error

#: The stress test's two recourse policies, as the library names them.
POLICIES = ("re-planning", "perfect foresight")
#: The statistics shown as cards for each policy, as the library names them, with their labels on the page.
SHOWN = (("probability_of_shortfall", "Probability of any shortfall"), ("cost_mean", "Mean cost"),
         ("cost_p90", "90th-percentile cost"))


def render(session) -> None:
    st.header("Stress test")
    st.write("The plan for the levers as set is solved, then its contracts and reservations are held fixed "
             "and played through futures drawn from the input's disruption model: each period the buyer "
             "re-plans knowing only what has happened so far (re-planning), against the same future known "
             "in advance (perfect foresight, an optimistic bound). The same seed gives the same futures.")
    left, middle, right = st.columns(3)
    futures = int(left.number_input("Number of futures", 1, 100_000, 1000, 100, key="stress-futures"))
    seed = int(middle.number_input("Seed", 0, 2**31 - 1, 0, 1, key="stress-seed"))
    choices = [NOTHING, AS_IS] + [f"{SAVED}{name}" for name in session.saved]
    second = right.selectbox("Compare with the plan of", choices, key="stress-second",
                             help="Both plans are played through the very same futures, so their costs can be "
                                  "compared future by future.")
    st.button("Run the stress test", type="primary", on_click=_start, args=(session, futures, seed, second),
              icon=":material/bolt:", key="stress-start")
    job_status(session, "stress")
    if session.answers.get("stress error") is not None:
        show_error(session.answers["stress error"], "The stress test cannot run on this input.")
    answer = session.answers.get("stress")
    if answer is None:
        return
    result = answer["stress"]
    st.caption(f"{answer['futures']:,} futures, seed {answer['seed']}; the same from the command line: "
               f"sourcing stress --futures {answer['futures']} --seed {answer['seed']} --workers 0")
    for plan in result.plans:
        if len(result.plans) > 1:
            st.subheader(plain(plan))
        _cards(result, plan)
    difference = answer.get("difference")
    if difference is not None:
        _difference(result, difference)
    st.image(answer["figure"], caption="Cost of each future: share of futures per cost bin")
    st.subheader("Statistics")
    st.dataframe(result.summary, hide_index=True, width="stretch")
    st.subheader("Materials: fill rates and dependency share")
    st.dataframe(result.materials, hide_index=True, width="stretch")
    download("Download the stress-test workbook (.xlsx)", answer["workbook"], "stress.xlsx", "stress-download")


def _cards(result, plan: str) -> None:
    for policy in POLICIES:
        columns = st.columns(len(SHOWN))
        for column, (statistic, label) in zip(columns, SHOWN):
            value = _row(result, plan, policy, statistic)
            if value is None:
                continue
            shown = percent(value["value"]) if value["unit"] == "share" else money(value["value"], result.currency)
            interval = "" if value["ci_low"] != value["ci_low"] else (
                f"95% interval {percent(value['ci_low'])} to {percent(value['ci_high'])}" if value["unit"] == "share"
                else f"95% interval {money(value['ci_low'], result.currency)} to "
                     f"{money(value['ci_high'], result.currency)}")
            column.metric(f"{label} ({policy})", shown, border=True, help=interval or None)


def _difference(result, difference) -> None:
    """The two plans future by future: the mean difference in cost with its interval, and how often each wins."""
    first, second = result.plans[:2]
    st.subheader(f"{plain(first)} against {plain(second)}, future by future")
    columns = st.columns(len(POLICIES))
    for column, policy in zip(columns, POLICIES):
        rows = difference[difference["policy"] == policy].set_index("measure")
        if rows.empty:
            continue
        mean = rows.iloc[0]
        interval = None if mean["ci_low"] != mean["ci_low"] else (
            f"95% interval {money(mean['ci_low'], result.currency)} to {money(mean['ci_high'], result.currency)}")
        cheaper = rows.loc[f"share of futures: {first} costs less", "value"]
        column.metric(f"Mean cost difference ({policy})", money(mean["value"], result.currency), border=True,
                      help=interval)
        column.caption(f"Cheaper in {percent(cheaper)} of futures; the same in "
                       f"{percent(rows.loc['share of futures: the same cost', 'value'])}"
                       + (f"; {interval}" if interval else ""))
    st.dataframe(difference, hide_index=True, width="stretch")


def _row(result, plan: str, policy: str, statistic: str) -> dict | None:
    summary = result.summary
    rows = summary[(summary["plan"] == plan) & (summary["policy"] == policy) & (summary["statistic"] == statistic)]
    return None if rows.empty else rows.iloc[0].to_dict()


#: The choices of a second plan: none, the input without levers, or a saved lever setting (this prefix + name).
NOTHING, AS_IS, SAVED = "nothing (this plan alone)", "the input as it is", "saved levers: "


def _start(session, futures: int, seed: int, second: str = NOTHING) -> None:
    session.answers.pop("stress error", None)
    try:
        data = session.levered()
        other = None
        if second == AS_IS:
            other = ("the input as it is", session.data)
        elif second.startswith(SAVED) and second[len(SAVED):] in session.saved:
            name = second[len(SAVED):]
            other = (f"saved levers {name}", session.levered(*session.saved[name]))
    except so.InputError as error:
        session.answers["stress error"] = error
        return
    session.start("stress", f"Stress test over {futures:,} futures", jobs.run_stress, data, futures, seed,
                  other)
