"""Levers: origin caps, fill-rate floor, CVaR, suppliers' capacity and prices, scenario probabilities, cases.

Every lever is one of the command line's overrides (`so.Levers`); the page only reads widgets into them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import optimizer as so

from .common import plain

NO_CASE = "(none: the input as levered)"


def render(session) -> None:
    st.header("Levers")
    data, levers, base, rev = session.data, session.levers, session.base, session.revision
    st.write("Move a lever, then press **Solve** in the sidebar. Changed levers are listed there; "
             "**Reset levers** puts every lever back to the input's value.")

    st.subheader("Origin caps")
    country = data.settings.dependency_country
    keys = list(base.caps) + ([country] if country not in base.caps else [])
    for key in keys:
        now = levers.caps.get(key, 1.0)
        label = f"{plain(key.replace(':', ' '))} cap: most allowed share of each material's demand (%)"
        if key not in base.caps:
            label += " (the input has no such cap; 100% leaves it out)"
        value = st.slider(label, 0.0, 100.0, round(now * 100, 2), 0.5, format="%.1f%%", key=f"cap-{key}-{rev}")
        if key in base.caps or abs(value - 100) > 1e-9:
            levers.caps[key] = value / 100
        else:
            levers.caps.pop(key, None)

    st.subheader("Service and risk")
    floor = levers.fill_rate if levers.fill_rate is not None else min(levers.material_fill_rates.values(),
                                                                       default=0.0)
    value = st.slider("Fill-rate floor, every material and scenario (%)", 0.0, 100.0, round(floor * 100, 2), 0.5,
                      format="%.1f%%", key=f"fill-{rev}")
    if abs(value / 100 - floor) > 1e-9 or levers.fill_rate is not None:
        levers.fill_rate = value / 100
    left, right = st.columns(2)
    levers.cvar_weight = left.number_input("CVaR weight (0 = risk neutral)", 0.0, 100.0, float(levers.cvar_weight),
                                           0.05, key=f"cvar-weight-{rev}")
    levers.cvar_level = right.slider("CVaR level: the worst share of futures weighed (%)", 50.0, 99.5,
                                     round(levers.cvar_level * 100, 2), 0.5, format="%.1f%%",
                                     key=f"cvar-level-{rev}") / 100
    changed_floors = {m: v for m, v in levers.material_fill_rates.items()
                      if abs(v - base.material_fill_rates.get(m, v)) > 1e-9}
    if changed_floors:
        st.text("Floors for single materials (from a fix): " + ", ".join(f"{m} {v:.2%}" for m, v in
                                                                          changed_floors.items()))

    st.subheader("Suppliers")
    suppliers = pd.DataFrame({
        "supplier": list(data.suppliers.index), "kind": list(data.suppliers["kind"]),
        "capacity x": [levers.capacity.get(s, 1.0) for s in data.suppliers.index],
        "price x": [levers.price.get(s, 1.0) for s in data.suppliers.index],
        "leave out": [s in levers.dropped for s in data.suppliers.index]})
    edited = st.data_editor(suppliers, hide_index=True, disabled=["supplier", "kind"], key=f"suppliers-{rev}",
                            column_config={
                                "capacity x": st.column_config.NumberColumn(min_value=0.0, step=0.1, format="%.2f"),
                                "price x": st.column_config.NumberColumn(min_value=0.0, step=0.05, format="%.2f")},
                            width="stretch")
    levers.capacity = {r["supplier"]: float(r["capacity x"] if r["capacity x"] == r["capacity x"] else 1.0)
                       for r in edited.to_dict("records")}
    levers.price = {r["supplier"]: float(r["price x"] if r["price x"] == r["price x"] else 1.0)
                    for r in edited.to_dict("records")}
    levers.dropped = tuple(r["supplier"] for r in edited.to_dict("records") if r["leave out"])

    st.subheader("Scenario probabilities")
    st.write("Set one scenario's probability: the others are rescaled so that they still sum to 100%.")
    _probabilities(session)

    st.subheader("Named cases")
    names = list(_cases(session))
    if names:
        choice = st.selectbox("Apply a case of the workbook's cases sheet on top of the levers",
                              [NO_CASE] + names, index=([NO_CASE] + names).index(session.case or NO_CASE),
                              key=f"case-{rev}")
        session.case = None if choice == NO_CASE else choice
    else:
        st.text("The input has no cases sheet.")
    left, right = st.columns([3, 1])
    name = left.text_input("Save these levers as a case (for Compare)", key=f"save-name-{rev}",
                           placeholder="e.g. China 60% without Project Vault")
    right.button("Save", on_click=_save, args=(session, name), disabled=not name.strip(), key=f"save-{rev}")
    if session.saved:
        st.text("Saved: " + ", ".join(session.saved))


def _cases(session) -> dict:
    try:
        return so.case_edits(session.data)
    except so.InputError:
        return {}


def _probabilities(session) -> None:
    try:
        scenarios = session.levers.apply(session.data, session.base).scenarios
    except so.InputError:
        scenarios = session.data.scenarios
    shown = pd.DataFrame({"scenario": list(scenarios.index),
                          "probability %": [round(p * 100, 6) for p in scenarios["probability"]],
                          "description": list(scenarios["description"].fillna(""))})
    key = f"probabilities-{session.revision}-{len(session.levers.probabilities)}"
    edited = st.data_editor(shown, hide_index=True, disabled=["scenario", "description"], key=key,
                            column_config={"probability %": st.column_config.NumberColumn(
                                min_value=0.0, max_value=100.0, step=1.0, format="%.2f")},
                            width="stretch")
    for before, after in zip(shown.to_dict("records"), edited.to_dict("records")):
        if after["probability %"] == after["probability %"] and abs(after["probability %"] -
                                                                     before["probability %"]) > 1e-9:
            session.levers = session.levers.with_probability(after["scenario"], after["probability %"] / 100)
            st.rerun()


def _save(session, name: str) -> None:
    session.saved[name.strip()] = (session.levers.copy(), session.case)
