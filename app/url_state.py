"""A page's filters in its address (st.query_params), so a refresh or a shared link opens the
same page with the same filters.

`restore(spec)` puts the address's values into the widgets' session state before the widgets
are drawn (only values the widget can take); `keep(spec)` writes the widgets' values back into
the address after they are drawn. `spec` maps a widget key to (URL name, kind, allowed):
kind "list" (multiselect), "text" or "choice" (one of `allowed`); allowed None = any.
`open_page(page, params)` opens another page with just these filters (a chart's drill-down).
"""
from __future__ import annotations

import streamlit as st

FRESH = "_url_fresh"


def restore(spec: dict[str, tuple[str, str, list | None]]) -> None:
    """Seed each widget from the address the first time this session draws it."""
    seeded = st.session_state.setdefault("_url_seeded", set())
    fresh = st.session_state.pop(FRESH, False)
    for key, (name, kind, allowed) in spec.items():
        if fresh and name not in st.query_params:
            st.session_state.pop(key, None)     # opened by a drill-down: no older filter
        if key in seeded or name not in st.query_params:
            continue
        seeded.add(key)
        if kind == "list":
            values = [v for part in st.query_params.get_all(name) for v in part.split(",") if v]
            st.session_state[key] = [v for v in values if allowed is None or v in allowed]
        else:
            value = st.query_params.get(name, "")
            if kind == "text" or allowed is None or value in allowed:
                st.session_state[key] = value


def keep(spec: dict[str, tuple[str, str, list | None]]) -> None:
    """Write the widgets' current values into the address (empty ones left out)."""
    seeded = st.session_state.setdefault("_url_seeded", set())
    wanted = {}
    for key, (name, kind, _) in spec.items():
        seeded.add(key)   # from now on the widget, not the address, holds the value
        value = st.session_state.get(key)
        if kind == "list":
            value = ",".join(str(v) for v in value or [])
        if value not in (None, "", []):
            wanted[name] = str(value)
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def open_page(page: str, params: dict[str, str]) -> None:
    """Open `page` with exactly the filters `params` in its address (a chart's drill-down):
    its widgets take the address's values, every other filter its default."""
    st.session_state["_url_seeded"] = set()
    st.session_state[FRESH] = True
    st.switch_page(page, query_params=params)
