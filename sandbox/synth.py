"""Deterministic synthetic IMS records and GSTR-2A documents for the demo businesses.

Records are kept in GETINV shape (dicts ready for json.dumps), one list per section key,
with the item split (rate-wise amounts in paise) alongside for GSTR-2A. Same seed and scale
-> the same records in the same order.
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from sandbox.demo import DEMO_BUSINESSES
from sandbox.suppliers import Supplier, make_suppliers, next_number

START_DATE = dt.date(2025, 11, 12)
SECTIONS = ("b2b", "b2ba", "b2bcn", "b2bcna", "b2bdn", "b2bdna", "ecom", "ecoma", "impg")
NOTE_SECTIONS = {"b2bcn": "CRN", "b2bcna": "CRN", "b2bdn": "DBN", "b2bdna": "DBN"}
AMENDED = {"b2ba", "b2bcna", "b2bdna", "ecoma"}
SECTION_SHARE = {"b2ba": .04, "b2bcn": .08, "b2bcna": .01, "b2bdn": .03, "b2bdna": .005,
                 "ecom": .04, "ecoma": .01, "impg": .03}
PERIODS = (("082025", .1), ("092025", .2), ("102025", .6), ("112025", .1))
RATES = (5, 12, 18, 28)
RATE_TABLE = (5,) * 20 + (12,) * 20 + (18,) * 50 + (28,) * 10  # weights 20/20/50/10
PORTS = ("INNSA1", "INMAA1", "INBLR4", "INDEL4", "INMUN1")


@dataclass
class BusinessData:
    """One recipient GSTIN's portal data: IMS records by section key, their items, and the
    reverse-charge documents only GSTR-2A shows."""
    gstin: str
    state: str
    suppliers: list[Supplier]
    records: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in SECTIONS})
    items: dict[str, list[list]] = field(default_factory=lambda: {k: [] for k in SECTIONS})
    rcm: list[tuple[dict, dict]] = field(default_factory=list)  # (supplier info, 2A doc)
    boe_counter: int = 4000000


def rupees(paise: int) -> float:
    return paise / 100


def period_of(day: dt.date) -> str:
    return f"{day.month:02d}{day.year}"


def portal_date(day: dt.date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def doc_no_field(key: str) -> str:
    return "boenum" if key == "impg" else "nt_num" if key in NOTE_SECTIONS else "inum"


def doc_date_field(key: str) -> str:
    return "boedt" if key == "impg" else "nt_dt" if key in NOTE_SECTIONS else "idt"


def record_key(key: str, rec: dict) -> tuple:
    """How the sandbox identifies a record: (section key, stin, doc number upper, rtnprd)."""
    return (key, rec.get("stin") or "", str(rec.get(doc_no_field(key)) or "").strip().upper(),
            rec.get("rtnprd") or "")


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


def put_amounts(rec: dict, items: list[list]) -> None:
    """Document amounts (rupees) = the sums over its items."""
    if len(items) == 1:
        _, tx, i, c, s, ce = items[0]
    else:
        tx, i, c, s, ce = (sum(it[k] for it in items) for k in range(1, 6))
    rec["val"] = rupees(tx + i + c + s + ce)
    rec["txval"], rec["iamt"], rec["camt"], rec["samt"], rec["cess"] = (
        rupees(tx), rupees(i), rupees(c), rupees(s), rupees(ce))


# ---------------------------------------------------------------- records


def _day_in(rng: random.Random, period: str, until: dt.date) -> dt.date:
    """A day of `period` before `until` (or the first of the month)."""
    month, year = int(period[:2]), int(period[2:])
    last = calendar.monthrange(year, month)[1]
    if (year, month) == (until.year, until.month):
        last = max(1, until.day - 1)
    return dt.date(year, month, 1 + int(rng.random() * last))


def _earlier_day(rng: random.Random, day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return first - dt.timedelta(days=rng.randint(1, 50))


def _status_fields(rng: random.Random, key: str, period: str, sup: Supplier | None,
                   current: str) -> dict:
    r = rng.random
    not_filed = sup is not None and r() < (0.7 if period == current else sup.not_filed_rate)
    # credit notes could not be kept pending before the Oct-2025 period; a few others too
    blocked = key != "impg" and ((key in ("b2bcn", "b2bcna") and period in ("082025", "092025"))
                                 or r() < 0.02)
    roll = r()
    action = "N" if roll < 0.85 else "A" if roll < 0.94 else "P" if roll < 0.97 else "R"
    if action == "P" and blocked:
        action = "A"
    if action == "R" and key == "impg":
        action = "P"
    roll = r()
    form = "R1" if roll < 0.8 else "IFF" if roll < 0.9 else "R1A"
    return {"srcform": form, "rtnprd": period,
            "srcfilstatus": "Not Filed" if not_filed else "Filed",
            "action": action, "ispendactblocked": "Y" if blocked else "N"}


def make_record(rng: random.Random, biz: BusinessData, key: str, sup: Supplier, period: str,
                until: dt.date, day: dt.date | None = None) -> tuple[dict, list[list]]:
    """One IMS record of section `key` from supplier `sup` reported in `period` (dated `day`,
    or a day of the period before `until`)."""
    if key == "impg":
        return _make_boe(rng, biz, period, until, day)
    day = day or _day_in(rng, period, until)
    roll = rng.random()
    inv_typ = "R" if roll < 0.93 else ("SEWP", "SEWOP", "DE", "DE",
                                       "CBW")[int((roll - 0.93) / 0.014)]
    sez = inv_typ in ("SEWP", "SEWOP")
    items = make_items(rng, intra=sup.state == biz.state and not sez, zero_tax=inv_typ == "SEWOP")
    doc_type = NOTE_SECTIONS.get(key, "INV")
    no_f, dt_f = doc_no_field(key), doc_date_field(key)
    rec = {"stin": sup.gstin, no_f: next_number(sup, doc_type), dt_f: portal_date(day)}
    if key in AMENDED:
        oday = _earlier_day(rng, day)
        ono = rec[no_f] if rng.random() < 0.6 else next_number(sup, doc_type)
        rec["ont_num" if no_f == "nt_num" else "oinum"] = ono
        rec["ont_dt" if no_f == "nt_num" else "oidt"] = portal_date(oday)
        rec[dt_f] = portal_date(oday) if rng.random() < 0.7 else rec[dt_f]
    if not key.startswith("ecom"):
        rec["inv_typ"] = inv_typ
    rec["pos"] = biz.state
    put_amounts(rec, items)
    rec.update(_status_fields(rng, key, period, sup, period_of(until)))
    rec["hash"] = record_hash(rec, key, 0)
    return rec, items


def _make_boe(rng: random.Random, biz: BusinessData, period: str, until: dt.date,
              day: dt.date | None = None):
    if period in ("082025", "092025"):
        period = "102025"  # import of goods joined IMS from the Oct-2025 period
        day = None
    day = day or _day_in(rng, period, until)
    biz.boe_counter += rng.randint(1, 40)
    items = [tax_item(18, int(min(max(rng.lognormvariate(11.5, 1.0), 5000), 9_000_000)) * 100,
                      False)]
    rec = {"portcd": rng.choice(PORTS), "boenum": str(biz.boe_counter), "boedt": portal_date(day),
           "refdt": portal_date(day + dt.timedelta(days=rng.randint(1, 5))), "pos": biz.state}
    put_amounts(rec, items)
    rec.update(_status_fields(rng, "impg", period, None, period_of(until)))
    del rec["srcform"]
    rec["hash"] = record_hash(rec, "impg", 0)
    return rec, items


def section_plan(rng: random.Random, count: int) -> list[str]:
    """Section of each of `count` records: shares of SECTION_SHARE, the rest b2b; every
    section at least twice when count allows (so small data sets still show all nine)."""
    plan = []
    for key, share in SECTION_SHARE.items():
        plan += [key] * max(2 if count >= 60 else 0, round(share * count))
    plan = plan[:count]
    plan += ["b2b"] * (count - len(plan))
    rng.shuffle(plan)
    return plan


def _weighted_suppliers(rng: random.Random, suppliers: list[Supplier]) -> list[Supplier]:
    """A few big suppliers and a long tail (weights ~ 1/rank)."""
    weights = [1 / (i + 1) ** 0.8 for i in range(len(suppliers))]
    return rng.choices(suppliers, weights, k=4096)


def add_records(biz: BusinessData, rng: random.Random, plan: list[str], periods: list[str],
                until: dt.date, day: dt.date | None = None) -> list[tuple[str, int]]:
    """Append records of `plan`'s sections; returns their (key, position)."""
    pool = _weighted_suppliers(rng, biz.suppliers)
    added = []
    r = rng.random
    for key, period in zip(plan, periods):
        rec, items = make_record(rng, biz, key, pool[int(r() * 4096)], period, until, day)
        biz.records[key].append(rec)
        biz.items[key].append(items)
        added.append((key, len(biz.records[key]) - 1))
    return added


