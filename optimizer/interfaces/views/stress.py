"""Stress test: the plan run through many sampled futures, when the library offers it."""

from __future__ import annotations

import streamlit as st

import optimizer as so


def available() -> bool:
    return "stress" in so.__all__


def render(session) -> None:
    st.header("Stress test")
    if not available():
        st.info("This version of the library has no stress test; the page appears when it does.")
        return
