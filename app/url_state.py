"""A page's filters in its address (st.query_params), so a refresh or a shared link opens the
same page with the same filters.

`restore(spec)` puts the address's values into the widgets' session state before the widgets
are drawn (only values the widget can take); `keep(spec)` writes the widgets' values back into
the address after they are drawn. `spec` maps a widget key to (URL name, kind, allowed):
kind "list" (multiselect), "text" or "choice" (one of `allowed`); allowed None = any. An
optional fourth item {value: word} puts words in the address a user copies
(`status=missing-in-books`, not the store's `missing_in_pr`); the old values still open.
`open_page(page, params)` opens another page with just these filters (a chart's drill-down).
"""
from __future__ import annotations

import re

import streamlit as st

FRESH = "_url_fresh"


def url_word(text: str) -> str:
    """'Missing in books' -> 'missing-in-books'; 'Oct 2025' -> 'oct-2025'."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _words(item: tuple) -> dict:
    return item[3] if len(item) > 3 and item[3] else {}


def _value(text: str, words: dict) -> str:
    """An address value back to the widget's: a word, else the value itself (old links)."""
    back = {w: v for v, w in words.items()}
    return back.get(text, text)


def restore(spec: dict[str, tuple]) -> dict[str, list[str]]:
    """Seed each widget from the address the first time this session draws it -> the values
    the address asked for that the widget cannot take ({URL name: values}), for the page to
    say so (a link to a business not granted to this user)."""
    dropped: dict[str, list[str]] = {}
    seeded = st.session_state.setdefault("_url_seeded", set())
    fresh = st.session_state.pop(FRESH, False)
    for key, item in spec.items():
        name, kind, allowed, words = *item[:3], _words(item)
        if fresh and name not in st.query_params:
            st.session_state.pop(key, None)     # opened by a drill-down: no older filter
        if key in seeded or name not in st.query_params:
            continue
        seeded.add(key)
        if kind == "list":
            values = [_value(v, words) for part in st.query_params.get_all(name)
                      for v in part.split(",") if v]
            st.session_state[key] = [v for v in values if allowed is None or v in allowed]
            if left_out := [v for v in values if allowed is not None and v not in allowed]:
                dropped[name] = left_out
        else:
            value = _value(st.query_params.get(name, ""), words)
            if kind == "text" or allowed is None or value in allowed:
                st.session_state[key] = value
            elif value:
                dropped[name] = [value]
    return dropped


def asked(name: str, allowed: list, words: dict | None = None) -> list[str]:
    """The values the address gives for `name` (words or old values) that are in `allowed`."""
    values = [_value(v, words or {}) for part in st.query_params.get_all(name)
              for v in part.split(",") if v]
    return [v for v in values if v in allowed]


def not_granted(name: str, allowed: list) -> list[str]:
    """The values the address gives for `name` that this user cannot choose."""
    return [v for part in st.query_params.get_all(name) for v in part.split(",")
            if v and v not in allowed]


def keep(spec: dict[str, tuple]) -> None:
    """Write the widgets' current values into the address (empty ones left out), in words
    where the spec gives them."""
    seeded = st.session_state.setdefault("_url_seeded", set())
    wanted = {}
    for key, item in spec.items():
        name, kind, words = item[0], item[1], _words(item)
        seeded.add(key)   # from now on the widget, not the address, holds the value
        value = st.session_state.get(key)
        if kind == "list":
            value = ",".join(str(words.get(v, v)) for v in value or [])
        elif value not in (None, ""):
            value = words.get(value, value)
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