def _portal_duplicates(biz: BusinessData, rng: random.Random, count: int) -> None:
    """A few invoices the supplier reported again in a later period (same number)."""
    b2b, items = biz.records["b2b"], biz.items["b2b"]
    early = [i for i, r in enumerate(b2b) if r["rtnprd"] in ("082025", "092025")]
    for i in rng.sample(early, min(count, len(early))):
        rec = dict(b2b[i], rtnprd="102025", action="N", srcform="R1", srcfilstatus="Filed")
        rec["hash"] = record_hash(rec, "b2b", 0)
        b2b.append(rec)
        items.append([list(it) for it in items[i]])


def _add_rcm(biz: BusinessData, rng: random.Random, count: int, until: dt.date) -> None:
    """Reverse-charge documents (GTA, legal services): GSTR-2A only, never IMS."""
    for _ in range(count):
        sup = rng.choice(biz.suppliers)
        period = rng.choices([p for p, _ in PERIODS[:3]], [w for _, w in PERIODS[:3]])[0]
        day = _day_in(rng, period, until)
        rt = rng.choice((5, 18))
        items = [tax_item(rt, rng.randint(2000, 150000) * 100, sup.state == biz.state)]
        doc = {"inum": f"RC-{next_number(sup, 'INV')}"[:16], "idt": portal_date(day),
               "pos": biz.state,
               "rchrg": "Y", "inv_typ": "R"}
        put_amounts(doc, items)
        biz.rcm.append((sup, {"period": period, "doc": doc, "items": items}))


