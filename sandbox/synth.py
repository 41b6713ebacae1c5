"""Deterministic synthetic IMS records and GSTR-2A documents for the demo businesses.

Records are kept in GETINV shape (dicts ready for json.dumps), one list per section key,
with the item split (rate-wise amounts in paise) alongside for GSTR-2A. Same seed and scale
-> the same records in the same order.
"""
from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field

from sandbox.demo import DEMO_BUSINESSES
from sandbox.fields import (
    AMENDED,
    IMPORT_SECTIONS,
    NOTE_SECTIONS,
    SECTIONS,
    day_in,
    doc_date_field,
    doc_no_field,
    earlier_day,
    make_items,
    period_of,
    portal_date,
    put_amounts,
    record_hash,
    rupees,
    status_fields,
    tax_item,
)
from sandbox.flags import AMENDMENTS_WITH_ORIGINAL, make_original, put_flags
from sandbox.imports import make_boe
from sandbox.originals import chosen, serve_originals
from sandbox.suppliers import Supplier, make_suppliers, next_number

START_DATE = dt.date(2025, 11, 12)
SECTION_SHARE = {"b2ba": .04, "b2bcn": .08, "b2bcna": .01, "b2bdn": .03, "b2bdna": .005,
                 "ecom": .04, "ecoma": .01, "impg": .025, "impga": .004, "impgsez": .008,
                 "impgseza": .003}
PERIODS = (("082025", .1), ("092025", .2), ("102025", .6), ("112025", .1))


@dataclass
class BusinessData:
    """One recipient GSTIN's portal data: IMS records by section key, their items, the
    reverse-charge documents only GSTR-2A shows, the amounts of the originals amendments
    replaced (by (section key, position); sandbox.flags), and which records are originals
    served beside their amendments (sandbox.originals)."""
    gstin: str
    state: str
    suppliers: list[Supplier]
    seed: int = 0
    records: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in SECTIONS})
    items: dict[str, list[list]] = field(default_factory=lambda: {k: [] for k in SECTIONS})
    rcm: list[tuple[dict, dict]] = field(default_factory=list)  # (supplier info, 2A doc)
    originals: dict[tuple, dict] = field(default_factory=dict)
    served_originals: set[tuple[str, int]] = field(default_factory=set)  # sandbox/originals.py
    served_for: dict[tuple, tuple] = field(default_factory=dict)  # amendment -> its original
    boe_counter: int = 4000000

    def flag(self, key: str, pos: int) -> None:
        """(Re)set the record's flags; an amendment first gets its original's amounts."""
        rec = self.records[key][pos]
        if key in AMENDMENTS_WITH_ORIGINAL and (key, pos) not in self.originals:
            self.originals[(key, pos)] = make_original(self.seed, self.gstin, key, rec,
                                                       self.items[key][pos])
        put_flags(self.seed, self.gstin, key, rec, self.originals.get((key, pos)))


# ---------------------------------------------------------------- records


def make_record(rng: random.Random, biz: BusinessData, key: str, sup: Supplier, period: str,
                until: dt.date, day: dt.date | None = None) -> tuple[dict, list[list]]:
    """One IMS record of section `key` from supplier `sup` reported in `period` (dated `day`,
    or a day of the period before `until`)."""
    if key in IMPORT_SECTIONS:
        return make_boe(rng, biz, key, period, until, day)
    day = day or day_in(rng, period, until)
    roll = rng.random()
    inv_typ = "R" if roll < 0.93 else ("SEWP", "SEWOP", "DE", "DE",
                                       "CBW")[int((roll - 0.93) / 0.014)]
    if key.startswith("ecom"):
        inv_typ = "R"  # supplies through an e-commerce operator carry no invoice type
    sez = inv_typ in ("SEWP", "SEWOP")
    items = make_items(rng, intra=sup.state == biz.state and not sez, zero_tax=inv_typ == "SEWOP")
    doc_type = NOTE_SECTIONS.get(key, "INV")
    no_f, dt_f = doc_no_field(key), doc_date_field(key)
    rec = {"stin": sup.gstin, no_f: next_number(sup, doc_type), dt_f: portal_date(day)}
    if key in AMENDED:
        oday = earlier_day(rng, day)
        ono = rec[no_f] if rng.random() < 0.6 else next_number(sup, doc_type)
        rec["ont_num" if no_f == "nt_num" else "oinum"] = ono
        rec["ont_dt" if no_f == "nt_num" else "oidt"] = portal_date(oday)
        rec[dt_f] = portal_date(oday) if rng.random() < 0.7 else rec[dt_f]
    if not key.startswith("ecom"):
        rec["inv_typ"] = inv_typ
    rec["pos"] = biz.state
    put_amounts(rec, items)
    rec.update(status_fields(rng, key, period, sup.not_filed_rate, period_of(until)))
    rec["hash"] = record_hash(rec, key, 0)
    return rec, items


