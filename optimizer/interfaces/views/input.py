"""Input: the bundled instance or an uploaded workbook (or zip of CSV files), its problems, the template."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import optimizer as so

from ..session import shown_name
from .common import download, plain, show_error, show_warnings


def render(session) -> None:
    st.header("Input")
    st.write("Start from the bundled 2026 instance, or upload your own workbook (.xlsx) or a zip of CSV files "
             "with the same sheets. The template is the bundled instance as a workbook to fill in.")
    left, right = st.columns(2)
    with left:
        st.button("Use the bundled instance", on_click=_bundled, args=(session,), icon=":material/inventory_2:")
    with right:
        template = session.folder / "template" / "sourcing_template.xlsx"
        if not template.exists():
            template.parent.mkdir(exist_ok=True)
            so.write_tables(so.read_tables(so.bundled_instance()), template)
        download("Download the template workbook", template, "sourcing_template.xlsx", "template")
    upload = st.file_uploader(f"Upload a workbook or a zip of CSV files (at most "
                              f"{so.MAX_UPLOAD_BYTES // 2**20} MB)", type=["xlsx", "zip"], key="upload")
    if upload is not None and st.session_state.get("read_upload") != upload.file_id:
        st.session_state["read_upload"] = upload.file_id
        session.upload(upload.name, upload.getvalue())
    if session.error is not None:
        show_error(session.error)
    if session.data is None:
        return
    st.subheader("In use")
    st.text(f"{session.source}: {len(session.data.materials)} materials, {len(session.data.periods)} periods, "
            f"{len(session.data.suppliers)} suppliers, {len(session.data.scenarios)} scenarios")
    show_warnings(session.data.warnings)
    tabs = st.tabs([plain(name) for name in session.data.tables])
    for tab, table in zip(tabs, session.data.tables.values()):
        with tab:
            st.dataframe(blank_missing(table), width="stretch")


def _bundled(session) -> None:
    try:
        session.use(so.read_instance(so.bundled_instance()), shown_name(so.bundled_instance()))
    except so.InputError as error:
        session.error = error


def blank_missing(table):
    """The table with its empty text cells shown empty, as the workbook has them (not as "None")."""
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c]) and table[c].isna().any()]
    return table.assign(**{c: table[c].astype(object).where(table[c].notna(), "") for c in text}) if text else table