def build_business(seed: int, gstin: str, state: str, scale: int,
                   until: dt.date = START_DATE) -> BusinessData:
    """`scale` IMS records for one recipient GSTIN, deterministic in (seed, gstin, scale)."""
    rng = random.Random(f"{seed}|{gstin}|{scale}")
    biz = BusinessData(gstin, state, make_suppliers(rng, state, min(400, max(25, scale // 10))))
    dups = max(1, scale // 400) if scale >= 60 else 0
    count = max(0, scale - dups)
    plan = section_plan(rng, count)
    periods = rng.choices([p for p, _ in PERIODS], [w for _, w in PERIODS], k=count)
    periods = [p if not (k in AMENDED and p == "082025") else "092025" for k,
               p in zip(plan, periods)]
    add_records(biz, rng, plan, periods, until)
    _portal_duplicates(biz, rng, dups)
    _add_rcm(biz, rng, max(2, scale // 50), until)
    return biz


def build_portal(seed: int, scale: int, until: dt.date = START_DATE,
                 gstins: list[str] | None = None) -> dict[str, BusinessData]:
    """The demo businesses' data (all, or those in `gstins`), by GSTIN: what the server starts
    from."""
    return {b["gstin"]: build_business(seed, b["gstin"], b["state_code"], scale, until)
            for b in DEMO_BUSINESSES if not gstins or b["gstin"] in gstins}


# ---------------------------------------------------------------- GSTR-2A


def _filing_date(period: str) -> str:
    month, year = int(period[:2]), int(period[2:])
    month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return f"11-{month:02d}-{year}"


def _flprd(period: str) -> str:
    return f"{calendar.month_abbr[int(period[:2])]}-{period[4:]}"


def _itms(items: list[list]) -> list[dict]:
    return [{"num": n, "itm_det": {"rt": it[0], "txval": rupees(it[1]), "iamt": rupees(it[2]),
                                   "camt": rupees(it[3]), "samt": rupees(it[4]),
                                   "csamt": rupees(it[5])}}
            for n, it in enumerate(items, start=1)]


GSTR2A_OF_SECTION = {"b2b": "b2b", "ecom": "b2b", "b2ba": "b2ba", "ecoma": "b2ba",
                     "b2bcn": "cdn", "b2bdn": "cdn", "b2bcna": "cdna", "b2bdna": "cdna"}


def gstr2a_doc(key: str, rec: dict, items: list[list]) -> dict:
    """An IMS record as GSTR-2A shows it (item-level, `csamt`)."""
    if key in NOTE_SECTIONS:
        doc = {"ntty": "C" if NOTE_SECTIONS[key] == "CRN" else "D", "nt_num": rec["nt_num"],
               "nt_dt": rec["nt_dt"]}
        if "ont_num" in rec:
            doc.update(ont_num=rec["ont_num"], ont_dt=rec["ont_dt"])
    else:
        doc = {"inum": rec["inum"], "idt": rec["idt"]}
        if "oinum" in rec:
            doc.update(oinum=rec["oinum"], oidt=rec["oidt"])
    doc.update(val=rec["val"], pos=rec["pos"], rchrg="N", inv_typ=rec.get("inv_typ", "R"),
               itms=_itms(items))
    return doc


def gstr2a_document(biz: BusinessData, period: str | None = None) -> dict:
    """GSTR-2A b2b/b2ba/cdn/cdna of one period (all periods when None): filed suppliers'
    documents plus reverse-charge ones, grouped by (supplier, period) in first-seen order."""
    groups: dict[str, dict] = {"b2b": {}, "b2ba": {}, "cdn": {}, "cdna": {}}

    def add(part: str, stin: str, prd: str, doc: dict) -> None:
        group = groups[part].get((stin, prd))
        if group is None:
            group = groups[part][(stin, prd)] = {"ctin": stin, "cfs": "Y",
                                                 "fldtr1": _filing_date(prd),
                                                 "flprdr1": _flprd(prd),
                                                 "inv" if part.startswith("b2b") else "nt": []}
        group["inv" if part.startswith("b2b") else "nt"].append(doc)

    for key, part in GSTR2A_OF_SECTION.items():
        for rec, items in zip(biz.records[key], biz.items[key]):
            if (period is None or rec["rtnprd"] == period) and rec["srcfilstatus"] == "Filed":
                add(part, rec["stin"], rec["rtnprd"], gstr2a_doc(key, rec, items))
    for sup, entry in biz.rcm:
        if period is None or entry["period"] == period:
            add("b2b", sup.gstin, entry["period"], dict(entry["doc"], itms=_itms(entry["items"])))
    return {part: list(g.values()) for part, g in groups.items()}
