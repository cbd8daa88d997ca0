"""Cost of de-risking: the curve for a chosen cap, the current policy marked, any point's plan and moves."""

from __future__ import annotations

import streamlit as st

import optimizer as so

from . import results
from .common import download, job_status, percent, show_error
from .. import jobs


def cap_choices(session) -> list[str]:
    """The caps the input states, then the dependency country at any stage and at each stage."""
    country = session.data.settings.dependency_country
    keys = list(session.base.caps) + [country] + [f"{country}:{stage}" for stage in session.data.stages]
    return list(dict.fromkeys(keys))


def render(session) -> None:
    st.header("Cost of de-risking")
    st.write("How the optimum grows as a cap tightens, from the share the plan reaches without it down to "
             "the tightest cap any plan meets. The levers apply (the curve moves the chosen cap only).")
    left, right = st.columns([2, 1])
    cap = left.selectbox("Cap to sweep", cap_choices(session), key="frontier-cap",
                         format_func=lambda key: key.replace(":", " at ").replace("*", "each single country"))
    points = right.slider("Points", 3, 41, 11, key="frontier-points")
    st.button("Draw the curve", type="primary", on_click=_start, args=(session, cap, points),
              icon=":material/show_chart:", key="frontier-start")
    job_status(session, "frontier")
    answer = session.answers.get("frontier")
    if answer is None:
        return
    curve = answer["frontier"]
    st.image(answer["figure"], caption=f"Cost of de-risking: {curve.cap} (the star is the current cap)")
    if curve.tightest is None:
        st.text(f"No cap on {curve.cap} is feasible.")
    else:
        st.text(f"Tightest feasible {curve.cap} cap: {curve.tightest:.2%}; no plan below it.")
    if curve.explanation:
        st.code(curve.explanation, language=None, wrap_lines=True)
    st.dataframe(curve.table.assign(point=curve.points_in_words), hide_index=True, width="stretch", column_config={
        "max_share": st.column_config.NumberColumn(format="percent"),
        "achieved_share": st.column_config.NumberColumn(format="percent")})
    download("Download the curve's workbook (.xlsx)", answer["workbook"], "frontier.xlsx", "frontier-download")

    st.subheader("One point of the curve")
    feasible = curve.table[curve.table["status"] == "optimal"]
    shares = [float(s) for s in feasible["max_share"]]
    kinds = dict(zip(shares, curve.points_in_words[feasible.index]))
    if not shares:
        return
    share = st.selectbox("Point", shares, format_func=lambda s: f"{s:.2%} ({kinds[s]})", key="frontier-point")
    st.button("Show this point's plan and what moved", on_click=_point, args=(session, answer["cap"], share),
              icon=":material/zoom_in:", key="frontier-point-start")
    job_status(session, "point")
    point = session.answers.get("point")
    if point is None:
        return
    comparison = point["comparison"]
    result = comparison.results.get(point["name"])
    st.caption(f"{point['name']}, against the plan for the levers as set")
    if result is None or not result.optimal:
        show_error(comparison.summary.iloc[-1].get("why", "no plan"), "No plan at this point.")
        return
    results.headline(result, comparison.results.get("base"))
    st.text("What moved between suppliers (expected purchases):")
    st.dataframe(comparison.moves, hide_index=True, width="stretch")
    results.plan_tables(result)
    download("Download this point's plan workbook (.xlsx)", point.get("plan"), "plan.xlsx", "point-download")


def _start(session, cap: str, points: int) -> None:
    try:
        data = session.levered()
    except so.InputError as error:
        session.answers["levers error"] = error
        return
    session.answers.pop("point", None)
    session.start("frontier", f"Curve of the {cap} cap", jobs.run_frontier, data, cap, points)


def _point(session, cap: str, share: float) -> None:
    try:
        data = session.levered()
    except so.InputError as error:
        session.answers["levers error"] = error
        return
    session.start("point", f"Plan at {percent(share)}", jobs.run_point, data, cap, share)
