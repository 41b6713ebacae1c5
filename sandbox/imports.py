"""Bills of entry (import of goods) as IMS serves them, from the Oct-2025 period on.

Sections (request name -> key): IMPG -> impg (imports from abroad: `portcode`, no `stin`),
IMPGA -> impga (their amendments), IMPGSEZ -> impgsez (goods from an SEZ unit: the unit's
GSTIN in `stin`, and the port code), IMPGSEZA -> impgseza. Every record: `portcode`,
`boenum`, `boedt`, `refdt`, `isamd` (Y on amendments, which also carry `oboenum`/`oboedt`),
`pos`, `val`, `txval`, `iamt` (imports carry IGST), `camt`/`samt` 0, `cess`, and the action
fields. Accept or Pending only (never Reject).
"""
from __future__ import annotations

import datetime as dt
import random

from sandbox.fields import (
    SEZ_SECTIONS,
    day_in,
    earlier_day,
    period_order,
    portal_date,
    put_amounts,
    record_hash,
    status_fields,
    tax_item,
)

PORTS = ("INNSA1", "INMAA1", "INBLR4", "INDEL4", "INMUN1")
PORT_NAMES = {"INNSA1": "Customs Nhava Sheva", "INMAA1": "Customs Chennai Sea",
              "INBLR4": "Customs Bengaluru Air", "INDEL4": "Customs Delhi Air",
              "INMUN1": "Customs Mundra"}
FIRST_PERIOD = "102025"     # import of goods joined IMS from the Oct-2025 period
IMPORT_RATES = (5, 12, 18, 18, 18, 28)


def make_boe(rng: random.Random, biz, key: str, period: str, until: dt.date,
             day: dt.date | None = None) -> tuple[dict, list[list]]:
    """One bill of entry of section `key` for business `biz` (its `boe_counter` advances;
    SEZ units are taken from its suppliers)."""
    if period_order(period) < period_order(FIRST_PERIOD):
        period, day = FIRST_PERIOD, None
    day = day or day_in(rng, period, until)
    biz.boe_counter += rng.randint(1, 40)
    value = int(min(max(rng.lognormvariate(11.5, 1.0), 5000), 9_000_000)) * 100
    items = [tax_item(rng.choice(IMPORT_RATES), value, False)]
    rec: dict = {}
    if key in SEZ_SECTIONS:
        rec["stin"] = rng.choice(biz.suppliers).gstin
    rec.update(portcode=rng.choice(PORTS), boenum=str(biz.boe_counter), boedt=portal_date(day),
               refdt=portal_date(day + dt.timedelta(days=rng.randint(1, 5))))
    if key.endswith("a"):  # an amendment of a bill of entry assessed earlier
        oday = earlier_day(rng, day)
        rec["isamd"] = "Y"
        rec["oboenum"] = rec["boenum"] if rng.random() < 0.7 else str(
            biz.boe_counter - rng.randint(100, 5000))
        rec["oboedt"] = portal_date(oday)
    else:
        rec["isamd"] = "N"
    rec["pos"] = biz.state
    put_amounts(rec, items)
    rec.update(status_fields(rng, key, period, None, f"{until.month:02d}{until.year}"))
    del rec["srcform"]
    rec["hash"] = record_hash(rec, key, 0)
    return rec, items
