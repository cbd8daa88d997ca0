"""Compare: the input as it is, the workbook's cases and the lever settings saved as cases, side by side."""

from __future__ import annotations

import streamlit as st

import optimizer as so

from .. import jobs
from .common import download, job_status, plain, show_error


def render(session) -> None:
    st.header("Compare")
    st.write("The input as it is (base) against any of the workbook's cases and the lever settings you saved "
             "on the Levers page, with how purchases move between suppliers.")
    try:
        sheet = so.case_edits(session.data)
    except so.InputError as error:
        show_error(error)
        sheet = {}
    chosen_sheet = [name for name in sheet if st.checkbox(f"Case: {plain(name)}", True, key=f"cmp-case-{name}")]
    chosen_saved = [name for name in session.saved if st.checkbox(f"Saved levers: {plain(name)}", True,
                                                                  key=f"cmp-saved-{name}")]
    if not sheet and not session.saved:
        st.info("The input has no cases; save lever settings on the Levers page to compare them.")
    st.button("Compare", type="primary", on_click=_start, args=(session, sheet, chosen_sheet, chosen_saved),
              icon=":material/compare_arrows:", key="compare-start")
    job_status(session, "compare")
    if session.answers.get("compare error") is not None:
        show_error(session.answers["compare error"], "A saved setting cannot be used.")
    answer = session.answers.get("compare")
    if answer is None:
        return
    comparison = answer["comparison"]
    st.dataframe(comparison.summary, hide_index=True, width="stretch")
    st.image(answer["figure"], caption="Expected cost against the dependency share")
    st.subheader("What moves between suppliers")
    st.dataframe(comparison.moves, hide_index=True, width="stretch")
    download("Download the comparison workbook (.xlsx)", answer["workbook"], "comparison.xlsx", "compare-download")


def _start(session, sheet: dict, chosen_sheet: list[str], chosen_saved: list[str]) -> None:
    cases = {name: sheet[name] for name in chosen_sheet}
    session.answers.pop("compare error", None)
    try:
        for name in chosen_saved:
            levers, case = session.saved[name]
            edits = levers.overrides(session.base).edits(session.data.tables)
            if case is not None:
                edits = edits + sheet[case]
            cases[name] = edits
    except so.InputError as error:
        session.answers["compare error"] = error
        return
    session.start("compare", "Comparison", jobs.run_compare, session.data, cases)