def section_plan(rng: random.Random, count: int) -> list[str]:
    """Section of each of `count` records: shares of SECTION_SHARE, the rest b2b; every
    section at least twice when count allows (so small data sets still show all twelve)."""
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
        biz.flag(key, len(biz.records[key]) - 1)
        added.append((key, len(biz.records[key]) - 1))
    return added


def _portal_duplicates(biz: BusinessData, rng: random.Random, count: int) -> None:
    """A few invoices the supplier reported again in a later period (same number)."""
    b2b, items = biz.records["b2b"], biz.items["b2b"]
    early = [i for i, r in enumerate(b2b) if r["rtnprd"] in ("082025", "092025")
             and ("b2b", i) not in biz.served_originals]
    for i in rng.sample(early, min(count, len(early))):
        rec = dict(b2b[i], rtnprd="102025", action="N", srcform="R1", srcfilstatus="Filed")
        rec["hash"] = record_hash(rec, "b2b", 0)
        b2b.append(rec)
        items.append([list(it) for it in items[i]])
        biz.flag("b2b", len(b2b) - 1)


def _add_rcm(biz: BusinessData, rng: random.Random, count: int, until: dt.date) -> None:
    """Reverse-charge documents (GTA, legal services): GSTR-2A only, never IMS."""
    for _ in range(count):
        sup = rng.choice(biz.suppliers)
        period = rng.choices([p for p, _ in PERIODS[:3]], [w for _, w in PERIODS[:3]])[0]
        day = day_in(rng, period, until)
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
    biz = BusinessData(gstin, state, make_suppliers(rng, state, min(400, max(25, scale // 10))),
                       seed)
    dups = max(1, scale // 400) if scale >= 60 else 0
    count = max(0, scale - dups)
    plan = section_plan(rng, count)
    periods = rng.choices([p for p, _ in PERIODS], [w for _, w in PERIODS], k=count)
    periods = [p if not (k in AMENDED and p == "082025") else "092025" for k,
               p in zip(plan, periods)]
    # originals served beside their amendments take the place of as many invoices
    b2b = [i for i, key in enumerate(plan) if key == "b2b"]
    serve = set(chosen(seed, gstin, plan)[:len(b2b)])
    dropped = set(b2b[len(b2b) - len(serve):])
    keep = [i for i in range(len(plan)) if i not in dropped]
    plan, periods = [plan[i] for i in keep], [periods[i] for i in keep]
    added = add_records(biz, rng, plan, periods, until)
    serve_originals(biz, [added[j] for j, i in enumerate(keep) if i in serve])
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


def gstr2a_document(biz: BusinessData, period: str | None = None, status=None) -> dict:
    """GSTR-2A b2b/b2ba/cdn/cdna of one period (all periods when None): filed suppliers'
    documents plus reverse-charge ones, grouped by (supplier, period) in first-seen order.
    `status(stin, period)` -> the group's own fields (cfs3b, dtcancel; sandbox/supplier_returns.py)."""
    groups: dict[str, dict] = {"b2b": {}, "b2ba": {}, "cdn": {}, "cdna": {}}

    def add(part: str, stin: str, prd: str, doc: dict) -> None:
        group = groups[part].get((stin, prd))
        if group is None:
            group = groups[part][(stin, prd)] = {"ctin": stin, "cfs": "Y",
                                                 "fldtr1": _filing_date(prd),
                                                 "flprdr1": _flprd(prd),
                                                 **(status(stin, prd) if status else {}),
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
