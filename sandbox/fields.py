"""The parts every synthetic IMS record is made of: section keys, dates, amounts (rate-wise
items in paise, document amounts in rupees), the record's identity and hash, and its status
fields. Used by sandbox.synth (invoices and notes), sandbox.imports (bills of entry),
sandbox.flags and the server's state.
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import random

OTHER_SECTIONS = ("b2b", "b2ba", "b2bcn", "b2bcna", "b2bdn", "b2bdna", "ecom", "ecoma")
IMPORT_SECTIONS = ("impg", "impga", "impgsez", "impgseza")
SEZ_SECTIONS = ("impgsez", "impgseza")
SECTIONS = OTHER_SECTIONS + IMPORT_SECTIONS
NOTE_SECTIONS = {"b2bcn": "CRN", "b2bcna": "CRN", "b2bdn": "DBN", "b2bdna": "DBN"}
AMENDED = {"b2ba", "b2bcna", "b2bdna", "ecoma", "impga", "impgseza"}
RATE_TABLE = (5,) * 20 + (12,) * 20 + (18,) * 50 + (28,) * 10  # weights 20/20/50/10
AMOUNT_FIELDS = ("txval", "iamt", "camt", "samt", "cess")


def rupees(paise: int) -> float:
    return paise / 100


def paise(value) -> int:
    """Rupees (number or numeric text) -> integer paise; ValueError when not a number."""
    return round(float(value) * 100)


def period_of(day: dt.date) -> str:
    return f"{day.month:02d}{day.year}"


def parse_day(portal_day: str) -> dt.date:
    """DD-MM-YYYY -> date."""
    return dt.date(int(portal_day[6:]), int(portal_day[3:5]), int(portal_day[:2]))


def period_order(rtnprd: str) -> tuple[int, int]:
    """MMYYYY -> (year, month), for comparing return periods."""
    text = str(rtnprd or "")
    return (int(text[2:]), int(text[:2])) if len(text) == 6 and text.isdigit() else (0, 0)


def portal_date(day: dt.date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def doc_no_field(key: str) -> str:
    return "boenum" if key in IMPORT_SECTIONS else "nt_num" if key in NOTE_SECTIONS else "inum"


def doc_date_field(key: str) -> str:
    return "boedt" if key in IMPORT_SECTIONS else "nt_dt" if key in NOTE_SECTIONS else "idt"


def identity_of(key: str, rec: dict) -> str:
    """Who a record is from: the supplier GSTIN (`stin`), or for a bill of entry from abroad
    (impg, impga) the port code (`portcode`; a record sent with the port code in `stin` is
    read the same way)."""
    if key in ("impg", "impga"):
        return str(rec.get("portcode") or rec.get("stin") or "").strip().upper()
    return str(rec.get("stin") or "").strip().upper()


def record_key(key: str, rec: dict) -> tuple:
    """How the sandbox identifies a record: (section key, stin or port code, doc number upper,
    rtnprd)."""
    return (key, identity_of(key, rec), str(rec.get(doc_no_field(key)) or "").strip().upper(),
            rec.get("rtnprd") or "")


def index_keys(key: str, rec: dict) -> list[tuple]:
    """The keys a record is found by: its record_key, and for a bill of entry from abroad
    also the key without the port code (bill-of-entry numbers are unique per business here)."""
    full = record_key(key, rec)
    return [full, (key, "", *full[2:])] if key in ("impg", "impga") else [full]


def record_hash(rec: dict, key: str, revision: int) -> str:
    g = rec.get
    text = (f"{g(doc_no_field(key))}|{g(doc_date_field(key))}|{g('stin')}|{g('txval')}|{g('iamt')}"
            f"|{g('camt')}|{g('samt')}|{g('cess')}|{g('rtnprd')}|{revision}")
    return hashlib.sha1(text.encode()).hexdigest()[:24]


# ---------------------------------------------------------------- amounts


def make_items(rng: random.Random, intra: bool, zero_tax: bool = False) -> list[list]:
    """1-3 rate-wise items [rt, txval, iamt, camt, samt, cess] in paise."""
    total = int(min(max(rng.lognormvariate(9.9, 1.1), 300), 4_000_000)) * 100
    if rng.random() < 0.3:
        total += 1 + int(rng.random() * 99)
    n = 1 if rng.random() < 0.78 else 2 if rng.random() < 0.8 else 3
    parts = [total] if n == 1 else _split(rng, total, n)
    r = rng.random
    return [tax_item(RATE_TABLE[int(r() * 100)], p, intra, zero_tax, r() < 0.3) for p in parts]


def _split(rng: random.Random, total: int, n: int) -> list[int]:
    cuts = sorted(rng.randrange(1, total) for _ in range(n - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


def tax_item(rt: int, txval: int, intra: bool, zero_tax: bool = False, cess: bool = False) -> list:
    if zero_tax:
        return [0, txval, 0, 0, 0, 0]
    cess_p = (txval * 12 + 50) // 100 if cess and rt == 28 else 0
    if intra:
        half = (txval * rt + 100) // 200
        return [rt, txval, 0, half, half, cess_p]
    return [rt, txval, (txval * rt + 50) // 100, 0, 0, cess_p]


def scaled_items(items: list[list], factor: float, intra: bool) -> list[list]:
    """The same items with the taxable value times `factor` (tax worked out again)."""
    return [tax_item(it[0], max(100, int(it[1] * factor)), intra, it[0] == 0, it[5] > 0)
            for it in items]


def amounts_of(items: list[list]) -> dict:
    """Document amounts (rupees) = the sums over its items: val, txval, iamt, camt, samt, cess."""
    if len(items) == 1:
        _, tx, i, c, s, ce = items[0]
    else:
        tx, i, c, s, ce = (sum(it[k] for it in items) for k in range(1, 6))
    return {"val": rupees(tx + i + c + s + ce), "txval": rupees(tx), "iamt": rupees(i),
            "camt": rupees(c), "samt": rupees(s), "cess": rupees(ce)}


def put_amounts(rec: dict, items: list[list]) -> None:
    rec.update(amounts_of(items))


# ---------------------------------------------------------------- days and status


def day_in(rng: random.Random, period: str, until: dt.date) -> dt.date:
    """A day of `period` before `until` (or the first of the month)."""
    month, year = int(period[:2]), int(period[2:])
    last = calendar.monthrange(year, month)[1]
    if (year, month) == (until.year, until.month):
        last = max(1, until.day - 1)
    return dt.date(year, month, 1 + int(rng.random() * last))


def earlier_day(rng: random.Random, day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return first - dt.timedelta(days=rng.randint(1, 50))


def status_fields(rng: random.Random, key: str, period: str, not_filed_rate: float | None,
                  current: str) -> dict:
    """srcform, rtnprd, srcfilstatus, action, ispendactblocked (`not_filed_rate` None: always
    filed, as bills of entry are)."""
    r = rng.random
    not_filed = not_filed_rate is not None and r() < (0.7 if period == current
                                                      else not_filed_rate)
    # credit notes could not be kept pending before the Oct-2025 period; a few others too
    imported = key in IMPORT_SECTIONS
    blocked = not imported and ((key in ("b2bcn", "b2bcna") and period in ("082025", "092025"))
                                or r() < 0.02)
    roll = r()
    action = "N" if roll < 0.85 else "A" if roll < 0.94 else "P" if roll < 0.97 else "R"
    if action == "P" and blocked:
        action = "A"
    if action == "R" and imported:
        action = "P"
    roll = r()
    form = "R1" if roll < 0.8 else "IFF" if roll < 0.9 else "R1A"
    return {"srcform": form, "rtnprd": period,
            "srcfilstatus": "Not Filed" if not_filed else "Filed",
            "action": action, "ispendactblocked": "Y" if blocked else "N"}
