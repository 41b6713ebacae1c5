"""The sandbox's GSTR-2B (docs/portal-api.md, "GSTR-2B"): built per business and period from
the IMS actions held when it is generated, regenerated on GEN2B.

- Period M's 2B is generated on the 14th of M+1: when `advance_day` passes that day the
  sandbox takes the actions held then; a period whose 14th was already past when the sandbox
  started is built at its first GET2B.
- Held: when the previous period's GSTR-3B is not filed by the 14th, the 2B waits and is
  generated when that return is filed (`/_control/file_gstr3b`); returns due before the
  sandbox's start day count as filed (monthly filers only: the sandbox has no quarterly ones).
- Records with action A or N go to `docdata`, R to `docRejdata`, P nowhere; records whose
  supplier has not filed are in no 2B. A share of documents (about one in fifteen, fixed by
  the record's hash) has `itcavl` = N with a reason `rsn`. Documents IMS never holds are in
  `docdata` too: the period's reverse-charge invoices (b2b with `rev` = Y, the ones GSTR-2A
  shows), a few input service distributor documents (`isd`, about one per 60 invoices; every
  fourth an ISD credit note, `doctyp` ISDC, every fifth with `itcelg` N), one ISD amendment
  (`isda`) and one rule 37A reversal (`docdata.itcrev.b2b`, amounts per item) per period.
- GEN2B rebuilds it from the actions held now: GENSTS2B answers IP on the first poll, then P
  with the new 2B in place (version + 1). Refused once the period's GSTR-3B is filed.
- A 2B of more than `per_file` documents answers GET2B with the file count `fc` (and the
  summary); its documents are read with `file_num` = 1..fc.
Errors: RET2B1023 not generated yet (or held), RET2B1016 no documents, RET2B1018 a period that is not
MMYYYY or in the future, RET2B1025 regeneration of a filed period, RET2B1026 unknown id.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
import zlib

from sandbox.fields import period_of, period_order, portal_date
from sandbox.state import Portal, PortalError

GSTR2B_PATH = "/taxpayerapi/v4.0/returns/gstr2b"
GEN_DAY = 14
HEADS = (("iamt", "igst"), ("camt", "cgst"), ("samt", "sgst"), ("cess", "cess"))
# IMS section key -> the 2B section it appears in
TWO_B_SECTION = {"b2b": "b2b", "b2ba": "b2ba", "b2bcn": "cdnr", "b2bdn": "cdnr",
                 "b2bcna": "cdnra", "b2bdna": "cdnra", "ecom": "ecom", "ecoma": "ecoma",
                 "impg": "impg", "impga": "impg", "impgsez": "impgsez", "impgseza": "impgsez"}
REASONS = ("P", "C")   # POS in the supplier's own state; filed after the time limit
NOTE_TYPE = {"b2bcn": "C", "b2bcna": "C", "b2bdn": "D", "b2bdna": "D"}


def generation_day(period: str) -> dt.date:
    """The 14th of the month after `period` (MMYYYY)."""
    year, month = period_order(period)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.date(year, month, GEN_DAY)


def supplier_filed_on(period: str) -> str:
    """The day the sandbox's suppliers file GSTR-1 of `period`: the 11th of the next month."""
    return portal_date(generation_day(period) - dt.timedelta(days=3))


def previous_period(period: str) -> str:
    year, month = period_order(period)
    return f"{12 if month == 1 else month - 1:02d}{year - 1 if month == 1 else year}"


def _reverse_charge(sup, entry: dict, period: str) -> tuple:
    """A reverse-charge invoice (sandbox.synth's, GSTR-2A only) as a 2B b2b entry."""
    doc = entry["doc"]
    body = {"inum": doc["inum"], "dt": doc["idt"], "pos": doc.get("pos"), "rev": "Y",
            "typ": doc.get("inv_typ", "R"), **_amounts(doc), "itcavl": "Y", "rsn": None,
            "diffprcnt": 1}
    body["val"] = round(sum(body[k] for k in ("txval", "igst", "cgst", "sgst", "cess")), 2)
    group = {"ctin": sup.gstin, "trdnm": sup.name, "supprd": period,
             "supfildt": supplier_filed_on(period)}
    return ("docdata", "b2b", sup.gstin, group, body)


