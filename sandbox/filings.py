"""The sandbox's GSTR-3B filings (RETTRACK) and the business day it shares with the app.

A test files a period's GSTR-3B on a day it chooses (`/_control/file_gstr3b`); from then on
that period's accepted, rejected and no-action records (deemed accepted; and those of earlier
periods) have left IMS, pending ones stay:
GETINV and GETCNT no longer serve them and a SAVE of one answers `IMSSAV0013`. The records
stay in the sandbox's data (GSTR-2A still shows the documents). RETTRACK answers a period's
filing status.

The day: when a clock file is given (`--clock-file`, default the `IMS_CLOCK_FILE`
environment variable), the sandbox writes its current day there (YYYY-MM-DD) on start, on
reset and on every `advance_day`; the app and the worker read their business day from the
same file (core/clock.py), so one day-advance moves both.
"""
from __future__ import annotations

import datetime as dt
import os
import zlib
from pathlib import Path

from sandbox.fields import period_order, portal_date

RETURNS_PATH = "/taxpayerapi/v1.0/returns"
RETURN_TYPES = ("GSTR3B", "GSTR1")
LEAVING = ("A", "R", "N")   # at filing: accepted, rejected, no action (deemed accepted)


def leaves(rec: dict) -> bool:
    """Whether a record leaves IMS when its period's GSTR-3B is filed: accepted, rejected, or
    no action on a filed document (deemed accepted); pending ones stay."""
    if rec["action"] == "N":
        return rec.get("srcfilstatus") != "Not Filed"
    return rec["action"] in LEAVING


class FilingError(ValueError):
    """A bad period, date or return type; the server answers RET400 with this message."""


def checked_period(period) -> str:
    text = str(period or "").strip()
    if period_order(text) == (0, 0) or not 1 <= int(text[:2]) <= 12:
        raise FilingError(f"ret_period '{period}' is not MMYYYY")
    return text


def write_clock(path: str | None, day: dt.date) -> None:
    """The sandbox's day into the shared clock file (atomically); nothing without a path."""
    if not path:
        return
    target = Path(path)
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(f"{day.isoformat()}\n", encoding="utf-8")
    os.replace(temp, target)


class Filings:
    """Filed returns per business and the IMS records they took out of IMS."""

    def __init__(self):
        self.filed: dict[tuple[str, str, str], dict] = {}   # (gstin, rtntype, period) -> entry
        self.left: dict[str, set[tuple[str, int]]] = {}     # gstin -> {(section key, position)}

    def served(self, gstin: str, key: str, records: list[dict]) -> list[dict]:
        """The section's records still in IMS."""
        left = self.left.get(gstin)
        if not left:
            return records
        return [r for i, r in enumerate(records) if (key, i) not in left]

    def gone(self, gstin: str, key: str, pos: int) -> bool:
        return (key, pos) in self.left.get(gstin, ())

    def file(self, biz, period: str, day: dt.date, rtntype: str = "GSTR3B") -> dict:
        """File `rtntype` of `period` on `day`; a GSTR-3B takes the accepted, rejected and
        no-action (deemed accepted) records of that period and earlier ones out of IMS (pending
        ones stay) -> the RETTRACK entry + left."""
        period, rtntype = checked_period(period), str(rtntype or "GSTR3B").upper()
        if rtntype not in RETURN_TYPES:
            raise FilingError(f"rtntype '{rtntype}' is not one of {', '.join(RETURN_TYPES)}")
        arn = f"AA{biz.gstin[:2]}{period[:2]}{period[4:]}{zlib.crc32(biz.gstin.encode()):07d}"
        entry = {"rtntype": rtntype, "ret_prd": period, "dof": portal_date(day),
                 "arn": arn[:15], "mof": "ONLINE", "status": "Filed", "valid": "Y"}
        self.filed[(biz.gstin, rtntype, period)] = entry
        left = self.left.setdefault(biz.gstin, set())
        before = len(left)
        if rtntype == "GSTR3B":
            upto = period_order(period)
            left.update((key, i) for key, records in biz.records.items()
                        for i, rec in enumerate(records)
                        if leaves(rec) and period_order(rec["rtnprd"]) <= upto)
        return {**entry, "left_ims": len(left) - before}

    def track(self, gstin: str, period: str, rtntype: str | None) -> dict:
        """RETTRACK's answer for one period: Filed (with date and ARN) or Not Filed."""
        period, rtntype = checked_period(period), str(rtntype or "GSTR3B").upper()
        if rtntype not in RETURN_TYPES:
            raise FilingError(f"type '{rtntype}' is not one of {', '.join(RETURN_TYPES)}")
        entry = self.filed.get((gstin, rtntype, period)) or {
            "rtntype": rtntype, "ret_prd": period, "status": "Not Filed", "valid": "Y"}
        return {"EFiledlist": [entry]}


def file_return(portal, body: dict) -> dict:
    """`/_control/file_gstr3b` {"gstin", "ret_period", "date"? (YYYY-MM-DD, default the
    sandbox's day), "rtntype"? (GSTR3B)}: file it, drop the served answers of the business."""
    try:
        day = dt.date.fromisoformat(str(body["date"])) if body.get("date") else portal.day
    except ValueError:
        raise FilingError(f"date '{body.get('date')}' is not YYYY-MM-DD") from None
    with portal.lock:
        biz = portal.business(body.get("gstin"))
        entry = portal.filings.file(biz, body.get("ret_period"), day,
                                    body.get("rtntype") or "GSTR3B")
        portal._changed(biz.gstin)
    return entry
