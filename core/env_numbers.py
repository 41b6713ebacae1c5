"""Whole numbers read from the environment (settings of a process, not of the store), a bad
value named in words. Imports nothing but `os`: worker.py reads one before its heavy imports."""
from __future__ import annotations

import os


def whole_number(variable: str, default: int, lowest: int, highest: int | None,
                 what: str) -> int:
    """`variable`'s whole number from `lowest` to `highest` (None: no upper bound), `default`
    when unset or blank; else ValueError "<variable> must be a whole number <what> (it is ...)"."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < lowest or (highest is not None and int(text) > highest):
        raise ValueError(f"{variable} must be a whole number {what} (it is {text!r})")
    return int(text)
