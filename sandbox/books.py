"""A noisy purchase register (template `standard`) built from the portal records, and the
ground truth saying which books line belongs to which portal record and what noise it got.

Noise kinds and whether the rules of docs/reconciliation.md can recover the pair are listed
in sandbox/README.md. Deterministic in the seed; about 1.1 books lines per IMS record.
"""
from __future__ import annotations

import bisect
import datetime as dt
import random
import re

from core.gstin import STATES
from sandbox import synth
from sandbox.fields import (
    IMPORT_SECTIONS,
    NOTE_SECTIONS,
    OTHER_SECTIONS,
    doc_date_field,
    doc_no_field,
    identity_of,
    make_items,
    tax_item,
)
from sandbox.imports import PORT_NAMES

HEADER = ("company_gstin,supplier_gstin,supplier_name,doc_type,doc_no,doc_date,place_of_supply,"
          "reverse_charge,taxable_value,igst,cgst,sgst,cess,doc_value,itc_claimed,"
          "itc_claimed_igst,itc_claimed_cgst,itc_claimed_sgst,itc_claimed_cess")
TRUTH_HEADER = ("pr_line,portal_section,portal_stin,portal_doc_no,portal_rtnprd,noise_kind,"
                "recoverable")
# (noise kind, cumulative probability) for a document that is in the books
NOISE = (("portal_only", .04), ("case", .08), ("format", .16), ("typo", .19), ("rounding", .24),
         ("date", .27), ("value", .31), ("typo+value", .32), ("branch_gstin", .335),
         ("duplicate", .345))
# bills of entry: (noise kind, cumulative probability); amendments may be booked under the
# original bill-of-entry number (amended_original)
BOE_NOISE = (("portal_only", .08), ("date", .12), ("rounding", .16))
# amendments whose original is served too, booked at the original's values
ORIGINAL_VALUES_SHARE = .2
# credit notes booked with ITC not claimed (N) or only partly claimed (optional columns)
CLAIM_NONE, CLAIM_PARTIAL = .12, .24
UNRECOVERABLE = {"typo+value", "portal_only", "books_only", "portal_duplicate", "duplicate",
                 "amended_older"}
FY_TOKENS = ("2025-2026", "2025-26", "2025/26", "25-26", "25/26", "2526")
_FY_RE = re.compile(r"(^|[^A-Z0-9])(?:" + "|".join(re.escape(t) for t in FY_TOKENS)
                    + r")(?=$|[^A-Z0-9])")
_DIGITS = re.compile(r"\d+")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def norm_no(doc_no: str) -> str:
    """docs/reconciliation.md norm_no for FY 2025-26 documents (to check the noise we make)."""
    s = _FY_RE.sub(r"\1", doc_no.strip().upper())
    s = _DIGITS.sub(lambda m: m.group().lstrip("0") or "0", s)
    return _NOT_ALNUM.sub("", s)


def money(paise: int) -> str:
    """Integer paise -> rupees with two decimals (exact for any amount below 10^13 paise)."""
    return "%.2f" % (paise / 100)


def iso(portal_day: str) -> str:
    return f"{portal_day[6:]}-{portal_day[3:5]}-{portal_day[:2]}"


