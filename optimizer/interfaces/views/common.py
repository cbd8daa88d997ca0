"""What every page of the web app shows the same way: safe text, numbers, errors, downloads, progress."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

#: Characters that Markdown (and Streamlit's labels) would read as markup: escaped in every text from the input.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def plain(text: object) -> str:
    """Text from the input (a supplier's name, a case's name) made safe for a Markdown label: shown as typed,
    never a link, a picture, HTML or a formula."""
    return _MARKUP.sub(r"\\\1", str(text))


def money(value: float | None, currency: str) -> str:
    if value is None or value != value:
        return "-"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M {currency}"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.1f}k {currency}"
    return f"{value:,.0f} {currency}"


def percent(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1%}"


def show_error(error: object, what: str = "The input cannot be used; nothing was solved.") -> None:
    """An input error exactly as the command line words it (after its 'Error: '), in a box that shows text
    as text."""
    st.error(what, icon=":material/error:")
    st.code(f"Error: {error}", language=None, wrap_lines=True)


def show_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        st.code(f"Warning: {warning}", language=None, wrap_lines=True)


def download(label: str, path: str | Path | None, file_name: str, key: str) -> None:
    """A download button for a file the library wrote (read as it is: the same bytes the command writes)."""
    if path is None or not Path(path).is_file():
        return
    mime = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".png": "image/png",
            ".pdf": "application/pdf"}.get(Path(file_name).suffix, "application/octet-stream")
    st.download_button(label, data=Path(path).read_bytes(), file_name=file_name, mime=mime, key=key,
                       icon=":material/download:")


def job_status(session, kind: str) -> bool:
    """Progress of the session's job of this kind, with a Cancel button; True while it runs."""
    job = session.jobs.get(kind)
    if job is None:
        return False
    if job.running:
        st.progress(job.progress or 0.0, text=plain(job.note or job.label))
        st.button("Cancel", key=f"cancel-{kind}-{id(job)}", on_click=job.cancel, icon=":material/cancel:")
        return True
    if job.state == "failed":
        show_error(job.error, f"{job.label}: no answer.")
    elif job.state == "cancelled":
        st.info(f"{job.label}: cancelled.")
    return False
