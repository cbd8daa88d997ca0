"""The web app: `sourcing app` serves this script with Streamlit.

A thin shell over the library, like the command line: the pages read widgets into lever values and show
the library's tables, figures and files; every computation runs in a worker process (`jobs`), so the
page stays responsive and sessions never share a solver. Text from an upload is shown as text only.
"""

from __future__ import annotations

import shlex

import streamlit as st

from optimizer.interfaces import jobs
from optimizer.interfaces.views import common, compare, frontier, levers, results, stress
from optimizer.interfaces.views import input as input_page
from optimizer.interfaces.session import Session

PAGES = ["Input", "Levers", "Results", "Cost of de-risking", "Compare", "Stress test"]

#: How often the page looks at running jobs (seconds).
POLL_SECONDS = 0.5


def session() -> Session:
    if "session" not in st.session_state:
        jobs.warm_up()  # the fork server loads the library while the first page is read
        state = Session.new()
        state.load_default()
        st.session_state["session"] = state
    return st.session_state["session"]


def solve(state: Session) -> None:
    """Start a solve of the levered input (and of the input as it is, the first time, for the changes)."""
    state.answers.pop("levers error", None)
    st.session_state["page"] = "Results"
    try:
        data = state.levered()
    except Exception as error:  # an InputError: the levers broke a rule of the input
        state.answers["levers error"] = error
        state.jobs.pop("solve", None)
        return
    base = state.data if "base" not in state.answers else None
    job = state.start("solve", "Solve", jobs.solve_plan, data, base)
    job.changes = state.changes()


def navigation() -> str:
    with st.sidebar:
        st.title("Rare-earth sourcing")
        return st.radio("Page", PAGES, key="page", label_visibility="collapsed")


def sidebar(state: Session) -> None:
    """Drawn after the page, so that it lists the levers as the page's widgets have just set them."""
    with st.sidebar:
        if state.data is None:
            return
        st.button("Solve", type="primary", on_click=solve, args=(state,), icon=":material/play_arrow:",
                  width="stretch", key="solve")
        lines = state.changes()
        st.subheader("Changed levers")
        if lines:
            for line in lines:
                st.text(f"- {line}")
            st.button("Reset levers", on_click=state.reset_levers, icon=":material/undo:", key="reset")
            st.caption("The same from the command line:")
            st.code("sourcing solve " + shlex.join(state.arguments()), language=None, wrap_lines=True)
        else:
            st.text("none: the input as it is")
        if any(job.running for job in state.jobs.values()):
            progress(state)


@st.fragment(run_every=POLL_SECONDS)
def progress(state: Session) -> None:
    """Running jobs with their progress, redrawn on a timer (only while a job runs); when the last one
    ends, the whole page is drawn again with its answer."""
    running = state.poll()
    for job in running:
        st.progress(job.progress or 0.0, text=common.plain(f"{job.label}: {job.note or 'starting'}"))
        st.button("Cancel", key=f"sidebar-cancel-{job.kind}-{id(job)}", on_click=job.cancel,
                  icon=":material/cancel:")
    if not running:
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="Rare-earth sourcing", page_icon=":material/factory:", layout="wide")
    state = session()
    state.poll()
    page = navigation()
    if state.data is None and page != "Input":
        st.header(page)
        common.show_error(state.error or "no input yet.", "There is no usable input: see the Input page.")
    elif page == "Input":
        input_page.render(state)
    elif page == "Levers":
        levers.render(state)
    elif page == "Results":
        results.render(state, lambda: solve(state))
    elif page == "Cost of de-risking":
        frontier.render(state)
    elif page == "Compare":
        compare.render(state)
    else:
        stress.render(state)
    sidebar(state)


if __name__ == "__main__":
    main()
