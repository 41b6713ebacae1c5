"""Originals served beside their amendments (docs/reconciliation.md, "Amendments").

On the real portal an original stays in IMS (and in 2A/2B) until its period's GSTR-3B is
filed, so an amendment and its original are often listed together, as separate records,
very often under the same number. The sandbox serves the original of about half of its
amendments (b2ba, b2bcna, b2bdna, ecoma, impga, impgseza; picked by a hash of the seed,
business and position, so the same ones every time) in the original's own section (b2b,
b2bcn, b2bdn, ecom, impg, impgsez), with:
- the number and date the amendment names (`oinum`/`oidt`, `ont_num`/`ont_dt`,
  `oboenum`/`oboedt`), the same number as the amendment's or another one;
- the original's amounts (sandbox/flags.original_items: higher than the amendment's for a
  downward amendment, lower for an upward one, or the same), the amendment's supplier, place
  of supply and invoice type;
- the return period of its date (not before the first period the sandbox serves, never after
  the amendment's), filed, and the flags of its own section (sandbox/flags.py);
- no books line of its own: the books hold the document once, as amended (ground truth
  `amended_older`, with no line); a fifth of such amendments are booked at the original's
  values instead (ground truth `original_values`: the amendment, status `mismatch` with the
  reason ORIGINAL_VALUES).
"""
from __future__ import annotations

import random

from sandbox.fields import (
    IMPORT_SECTIONS,
    doc_date_field,
    doc_no_field,
    parse_day,
    period_of,
    period_order,
    put_amounts,
    record_hash,
)
from sandbox.flags import original_items, unit
from sandbox.imports import FIRST_PERIOD as FIRST_IMPORT_PERIOD

ORIGINAL_SECTION = {"b2ba": "b2b", "b2bcna": "b2bcn", "b2bdna": "b2bdn", "ecoma": "ecom",
                    "impga": "impg", "impgseza": "impgsez"}
SERVED_SHARE = 0.5
FIRST_PERIOD = "082025"


def chosen(seed: int, gstin: str, plan: list[str]) -> list[int]:
    """Positions in `plan` (section keys) of the amendments whose original is served."""
    return [i for i, key in enumerate(plan)
            if key in ORIGINAL_SECTION and unit(seed, gstin, "serve-original", i) < SERVED_SHARE]


def original_period(day, amendment_period: str, key: str) -> str:
    first = FIRST_IMPORT_PERIOD if key in IMPORT_SECTIONS else FIRST_PERIOD
    period = max(period_of(day), first, key=period_order)
    return min(period, amendment_period, key=period_order)


def original_record(biz, key: str, pos: int, rng: random.Random) -> tuple[str, dict, list]:
    """(section, record, items) of the original of amendment `key` at `pos`."""
    rec, items = biz.records[key][pos], biz.items[key][pos]
    base = ORIGINAL_SECTION[key]
    no_f, dt_f = doc_no_field(base), doc_date_field(base)
    ono_f = {"inum": "oinum", "nt_num": "ont_num", "boenum": "oboenum"}[no_f]
    odt_f = {"idt": "oidt", "nt_dt": "ont_dt", "boedt": "oboedt"}[dt_f]
    its = original_items(biz.seed, biz.gstin, key, rec, items)
    day = parse_day(rec[odt_f])
    orig = {k: rec[k] for k in ("stin", "portcode") if k in rec}
    orig.update({no_f: rec[ono_f], dt_f: rec[odt_f]})
    if key in IMPORT_SECTIONS:
        orig["refdt"] = rec[odt_f]
        orig["isamd"] = "N"
    if "inv_typ" in rec:
        orig["inv_typ"] = rec["inv_typ"]
    orig["pos"] = rec["pos"]
    put_amounts(orig, its)
    period = original_period(day, rec["rtnprd"], key)
    roll = rng.random()
    orig.update({"rtnprd": period, "srcfilstatus": "Filed",
                 "action": "N" if roll < 0.8 else "A" if roll < 0.95 else "P",
                 "ispendactblocked": "Y" if base == "b2bcn" and period in ("082025",
                                                                          "092025") else "N"})
    if orig["action"] == "P" and orig["ispendactblocked"] == "Y":
        orig["action"] = "A"
    if key not in IMPORT_SECTIONS:
        orig["srcform"] = "R1"
    orig["hash"] = record_hash(orig, base, 0)
    return base, orig, its


def serve_originals(biz, amendments: list[tuple[str, int]]) -> None:
    """Append the original of each (key, position) amendment to its own section, flagged;
    their (section, position) go to `biz.served_originals`."""
    rng = random.Random(f"{biz.seed}|{biz.gstin}|originals")
    for key, pos in amendments:
        base, rec, items = original_record(biz, key, pos, rng)
        biz.records[base].append(rec)
        biz.items[base].append(items)
        at = len(biz.records[base]) - 1
        biz.served_originals.add((base, at))
        biz.served_for[(key, pos)] = (base, at)
        biz.flag(base, at)
