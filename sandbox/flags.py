"""The per-record flags of the Oct-2025 portal rules, as the sandbox generates them.

- `isItcRedReqBlocked` = "N" (the ITC-reduction question applies) for records of return
  periods from 102025 on that lower the supplier's tax: credit notes (b2bcn), credit-note
  amendments (b2bcna), and amendments of invoices and debit notes (b2ba, b2bdna, ecoma) whose
  tax is lower than the original's. Everything else, and every older period: "Y".
- `isRemarksBlocked` = "Y" on about 7 % of records (picked by a hash of the seed, business and
  record, so the same record always gets the same flag), else "N".

The sandbox keeps the amounts of an amendment's original (`BusinessData.originals`) to know
whether the amendment went down or up; /_control/record shows them. About half of the
originals are also served beside their amendments (sandbox/originals.py), with these very
amounts; the rest left IMS with an earlier period.
"""
from __future__ import annotations

import hashlib

from sandbox.fields import AMOUNT_FIELDS, amounts_of, period_order, record_key, scaled_items

QUESTION_FROM = (2025, 10)          # the Oct-2025 return period
CREDIT_NOTES = ("b2bcn", "b2bcna")
DOWNWARD_MAY_APPLY = ("b2ba", "b2bdna", "ecoma")
AMENDMENTS_WITH_ORIGINAL = ("b2ba", "b2bcna", "b2bdna", "ecoma")
REMARKS_BLOCKED_SHARE = 0.07
SHARE_DOWNWARD, SHARE_UPWARD = 0.45, 0.45   # the rest: same amounts (a date or number fixed)


def unit(*parts) -> float:
    """A number in [0, 1) fixed by `parts` (stable across runs and record order)."""
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:6], "big") / 2 ** 48


def tax_of(amounts: dict) -> int:
    """Total tax in paise of a record or an original's amounts."""
    return sum(round(float(amounts.get(f) or 0) * 100) for f in AMOUNT_FIELDS[1:])


def original_items(seed: int, gstin: str, key: str, rec: dict, items: list[list]) -> list[list]:
    """The items of the document an amendment replaced: higher than the amendment's (a
    downward amendment), lower (upward) or the same, by a hash of the record."""
    u = unit(seed, gstin, "original", *record_key(key, rec))
    if u < SHARE_DOWNWARD:
        factor = 1.05 + u / SHARE_DOWNWARD * 0.35
    elif u < SHARE_DOWNWARD + SHARE_UPWARD:
        factor = 0.7 + (u - SHARE_DOWNWARD) / SHARE_UPWARD * 0.25
    else:
        return [list(it) for it in items]
    intra = bool(rec.get("camt")) or bool(rec.get("samt"))
    return scaled_items(items, factor, intra)


def make_original(seed: int, gstin: str, key: str, rec: dict, items: list[list]) -> dict:
    """The amounts of the document an amendment replaced (see `original_items`)."""
    return amounts_of(original_items(seed, gstin, key, rec, items))


def is_downward(rec: dict, original: dict | None) -> bool:
    """The amendment's tax is below its original's."""
    return original is not None and tax_of(rec) < tax_of(original)


def question_applies(key: str, rec: dict, original: dict | None) -> bool:
    """Whether accepting this record must answer "ITC to be reduced?" (module docstring)."""
    if period_order(rec.get("rtnprd")) < QUESTION_FROM:
        return False
    if key in CREDIT_NOTES:
        return True
    return key in DOWNWARD_MAY_APPLY and is_downward(rec, original)


def put_flags(seed: int, gstin: str, key: str, rec: dict, original: dict | None) -> None:
    """Set isItcRedReqBlocked and isRemarksBlocked on `rec` (GETINV shape)."""
    rec["isItcRedReqBlocked"] = "N" if question_applies(key, rec, original) else "Y"
    u = unit(seed, gstin, "remarks", *record_key(key, rec))
    rec["isRemarksBlocked"] = "Y" if u < REMARKS_BLOCKED_SHARE else "N"
