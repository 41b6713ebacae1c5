"""The suppliers' own returns as the sandbox serves them: GSTR-3B filed (`cfs3b`) and the
registration cancelled (`dtcancel`) on each GSTR-2A supplier group, the supplier filing-status
call (RETTRACK of a supplier's GSTIN), and the test controls that make a supplier file.

Deterministic per (seed, supplier GSTIN): about one supplier in eight has not filed its GSTR-3B
for the periods from `092025` on, and about one in five of those had its registration cancelled
on 15-10-2025. A test moves a supplier on with `/_control/supplier_files` (its GSTR-1: the
records it had uploaded but not filed become filed; its GSTR-3B: `cfs3b` turns Y), adds a
document with `/_control/add_record` and sets a record's amounts with `/_control/edit_record`
and `amounts`.
"""
from __future__ import annotations

import zlib

from sandbox.fields import period_order

SUPPLIER_RETURNS_PATH = "/commonapi/v1.0/returns"
NOT_FILED_FROM = "092025"
CANCELLED_ON = "15-10-2025"


def _roll(seed: int, stin: str) -> int:
    return zlib.crc32(f"{seed}|supplier|{stin}".encode()) % 40


def gstr3b_filed(seed: int, stin: str, period: str, filed: dict) -> bool:
    """Whether supplier `stin` has filed its GSTR-3B of `period` (`filed`: what tests set)."""
    if (stin, period) in filed:
        return filed[(stin, period)]
    late = _roll(seed, stin) < 5 and period_order(period) >= period_order(NOT_FILED_FROM)
    return not late


def cancelled_on(seed: int, stin: str) -> str | None:
    """DD-MM-YYYY when the supplier's registration was cancelled, else None."""
    return CANCELLED_ON if _roll(seed, stin) == 0 else None


def group_status(seed: int, stin: str, period: str, filed: dict) -> dict:
    """The fields of a GSTR-2A supplier group: cfs3b and (when cancelled) dtcancel."""
    out = {"cfs3b": "Y" if gstr3b_filed(seed, stin, period, filed) else "N"}
    if day := cancelled_on(seed, stin):
        out["dtcancel"] = day
    return out


def supplier_track(seed: int, stin: str, periods: list[str], gstr1_filed: set[str],
                   filed: dict) -> dict:
    """The filing-status answer for a supplier: its GSTR-1 and GSTR-3B of each period."""
    listed = []
    for period in periods:
        for rtntype, done in (("GSTR1", period in gstr1_filed),
                              ("GSTR3B", gstr3b_filed(seed, stin, period, filed))):
            listed.append({"rtntype": rtntype, "ret_prd": period,
                           "status": "Filed" if done else "Not Filed", "valid": "Y"})
    answer = {"ctin": stin, "EFiledlist": listed, "sts": "Active"}
    if day := cancelled_on(seed, stin):
        answer.update(sts="Cancelled", dtcancel=day)
    return answer
