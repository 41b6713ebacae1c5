"""Amounts as Indian readers write them: digit grouping 12,34,567.00, and chart axes in lakh
or crore (never the M / k of a plotting library).
"""
from __future__ import annotations

import polars as pl

LAKH, CRORE = 100_000, 10_000_000


def indian(value, decimals: int = 2) -> str:
    """12,34,567.89 (no symbol); '' for None."""
    if value is None:
        return ""
    amount = float(value)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):.{decimals}f}"
    whole, _, frac = text.partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    grouped = ",".join(groups + [tail])
    return f"{sign}{grouped}" + (f".{frac}" if frac else "")


def rupees(value) -> str:
    """₹12,34,567.89 (a negative amount: -₹12,000.00, the sign before the symbol)."""
    text = indian(value or 0)
    return "-₹" + text[1:] if text.startswith("-") else "₹" + text


def count_words(value) -> str:
    """A count with Indian grouping: 1,23,456."""
    return indian(value or 0, 0)


def counted(value, noun: str) -> str:
    """A count and its noun, singular for one: "1 record", "1,23,456 records"."""
    return f"{count_words(value)} {noun if (value or 0) == 1 else noun + 's'}"


def axis_unit(values) -> tuple[float, str]:
    """(divisor, unit words) for a chart axis of rupee amounts: crore from 1 crore, lakh from
    1 lakh, else rupees."""
    top = max((abs(float(v)) for v in values if v is not None), default=0.0)
    if top >= CRORE:
        return CRORE, "₹ crore"
    if top >= LAKH:
        return LAKH, "₹ lakh"
    return 1, "₹"


def scaled(frame: pl.DataFrame, column: str) -> tuple[pl.DataFrame, str]:
    """`frame` with rupee `column` in the unit its largest value calls for, and that unit."""
    divisor, unit = axis_unit(frame[column].to_list() if column in frame.columns else [])
    if column not in frame.columns:
        return frame, unit
    return frame.with_columns((pl.col(column).cast(pl.Float64) / divisor).round(2)), unit


def amounts_as_text(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Rupee columns as Indian-grouped text for a table ('' where empty)."""
    present = [c for c in columns if c in frame.columns]   # formatted in Python, not in Polars
    return frame.with_columns(pl.Series(c, ["" if v is None else indian(v) for v in
                                            frame[c].cast(pl.Float64).to_list()], dtype=pl.Utf8)
                              for c in present)