def _isd_entries(biz, period: str, invoices: int) -> list[tuple]:
    """A few input service distributor documents of the period (deterministic): ISD
    invoices, ISD credit notes (ISDC), ineligible ones (itcelg N) and one amendment (isda)."""
    year, month = period_order(period)
    out = []
    count = max(4, invoices // 60)
    for i in range(count + 1):
        roll = zlib.crc32(f"{biz.gstin}|{period}|isd|{i}".encode())
        sup = biz.suppliers[roll % len(biz.suppliers)]
        tax = round(1000 + roll % 90000 + (roll % 100) / 100, 2)
        intra = sup.state == biz.state
        amended = i == count
        doc = {"doctyp": "ISDC" if i % 4 == 1 else "ISDI",
               "docnum": f"ISD/{period}/{i + 1:03d}",
               "docdt": portal_date(dt.date(year, month, 28)),
               "itcelg": "N" if i % 5 == 2 else "Y",
               "igst": 0 if intra else tax, "cgst": round(tax / 2, 2) if intra else 0,
               "sgst": round(tax / 2, 2) if intra else 0, "cess": 0}
        if amended:   # an ISD invoice of the period before, amended now
            before = previous_period(period)
            doc.update(docnum=f"ISD/{before}/900", odoctyp="ISDI",
                       odocnum=f"ISD/{before}/900",
                       odocdt=portal_date(dt.date(*period_order(before), 27)))
        group = {"ctin": sup.gstin, "trdnm": sup.name, "supprd": period,
                 "supfildt": supplier_filed_on(period)}
        out.append(("docdata", "isda" if amended else "isd", sup.gstin, group, doc))
    return out


def _reversal_entries(biz, period: str) -> list[tuple]:
    """One rule 37A reversal: an invoice of the period six months back whose supplier has not
    paid its tax (`docdata.itcrev.b2b`, amounts per item as the portal writes them)."""
    roll = zlib.crc32(f"{biz.gstin}|{period}|itcrev".encode())
    sup = biz.suppliers[roll % len(biz.suppliers)]
    year, month = period_order(period)
    back_year, back_month = (year, month - 6) if month > 6 else (year - 1, month + 6)
    tax = round(500 + roll % 5000, 2)
    intra = sup.state == biz.state
    item = {"num": 1, "rt": 18, "txval": round(tax / 0.18, 2),
            "igst": 0 if intra else tax, "cgst": round(tax / 2, 2) if intra else 0,
            "sgst": round(tax / 2, 2) if intra else 0, "cess": 0}
    doc = {"inum": f"R37A/{period}/1", "dt": portal_date(dt.date(back_year, back_month, 10)),
           "typ": "R", "rev": "N", "pos": biz.state, "items": [item]}
    back = f"{back_month:02d}{back_year}"
    group = {"ctin": sup.gstin, "trdnm": sup.name, "supprd": back,
             "supfildt": supplier_filed_on(back)}
    return [("docdata", "itcrev_b2b", sup.gstin, group, doc)]


def _itc(rec: dict) -> tuple[str, str | None]:
    roll = zlib.crc32(str(rec.get("hash")).encode()) % 15
    return ("N", REASONS[roll % 2]) if roll == 0 else ("Y", None)


def _amounts(rec: dict) -> dict:
    return {"txval": rec.get("txval", 0), **{out: rec.get(src, 0) for src, out in HEADS}}


def _document(key: str, rec: dict) -> dict:
    """One IMS record as a 2B document (without its supplier group)."""
    itcavl, rsn = _itc(rec)
    doc: dict
    if key.startswith("impg"):
        doc = {k: rec.get(k) for k in ("refdt", "portcode", "boenum", "boedt", "isamd")}
        doc.update(txval=rec.get("txval", 0), igst=rec.get("iamt", 0), cess=rec.get("cess", 0))
    elif key in NOTE_TYPE:
        doc = {"ntnum": rec["nt_num"], "typ": NOTE_TYPE[key], "suptyp": rec.get("inv_typ", "R"),
               "dt": rec["nt_dt"], "val": rec.get("val"), "pos": rec.get("pos"), "rev": "N",
               **_amounts(rec)}
        if rec.get("ont_num"):
            doc.update(ontnum=rec["ont_num"], ontdt=rec.get("ont_dt"), onttyp=NOTE_TYPE[key])
    else:
        doc = {"inum": rec["inum"], "dt": rec["idt"], "val": rec.get("val"),
               "pos": rec.get("pos"), "rev": "N", "typ": rec.get("inv_typ", "R"),
               **_amounts(rec)}
        if rec.get("oinum"):
            doc.update(oinum=rec["oinum"], oidt=rec.get("oidt"))
    doc.update(itcavl=itcavl, rsn=rsn, diffprcnt=1)
    return doc


class Gstr2bBook:
    """The 2Bs generated so far and the regenerations asked for, for one portal."""

    def __init__(self, portal: Portal, per_file: int = 50000):
        self.portal, self.per_file = portal, per_file
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.made: dict[tuple[str, str], dict] = {}     # (gstin, period) -> 2B (+ "entries")
        self.requests: dict[str, dict] = {}             # int_tran_id -> request

    # ------------------------------------------------------------ building

    def build(self, gstin: str, period: str) -> dict:
        """The 2B of `period` from the actions held now (the lock of the portal is taken)."""
        portal = self.portal
        with portal.lock:
            biz = portal.business(gstin)
            names = {s.gstin: s.name for s in biz.suppliers}
            entries = []   # (block, section, group key, group, document)
            for key, records in biz.records.items():
                for rec in records:
                    if rec.get("rtnprd") != period or rec.get("srcfilstatus") == "Not Filed":
                        continue
                    if rec["action"] == "P":
                        continue
                    block = "docRejdata" if rec["action"] == "R" else "docdata"
                    section = TWO_B_SECTION[key]
                    stin = rec.get("stin") or ""
                    group = ({} if section == "impg" else
                             {"ctin": stin, "trdnm": names.get(stin, "")})
                    if section not in ("impg", "impgsez"):
                        group.update(supprd=period, supfildt=supplier_filed_on(period))
                    entries.append((block, section, stin, group, _document(key, rec)))
            invoices = sum(1 for e in entries if e[1] == "b2b")
            entries.extend(_reverse_charge(sup, entry, period) for sup, entry in biz.rcm
                           if entry["period"] == period)
            entries.extend(_isd_entries(biz, period, invoices))
            entries.extend(_reversal_entries(biz, period))
        old = self.made.get((biz.gstin, period))
        # a first 2B whose day came before the sandbox's start was generated on that day
        made_on = generation_day(period) if old is None and \
            generation_day(period) < portal.start else portal.day
        return {"gstin": biz.gstin, "rtnprd": period,
                "version": (old["version"] + 1) if old else 1,
                "gendt": portal_date(made_on), "itcsumm": summary(entries),
                "entries": entries}

    def generate(self, gstin: str, period: str) -> dict:
        made = self.build(gstin, period)
        with self.lock:
            self.made[(made["gstin"], period)] = made
        return made

    def held(self, gstin: str, period: str) -> str | None:
        """The previous period whose GSTR-3B the 2B of `period` waits for (None: not held).
        A return due before the sandbox's start day counts as filed."""
        before = previous_period(period)
        due = generation_day(before).replace(day=20)
        if due < self.portal.start:
            return None
        filed = self.portal.filings.filed
        if any(g == gstin and t == "GSTR3B" and period_order(p) >= period_order(before)
               for g, t, p in filed):
            return None
        return before

    def on_day(self) -> list[tuple[str, str]]:
        """Generate every 2B whose day is today and is not held (called after each day the
        sandbox moves)."""
        day = self.portal.day
        if day.day != GEN_DAY:
            return []
        period = period_of(day.replace(day=1) - dt.timedelta(days=1))
        done = []
        for gstin in list(self.portal.data):
            if self.held(gstin, period) is None:
                self.generate(gstin, period)
                done.append((gstin, period))
        return done

    def on_filed(self, gstin: str, period: str) -> list[tuple[str, str]]:
        """A GSTR-3B filed: the next period's 2B, held for it past its 14th, is generated."""
        following = period_of(generation_day(period))
        if (gstin, following) in self.made or self.portal.day < generation_day(following) \
                or self.held(gstin, following) is not None:
            return []
        self.generate(gstin, following)
        return [(gstin, following)]

    def current(self, gstin: str, period: str) -> dict:
        """The 2B of `period` as generated (built now when its day passed before the start)."""
        if not (len(period or "") == 6 and period.isdigit() and 1 <= int(period[:2]) <= 12):
            raise PortalError("RET2B1018", f"rtnprd '{period}' is not a return period (MMYYYY)")
        biz = self.portal.business(gstin)
        made = self.made.get((biz.gstin, period))
        waits = self.held(biz.gstin, period)
        if made is None and self.portal.day >= generation_day(period) and waits is None:
            made = self.generate(biz.gstin, period)
        if made is None and waits is not None and self.portal.day >= generation_day(period):
            raise PortalError("RET2B1023", f"GSTR-2B for {period} is not generated yet: it "
                                           f"waits for the GSTR-3B of {waits} to be filed")
        if made is None:
            raise PortalError("RET2B1023", f"GSTR-2B for {period} is not generated yet; it is "
                                           f"generated on {portal_date(generation_day(period))}")
        return made

    # ------------------------------------------------------------ answers

    def answer(self, gstin: str, period: str, file_num: str | None) -> dict:
        made = self.current(gstin, period)
        entries = made["entries"]
        if not entries:
            raise PortalError("RET2B1016", f"No documents in GSTR-2B for {period}")
        head = {k: made[k] for k in ("gstin", "rtnprd", "version", "gendt")}
        files = -(-len(entries) // self.per_file)
        if files == 1 and not file_num:
            return {**head, "itcsumm": made["itcsumm"], **grouped(entries)}
        if not file_num:
            return {**head, "itcsumm": made["itcsumm"], "fc": files}
        number = int(file_num) if str(file_num).isdigit() else 0
        if not 1 <= number <= files:
            raise PortalError("RET2B1018", f"file_num '{file_num}' is not between 1 and {files}")
        part = entries[(number - 1) * self.per_file:number * self.per_file]
        return {**head, "fc": files, **grouped(part)}

    def answer_bytes(self, gstin: str, period: str, file_num: str | None) -> bytes:
        """`answer` encoded; a file of a large 2B encoded once per 2B version and file size
        (as the portal serves files prepared when the 2B is generated), so that a fetch costs
        the sandbox the sending, not the building, of its answer."""
        if not file_num:
            return encoded(self.answer(gstin, period, file_num))
        made = self.current(gstin, period)
        key = (self.per_file, str(file_num))
        found = made.setdefault("encoded", {}).get(key)
        if found is None:
            found = made["encoded"][key] = encoded(self.answer(gstin, period, file_num))
        return found

    def regenerate(self, gstin: str, body: dict) -> dict:
        biz = self.portal.business(gstin)
        period = str((body or {}).get("itcprd") or "")
        if (body or {}).get("rtin") and str(body["rtin"]).upper() != biz.gstin:
            raise PortalError("RET400", f"rtin {body['rtin']} differs from gstin {gstin}", 400)
        self.current(biz.gstin, period)
        if self.portal.filings.filed.get((biz.gstin, "GSTR3B", period)):
            raise PortalError("RET2B1025", f"GSTR-3B for {period} is filed: its GSTR-2B can no "
                                           "longer be regenerated")
        ref = f"2B{biz.gstin[:2]}{uuid.uuid4().hex[:12].upper()}"
        with self.lock:
            self.requests[ref] = {"gstin": biz.gstin, "period": period, "polls": 0, "done": False}
        return {"int_tran_id": ref}

    def status(self, gstin: str, ref: str) -> dict:
        biz = self.portal.business(gstin)
        with self.lock:
            req = self.requests.get(str(ref))
            if req is None or req["gstin"] != biz.gstin:
                raise PortalError("RET2B1026", f"No regeneration with id '{ref}' for {biz.gstin}")
            req["polls"] += 1
            first = req["polls"] == 1 and not req["done"]
        if first:
            return {"status_cd": "IP"}
        if not req["done"]:
            self.generate(biz.gstin, req["period"])
            req["done"] = True
        return {"status_cd": "P"}


def grouped(entries: list) -> dict:
    """Entries -> {"docdata": {section: [...]}, "docRejdata": {...}} in the 2B shapes."""
    out: dict = {"docdata": {}, "docRejdata": {}}
    groups: dict[tuple, dict] = {}
    for block, section, stin, group, doc in entries:
        place = out[block]
        if section.startswith("itcrev_"):      # docdata.itcrev: {section: groups}
            place = place.setdefault("itcrev", {})
        name = section.removeprefix("itcrev_")
        if section == "impg":
            place.setdefault(section, []).append(doc)
            continue
        holder = groups.get((block, section, stin))
        if holder is None:
            holder = groups[(block, section, stin)] = {**group, _items(name): []}
            place.setdefault(name, []).append(holder)
        holder[_items(name)].append(doc)
    return out


def _items(section: str) -> str:
    """The list key of a supplier group in a 2B section."""
    return ("boe" if section == "impgsez" else "nt" if section.startswith("cdnr")
            else "doclist" if section.startswith("isd") else "inv")


def summary(entries: list) -> dict:
    """`itcsumm` as GSTR-3B reads it: available / not available / reversed (rule 37A) /
    rejected, each with normal supplies, reverse charge, ISD (net of ISD credit notes),
    imports and credit notes (othersup), a total per block part and per section."""
    blocks: dict = {}
    for block, section, _, _, doc in entries:
        isd = section.startswith("isd")
        available = doc.get("itcelg" if isd else "itcavl") != "N"
        name = ("itcRejected" if block == "docRejdata" else "itcrev"
                if section.startswith("itcrev_") else "itcavl" if available else "itcunavl")
        part = ("imports" if section.startswith("impg") else "isdsup" if isd
                else "revsup" if doc.get("rev") == "Y"
                else "othersup" if doc.get("typ") == "C" else "nonrevsup")
        sign = -1 if doc.get("doctyp") == "ISDC" else 1
        amounts = _item_sums(doc)
        where = blocks.setdefault(name, {}).setdefault(part, {})
        for target in (where.setdefault(section.removeprefix("itcrev_"), {}),
                       where.setdefault("total", {})):
            for head in ("igst", "cgst", "sgst", "cess"):
                target[head] = round(target.get(head, 0) + sign * amounts.get(head, 0), 2)
    return blocks


def _item_sums(doc: dict) -> dict:
    if "items" not in doc:
        return doc
    return {h: round(sum(i.get(h, 0) for i in doc["items"]), 2)
            for h in ("txval", "igst", "cgst", "sgst", "cess")}


def advance_days(portal: Portal, book: Gstr2bBook, body: dict) -> dict:
    """`/_control/advance_day`, one day at a time so that each 14th generates its 2Bs."""
    total: dict = {}
    for _ in range(max(int(body.get("days", 1)), 0)):
        step = portal.advance_day(1, body.get("new_per_day"), body.get("edits_per_day"))
        for name in ("added", "edited"):
            for g, n in step[name].items():
                total.setdefault(name, {}).setdefault(g, 0)
                total[name][g] += n
        total["date"] = step["date"]
        for g, p in book.on_day():
            total.setdefault("gstr2b_generated", []).append({"gstin": g, "period": p})
    return total or {"date": portal_date(portal.day), "added": {}, "edited": {}}


def run_control(book: Gstr2bBook, body: dict) -> dict:
    """`/_control/gstr2b` {"per_file"?: n, "generate"?: {"gstin", "period"}}."""
    if "per_file" in body:
        book.per_file = max(int(body["per_file"]), 1)
    made = None
    if body.get("generate"):
        ask = body["generate"]
        made = book.generate(ask.get("gstin"), str(ask.get("period")))
    return {"per_file": book.per_file,
            "generated": None if made is None else {"version": made["version"],
                                                     "documents": len(made["entries"])}}


def encoded(data: dict) -> bytes:
    return json.dumps({"status_cd": "1", "data": data}, separators=(",", ":")).encode()
