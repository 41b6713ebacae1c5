"""The ITC Summary's Table 4 grid: every tax head side by side (core.month_close.table4_rows),
and a click on an amount choosing the figure whose documents the page lists below it."""
from __future__ import annotations

from functools import partial

import streamlit as st

from core.month_close import HEAD_WORDS, HEADS

CHOSEN_KEY = "itc_chosen_figure"     # (row, head, source) whose documents are listed
GRID_KEY = "itc_table4"
TABLE4_PX = (430, 120, 100)          # column widths: row words, figure, each amount (1440 px)
AMOUNTS = [HEAD_WORDS[h] for h in HEADS]


def chosen_figure() -> tuple[str, str, str]:
    """The figure clicked last (row, head, source); 4(A)(5) IGST of the 2B at first."""
    return st.session_state.get(CHOSEN_KEY, ("4A5", "igst", "2b"))


def choose_figure(table: list[dict]) -> None:
    """A click on an amount: list the documents behind that figure (a click on a row's words
    changes nothing)."""
    cells = st.session_state[GRID_KEY]["selection"]["cells"]
    if not cells:
        return
    at, column = cells[0][0], cells[0][1]
    heads = {HEAD_WORDS[h]: h for h in HEADS}
    if column in heads and 0 <= at < len(table):
        st.session_state[CHOSEN_KEY] = (table[at]["row"], heads[column], table[at]["source"])


def show_table4(table: list[dict]) -> None:
    st.subheader("Table 4, every tax head (₹)")
    words, figure, amount = TABLE4_PX
    st.dataframe(table, hide_index=True, width="stretch", key=GRID_KEY,
                 height=38 + 35 * len(table), on_select=partial(choose_figure, table),
                 selection_mode="single-cell",
                 column_order=["Table 4 row", "Figure", *AMOUNTS],
                 column_config={"Table 4 row": st.column_config.TextColumn(width=words),
                                "Figure": st.column_config.TextColumn(width=figure),
                                **{c: st.column_config.TextColumn(width=amount,
                                                                  alignment="right")
                                   for c in AMOUNTS}})
    st.caption("Click an amount to see the documents behind it, below.")
