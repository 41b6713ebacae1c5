"""File names of downloads: which business, which period, what scope and the day it was taken,
so two downloads never share a name by accident
(`ims_27AAACW1234K1ZD_Oct2025_filtered_2026-12-01.csv`)."""
from __future__ import annotations

import datetime as dt
import re

from core.export import to_csv_bytes, to_excel_bytes
from core.ims.view import ImsFilter, export_frame
from core.periods import period_words
from core.timefmt import business_today

UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _period_in_name(period: str) -> str:
    """'102025' -> 'Oct2025' (anything else is kept as it is)."""
    return period_words(period, space="")


def _period_key(period: str) -> str:
    return period[2:] + period[:2]


def periods_part(periods) -> str:
    """No periods -> 'allperiods'; one -> 'Oct2025'; several -> 'Sep2025-Nov2025'."""
    chosen = sorted({p for p in periods or () if p}, key=_period_key)
    if not chosen:
        return "allperiods"
    if len(chosen) == 1:
        return _period_in_name(chosen[0])
    return f"{_period_in_name(chosen[0])}-{_period_in_name(chosen[-1])}"


def business_part(gstins) -> str:
    """One GSTIN -> the GSTIN; several -> 'N-businesses'."""
    chosen = sorted(set(gstins or ()))
    return chosen[0] if len(chosen) == 1 else f"{len(chosen)}-businesses"


def download_name(kind: str, gstins, periods, scope: str, extension: str,
                  today: dt.date | None = None) -> str:
    """'<kind>_<business>_<periods>_<scope>_<YYYY-MM-DD>.<extension>', file-system safe."""
    day = (today or business_today()).isoformat()
    stem = "_".join([kind, business_part(gstins), periods_part(periods), scope, day])
    return f"{UNSAFE.sub('-', stem)}.{extension}"


def ims_file(gstins: list[str], f: ImsFilter, bucket: str | None, sort: tuple[str, bool],
             excel: bool) -> bytes:
    """The IMS records the filters `f` show in `bucket` (None: all), in the grid's order, as
    an Excel or CSV file's bytes."""
    frame = export_frame(gstins, f, bucket, sort)
    return to_excel_bytes(frame, "IMS") if excel else to_csv_bytes(frame)
