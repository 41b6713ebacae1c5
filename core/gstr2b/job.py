"""Fetch a business's GSTR-2B of a period into the store, and regenerate it (docs/month-close.md).

`fetch_gstr2b(gstin, period)` reads the 2B (all its files) and replaces the stored one;
`regenerate_gstr2b(gstin, period)` refuses a period whose GSTR-3B the store knows as filed,
else calls GEN2B, polls GENSTS2B until processed and fetches the new 2B. Both answer a dict
of what happened; `python worker.py fetch-2b --gstin G --period MMYYYY [--regenerate]`.
"""
from __future__ import annotations

from core.calendar import business_calendar
from core.gstr2b.store import late_actions, store_2b
from core.portal import GstnClient, GstnError, fetch_2b_frame, regenerate_2b
from core.store import connect

FILED_ON_PORTAL = "RET2B1025"


class PeriodFiled(ValueError):
    """GSTR-3B of the period is filed: its GSTR-2B can no longer be regenerated."""


def fetch_gstr2b(gstin: str, period: str, client: GstnClient | None = None) -> dict:
    """{gstin, period, generated (bool), version, gendt, documents, late}."""
    client = client or GstnClient()
    found = fetch_2b_frame(client, gstin, period)
    if found is None:
        return {"gstin": gstin, "period": period, "generated": False, "documents": 0}
    head, frame = found
    stored = store_2b(gstin, period, head, frame)
    late = late_actions([gstin]).get((gstin, period), 0)
    return {"gstin": gstin, "period": period, "generated": True, "version": head["version"],
            "gendt": head["gendt"], "documents": stored, "late": late}


def regenerate_gstr2b(gstin: str, period: str, client: GstnClient | None = None,
                      poll: float = 0.2) -> dict:
    """GEN2B, GENSTS2B until processed, then the new 2B fetched -> fetch_gstr2b's answer."""
    with connect(read_only=True) as con:
        calendar = business_calendar(con, gstin)
    filed = calendar.filing(period)
    if filed is not None and filed.filed:
        on = f" on {filed.filed_on:%d %b %Y}" if filed.filed_on else ""
        raise PeriodFiled(f"The GSTR-3B of {calendar.label(period)} was filed{on} for {gstin}: "
                          "its GSTR-2B can no longer be regenerated.")
    client = client or GstnClient()
    try:
        regenerate_2b(client, gstin, period, poll=poll)
    except GstnError as exc:
        if exc.error_cd == FILED_ON_PORTAL:
            raise PeriodFiled(f"The portal says the GSTR-3B of {calendar.label(period)} is "
                              f"filed for {gstin}: its GSTR-2B can no longer be "
                              "regenerated.") from None
        raise
    return fetch_gstr2b(gstin, period, client)
