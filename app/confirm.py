"""Asking before a destructive action: the button that starts it calls `ask`, the page calls
its dialog while `asked` (so the question survives the reruns it causes), and the dialog's
answer, or closing it, calls `forget`."""
from __future__ import annotations

from functools import partial

import streamlit as st


def ask(name: str, what=True) -> None:
    st.session_state[f"confirm_{name}"] = what


def asked(name: str):
    """What the pending question `name` is about (None when none is pending)."""
    return st.session_state.get(f"confirm_{name}")


def forget(name: str) -> None:
    st.session_state.pop(f"confirm_{name}", None)


def dialog(name: str, title: str):
    """st.dialog whose closing (x, Esc, a click outside) forgets the question."""
    return st.dialog(title, on_dismiss=partial(forget, name))


def answer_buttons(name: str, yes_label: str) -> bool:
    """The Yes / Cancel pair: True when Yes was pressed (the question is forgotten either way;
    Cancel closes the dialog)."""
    yes, no = st.columns(2)
    if no.button("Cancel", key=f"cancel_{name}"):
        forget(name)
        st.rerun()
    if yes.button(yes_label, type="primary", key=f"yes_{name}"):
        forget(name)
        return True
    return False