def shift(iso_day: str, days: int) -> str:
    return (dt.date.fromisoformat(iso_day) + dt.timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- number noise


def format_variant(no: str, rng: random.Random) -> str | None:
    """Another spelling with the same norm_no (FY token dropped, zeros stripped, separators)."""
    candidates = []
    dropped = _FY_RE.sub(r"\1", no.upper()).strip("/-")
    dropped = re.sub(r"[/-]{2,}", "/", dropped)
    candidates.append(dropped)
    candidates.append(_DIGITS.sub(lambda m: m.group().lstrip("0") or "0",
                                  dropped).replace("/", "-"))
    candidates.append(no.replace("/", "-") if "/" in no else no.replace("-", "/"))
    candidates.append(_DIGITS.sub(lambda m: "0" + m.group(), no, count=1))
    rng.shuffle(candidates)
    want = norm_no(no)
    return next((c for c in candidates if c and c.upper() != no.upper() and norm_no(c) == want
                 and len(c) <= 16), None)


def typo_variant(no: str, rng: random.Random, taken: set) -> str | None:
    """One character changed (a letter swapped, or one appended) that names no other document."""
    letters = [i for i, ch in enumerate(no) if ch.isalpha()]
    for _ in range(6):
        if letters:
            i = rng.choice(letters)
            ch = rng.choice([c for c in "ABCDEFGHJKLMNPRSTUVWXY" if c != no[i].upper()])
            cand = no[:i] + ch + no[i + 1:]
        else:
            cand = no + rng.choice("ABCD")
        if len(cand) >= 4 and norm_no(cand) not in taken and len(cand) <= 16:
            return cand
    return None


# ---------------------------------------------------------------- amounts


def scale_items(items: list[list], factor: float, intra: bool) -> list[list]:
    return [tax_item(it[0], max(100, int(it[1] * factor)), intra, it[0] == 0, it[5] > 0)
            for it in items]


def rounding_items(items: list[list], rng: random.Random) -> list[list]:
    """Paise differences within Rs 1 on the taxable value and one tax head."""
    out = [list(it) for it in items]
    first = out[0]
    first[1] = max(1, first[1] + rng.choice((-1, 1)) * rng.randint(2, 90))
    head = next((h for h in (2, 3, 4) if first[h] > 0), None)
    if head:
        first[head] = max(0, first[head] + rng.choice((-1, 1)) * rng.randint(2, 49))
        if head == 3:
            first[4] = first[3]
    return out


def split_item(items: list[list], rng: random.Random, intra: bool) -> list[list]:
    """A one-item document booked as two lines (same rate), summing to the same amounts."""
    if len(items) > 1 or items[0][1] < 200:
        return items
    rt, tx, i, c, s, ce = items[0]
    part = rng.randint(1, tx - 1)
    a = tax_item(rt, part, intra, rt == 0, False)
    b = [rt, tx - part, i - a[2], c - a[3], s - a[4], ce]
    return [a, b]


# ---------------------------------------------------------------- documents -> lines


class Register:
    """Collects books documents (each: sort key, CSV lines, ground-truth rows)."""

    def __init__(self, biz: synth.BusinessData, rng: random.Random):
        self.biz, self.rng = biz, rng
        self.docs: list[tuple] = []
        self.portal_only: list[str] = []
        self.suppliers = {s.gstin: s for s in biz.suppliers}
        self.pos_long = f"{biz.state}-{STATES[biz.state]}"

    def add(self, stin: str, doc_type: str, no: str, day: str, items: list[list], truth: list[str],
            rcm: str = "N", negative: bool = False, name: str | None = None,
            claimed: float | None = None) -> None:
        """One books document; `claimed` None: ITC claimed in full (the optional columns
        blank), 0: not claimed (itc_claimed N), else the share claimed per head."""
        sup = self.suppliers.get(stin) or self.suppliers.get(self.biz.suppliers[0].gstin)
        pos = self.pos_long if self.rng.random() < 0.2 else self.biz.state
        sign = -1 if negative else 1
        head = (f"{self.biz.gstin},{stin},{name or sup.name},{doc_type},{no},{day},{pos},"
                f"{rcm},")
        lines = []
        for _, tx, i, c, s, ce in items:
            amounts = (tx, i, c, s, ce, tx + i + c + s + ce)
            lines.append(head + ",".join(f"{sign * a / 100:.2f}" for a in amounts)
                         + claimed_cells(claimed, (i, c, s, ce)))
        self.docs.append((day, len(self.docs), lines, truth))

    def write(self, pr_path, truth_path) -> int:
        self.docs.sort(key=lambda d: (d[0], d[1]))
        n = 0
        with open(pr_path, "w", encoding="utf-8", newline="\n") as pr, \
                open(truth_path, "w", encoding="utf-8", newline="\n") as gt:
            pr.write(HEADER + "\n")
            gt.write(TRUTH_HEADER + "\n")
            for _, _, lines, truth in self.docs:
                pr.write("\n".join(lines) + "\n")
                gt.write("".join(f"{n + k + 1},{t}\n" for k, t in enumerate(truth)))
                n += len(lines)
            gt.write("".join(f",{t}\n" for t in self.portal_only))
        return n


def claimed_cells(claimed: float | None, taxes: tuple) -> str:
    """The five optional ITC-claimed cells of a line (amounts positive, CGST = SGST)."""
    if claimed is None:
        return ",,,,,"
    if claimed == 0:
        return ",N,,,,"
    return ",Y," + ",".join(money(int(t * claimed)) for t in taxes)


def _claim(rng: random.Random, doc_type: str) -> float | None:
    """How much ITC the books claim on a credit note (see CLAIM_NONE, CLAIM_PARTIAL)."""
    if doc_type != "CRN":
        return None
    roll = rng.random()
    return 0 if roll < CLAIM_NONE else round(rng.uniform(0.3, 0.8), 2) if roll < CLAIM_PARTIAL \
        else None


def _truth(ref: tuple, kind: str) -> str:
    return f"{ref[0]},{ref[1]},{ref[2]},{ref[3]},{kind},{'N' if kind in UNRECOVERABLE else 'Y'}"


_NOISE_KINDS = [k for k, _ in NOISE] + ["clean"]
_NOISE_UPTO = [u for _, u in NOISE]


def _noise(rng: random.Random) -> str:
    return _NOISE_KINDS[bisect.bisect_right(_NOISE_UPTO, rng.random())]


def book_record(reg: Register, key: str, rec: dict, items: list[list], taken: Taken,
                pos: int | None = None) -> None:
    """One IMS record into the books, with noise (or left out: portal_only). An amendment
    whose original is served too (record `pos` of `key`) may be booked at the original's
    values (`original_values`)."""
    rng = reg.rng
    no_f, dt_f = doc_no_field(key), doc_date_field(key)
    ref = (key, rec["stin"], rec[no_f], rec["rtnprd"])
    kind = _noise(rng)
    if kind == "portal_only":
        reg.portal_only.append(_truth(ref, kind))
        return
    stin, no, day = rec["stin"], rec[no_f], iso(rec[dt_f])
    intra = rec["camt"] > 0 or rec["samt"] > 0
    orig_f = "ont_num" if no_f == "nt_num" else "oinum"
    if kind == "clean" and rec.get(orig_f, no) != no and rng.random() < 0.5:
        kind, no = "amended_original", rec[orig_f]
        day = iso(rec["ont_dt" if no_f == "nt_num" else "oidt"])
    served = reg.biz.served_for.get((key, pos))
    if kind == "clean" and served and rng.random() < ORIGINAL_VALUES_SHARE:
        kind, items = "original_values", reg.biz.items[served[0]][served[1]]
    if kind == "case":
        no, kind = (no.lower(), kind) if no.lower() != no else (no, "clean")
    if kind == "format":
        variant = format_variant(no, rng)
        no, kind = (variant, kind) if variant else (no, "clean")
    if kind in ("typo", "typo+value"):
        variant = typo_variant(no, rng, taken.norms(stin))
        no, kind = (variant, kind) if variant else (no, "clean")
    if kind in ("value", "typo+value"):
        items = scale_items(items, 1 + rng.choice((-1, 1)) * rng.uniform(0.05, 0.3), intra)
    elif kind == "rounding":
        items = rounding_items(items, rng)
    elif kind == "date":
        day = shift(day, rng.choice((-1, 1)) * rng.randint(1, 5))
    elif kind == "branch_gstin":
        stin = reg.suppliers[stin].branch_gstin if stin in reg.suppliers else stin
    truth = [_truth(ref, "clean" if kind == "duplicate" else kind)] * len(items)
    if kind == "clean" and (len(items) > 1 or rng.random() < 0.08):
        items = split_item(items, rng, intra)
        truth = [_truth(ref, "multi_line")] * len(items)
        if rng.random() < 0.3:
            items = items + [[0, rng.randint(5, 500) * 100, 0, 0, 0, 0]]
            truth.append(_truth(ref, "nil_line"))
    doc_type = NOTE_SECTIONS.get(key, "INV")
    negative = doc_type == "CRN" and rng.random() < 0.75
    claimed = _claim(rng, doc_type)
    reg.add(stin, doc_type, no, day, items, truth, negative=negative, claimed=claimed)
    if kind == "duplicate":
        reg.add(stin, doc_type, no, shift(day, rng.randint(2, 10)),
                [[0] + [sum(it[k] for it in items)
                for k in range(1, 6)]], [_truth(ref, "duplicate")], negative=negative,
                claimed=claimed)


def book_bill_of_entry(reg: Register, key: str, rec: dict, items: list[list]) -> None:
    """An import record into the books as doc type BOE, its supplier the port code (or the
    SEZ unit's GSTIN), with a little noise (BOE_NOISE), or left out (portal_only)."""
    rng = reg.rng
    ident = identity_of(key, rec)
    ref = (key, ident, rec["boenum"], rec["rtnprd"])
    roll = rng.random()
    kind = next((k for k, upto in BOE_NOISE if roll < upto), "clean")
    if kind == "portal_only":
        reg.portal_only.append(_truth(ref, kind))
        return
    no, day = rec["boenum"], iso(rec["boedt"])
    if kind == "clean" and rec.get("oboenum", no) != no and rng.random() < 0.5:
        kind, no, day = "amended_original", rec["oboenum"], iso(rec["oboedt"])
    if kind == "date":
        day = shift(day, rng.choice((-1, 1)) * rng.randint(1, 5))
    elif kind == "rounding":
        items = rounding_items(items, rng)
    name = PORT_NAMES[ident] if key in ("impg", "impga") else None
    reg.add(ident, "BOE", no, day, items, [_truth(ref, kind)] * len(items), name=name)


def book_extras(reg: Register, count: int) -> None:
    """Books-only documents (not on the portal); a fifth of them nil-rated (no tax at all)."""
    rng = reg.rng
    for _ in range(count):
        sup = rng.choice(reg.biz.suppliers)
        day = dt.date(2025, 8, 1) + dt.timedelta(days=rng.randint(0, 100))
        nil = rng.random() < 0.2
        items = make_items(rng, sup.state == reg.biz.state, zero_tax=nil)
        reg.add(sup.gstin, "INV", synth.next_number(sup, "INV"), day.isoformat(), items,
                [",,,,books_only,N"] * len(items))


class Taken:
    """norm_no of every portal document number per supplier, computed when first asked."""

    def __init__(self, biz: synth.BusinessData):
        self.numbers: dict[str, list[str]] = {}
        for key in OTHER_SECTIONS:
            field = doc_no_field(key)
            for rec in biz.records[key]:
                self.numbers.setdefault(rec["stin"], []).append(rec[field])
        self.cache: dict[str, set] = {}

    def norms(self, stin: str) -> set:
        if stin not in self.cache:
            self.cache[stin] = {norm_no(n) for n in self.numbers.get(stin, ())}
        return self.cache[stin]


def write_books(biz: synth.BusinessData, seed: int, pr_path, truth_path) -> dict:
    """Write the purchase register and its ground truth; returns counts."""
    reg = Register(biz, random.Random(f"{seed}|{biz.gstin}|books"))
    taken = Taken(biz)
    seen = set()
    for key in OTHER_SECTIONS:
        for pos, (rec, items) in enumerate(zip(biz.records[key], biz.items[key])):
            if (key, pos) in biz.served_originals:  # booked once, as amended
                reg.portal_only.append(_truth((key, rec["stin"], rec[doc_no_field(key)],
                                               rec["rtnprd"]), "amended_older"))
                continue
            ident = (NOTE_SECTIONS.get(key, "INV"), rec["stin"], rec[doc_no_field(key)].upper())
            if ident in seen:  # the supplier reported it again: a portal duplicate
                reg.portal_only.append(_truth((key, rec["stin"], ident[2], rec["rtnprd"]),
                                              "portal_duplicate"))
                continue
            seen.add(ident)
            book_record(reg, key, rec, items, taken, pos)
    for key in IMPORT_SECTIONS:
        for pos, (rec, items) in enumerate(zip(biz.records[key], biz.items[key])):
            if (key, pos) in biz.served_originals:
                reg.portal_only.append(_truth((key, identity_of(key, rec), rec["boenum"],
                                               rec["rtnprd"]), "amended_older"))
                continue
            book_bill_of_entry(reg, key, rec, items)
    for sup, entry in biz.rcm:
        doc = entry["doc"]
        reg.add(sup.gstin, "INV", doc["inum"], iso(doc["idt"]), entry["items"],
                [_truth(("2a_b2b", sup.gstin, doc["inum"], entry["period"]),
                        "rcm")] * len(entry["items"]),
                rcm="Y")
    book_extras(reg, max(1, sum(len(v) for v in biz.records.values()) * 3 // 100))
    lines = reg.write(pr_path, truth_path)
    return {"pr_lines": lines, "pr_documents": len(reg.docs), "portal_only": len(reg.portal_only)}
