"""The ITC summary of one business and period: GSTR-3B Table 4 from the GSTR-2B and from the
books, side by side (docs/month-close.md, "The ITC summary").

Pure functions on Polars frames, amounts in integer paise. Everything rests on one frame of
*entries*: one line per document and Table 4 row it counts in, with the amount it adds to that
row per tax head (`igst` .. `cess`, signed), from source `2b` (the stored 2B's documents) or
`books` (purchase-register documents). Every figure is a sum of entries, so
`documents_behind(entries, row, head, source)` returns exactly the documents whose amounts add
up to the figure shown.

Table 4 as notified (notification 14/2022-CT, circular 170/02/2022), with GSTN's netting of
credit notes inside 4(A) since the January 2023 period. Where a 2B document counts:
- rejected in IMS (`docRejdata`)          -> "rejected" (outside Table 4);
- rule 37A reversals (`docdata.itcrev`)   -> 4(B)(2);
- ISD document with `itcelg` = N          -> "isd_ineligible" (not ITC; outside Table 4);
- ITC not available (`itcavl` = N)        -> 4(D)(2);
- import of goods (`impg*`)               -> 4(A)(1);
- from an ISD (`isd`, `isda`)             -> 4(A)(4);
- reverse charge (`rev` = Y)              -> 4(A)(3);
- everything else                         -> 4(A)(5).
A credit note (`CRN`, an ISD credit note `ISDC`) counts negative in its row: 4(A)(3), (4) and
(5) are net and may go negative. A document with `itcavl` = T also counts in the information
row "temporary". A 2B document of 4(A) (ISD distributions aside: the books do not hold them)
that the books do not claim counts in 4(B)(2) "not claimed in the books" (in full when the reconciliation found no books document for it, else
the part of each head above what the books claim); one the books mark ineligible
(`itc_ineligible_reason`: 17(5), rules 38, 42, 43) counts in 4(B)(1) by what the books claim.

The books: the documents the `2b_vs_pr` reconciliation paired with a document of this 2B, and
the documents dated in the period that it paired with none (to be deferred); each placed by
its own facts (bill of entry 4(A)(1), import of services 4(A)(2), reverse charge 4(A)(3), else
4(A)(5); credit notes negative) with the ITC the books claim (`itc_claimed`: N = nothing;
per-head amounts where given; else the tax), and again in 4(B)(1) when ineligible. Books
duplicates do not count. 4(D)(1) (ITC reclaimed) is information inside 4(A)(5): books documents
of this period that an earlier stored 2B already held (`reclaimed_entries`).
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.figures import rupees
from core.matched import PAIRED as MATCHED

HEADS = ("igst", "cgst", "sgst", "cess")
HEAD_WORDS = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
ROWS = {
    "4A1": "4(A)(1) Import of goods",
    "4A2": "4(A)(2) Import of services",
    "4A3": "4(A)(3) Inward supplies liable to reverse charge (other than 1 and 2)",
    "4A4": "4(A)(4) Inward supplies from ISD",
    "4A5": "4(A)(5) All other ITC",
    "4A": "4(A) ITC available (total)",
    "4B1": "4(B)(1) Reversed: rules 38, 42, 43 and section 17(5)",
    "4B2": "4(B)(2) Reversed: others",
    "4B": "4(B) ITC reversed (total)",
    "4C": "4(C) Net ITC available (A - B)",
    "4D1": "4(D)(1) ITC reclaimed, reversed in 4(B)(2) of an earlier period (within 4(A))",
    "4D2": "4(D)(2) Ineligible ITC: section 16(4) and place-of-supply rules",
    "temporary": "For information: ITC available temporarily in GSTR-2B (counted above)",
    "isd_ineligible": "Not ITC: ISD documents marked ineligible (outside Table 4)",
    "rejected": "Rejected in IMS (not in GSTR-3B)",
}
FILE_ROWS = ("4A1", "4A2", "4A3", "4A4", "4A5", "4B1", "4B2", "4C", "4D1", "4D2")
AVAILABLE = ("4A1", "4A2", "4A3", "4A4", "4A5")
REVERSED = ("4B1", "4B2")
# a total row -> its rows, each with the sign it is counted with
TOTALS = {"4A": [(r, 1) for r in AVAILABLE], "4B": [(r, 1) for r in REVERSED],
          "4C": [*[(r, 1) for r in AVAILABLE], *[(r, -1) for r in REVERSED]]}
SOURCES = {"2b": "GSTR-2B (its documents)", "portal": "GSTR-2B (its own summary)",
           "books": "Books", "difference": "Difference (2B - books)"}
CREDIT_TYPES = ("CRN", "ISDC")
REVERSAL_PREFIX = "itcrev_"
# the 2B's itcsumm: a row -> (block, part, sign) it sums; "*" = every part; credit notes
# (`othersup`) are subtracted where the row nets them
PORTAL_PLACES = {"4A1": [("itcavl", "imports", 1)], "4A3": [("itcavl", "revsup", 1)],
                 "4A4": [("itcavl", "isdsup", 1)],
                 "4A5": [("itcavl", "nonrevsup", 1), ("itcavl", "othersup", -1)],
                 "4D2": [("itcunavl", "*", 1), ("itcunavl", "othersup", -2),
                         ("itcunavl", "isdsup", -1)],
                 "isd_ineligible": [("itcunavl", "isdsup", 1)],
                 "rejected": [("itcRejected", "*", 1), ("itcRejected", "othersup", -2)]}
# why an entry is in its row, in words
NOTES = {"unclaimed": "in GSTR-2B, not claimed in the books",
         "rule 37A": "reversal of rule 37A: the supplier has not paid the tax",
         "temporary": "ITC available temporarily (T)",
         "reclaimed": "reversed earlier (in an earlier GSTR-2B, not then in the books); "
                      "claimed now"}
REASON_NOTES = {"17(5)": "blocked credit, section 17(5)", "rule 38": "rule 38 (banks)",
                "rule 42": "rule 42 (exempt or non-business use of inputs and services)",
                "rule 43": "rule 43 (exempt or non-business use of capital goods)"}
ENTRY_COLUMNS = ("source", "row", "supplier_name", "stin", "doc_type", "doc_no", "doc_date",
                 "section", "itcavl", "rsn", "rcm", "match_status", "itc_advice",
                 "counterpart_doc_no", "note", *HEADS)
ENTRY_SCHEMA = {**{c: pl.Utf8 for c in ENTRY_COLUMNS}, "doc_date": pl.Date,
                **{h: pl.Int64 for h in HEADS}}


# ---------------------------------------------------------------- where documents count


def is_credit() -> pl.Expr:
    return pl.col("doc_type").is_in(CREDIT_TYPES)


def place_2b() -> pl.Expr:
    """The Table 4 row of a 2B document (module docstring)."""
    section = pl.col("section")
    return (pl.when(pl.col("rejected_in_ims")).then(pl.lit("rejected"))
            .when(section.str.starts_with(REVERSAL_PREFIX)).then(pl.lit("4B2"))
            .when(section.str.starts_with("isd") & (pl.col("itcavl") == "N"))
            .then(pl.lit("isd_ineligible"))
            .when(pl.col("itcavl") == "N").then(pl.lit("4D2"))
            .when(section.str.starts_with("impg")).then(pl.lit("4A1"))
            .when(section.str.starts_with("isd")).then(pl.lit("4A4"))
            .when(pl.col("rcm") == "Y").then(pl.lit("4A3"))
            .otherwise(pl.lit("4A5")))


def is_import_of_services() -> pl.Expr:
    """A books document that is an import of services: an invoice under reverse charge from a
    supplier without a GSTIN (blank or URP)."""
    return (pl.col("stin").fill_null("").is_in(["", "URP"]) & (pl.col("doc_type") == "INV")
            & (pl.col("rcm") == "Y"))


def place_books() -> pl.Expr:
    """The Table 4 row of a books document, by its own facts."""
    return (pl.when(pl.col("doc_type") == "BOE").then(pl.lit("4A1"))
            .when(is_import_of_services()).then(pl.lit("4A2"))
            .when(pl.col("rcm") == "Y").then(pl.lit("4A3"))
            .otherwise(pl.lit("4A5")))


def books_claim(prefix: str = "") -> list[pl.Expr]:
    """The ITC the books claim per head (paise): the amount given, 0 on a document marked N,
    else its tax. `prefix` names joined columns (`pr_`)."""
    said = pl.col(f"{prefix}itc_claimed").fill_null("Y") == "N"
    return [pl.coalesce(pl.col(f"{prefix}itc_claimed_{h}").abs(),
                        pl.when(said).then(0).otherwise(pl.col(f"{prefix}{h}").abs()))
            .fill_null(0).cast(pl.Int64).alias(f"claim_{h}") for h in HEADS]


def _with_reason(frame: pl.DataFrame) -> pl.DataFrame:
    if "itc_ineligible_reason" in frame.columns:
        return frame
    return frame.with_columns(pl.lit(None, pl.Utf8).alias("itc_ineligible_reason"))


def reason_note() -> pl.Expr:
    reason = pl.col("itc_ineligible_reason")
    return reason.replace_strict(REASON_NOTES, default=reason, return_dtype=pl.Utf8)


def _empty_entries() -> pl.DataFrame:
    return pl.DataFrame(schema=ENTRY_SCHEMA)


def _reco_facts(reco: pl.DataFrame | None) -> pl.DataFrame:
    cols = {"portal_id": pl.Int64, "pr_id": pl.Int64, "match_status": pl.Utf8,
            "itc_advice": pl.Utf8, "pr_doc_no": pl.Utf8, "portal_doc_no": pl.Utf8}
    if reco is None:
        return pl.DataFrame(schema=cols)
    return reco.select([pl.col(c).cast(t) if c in reco.columns else pl.lit(None, t).alias(c)
                        for c, t in cols.items()])


def _signed(frame: pl.DataFrame) -> pl.DataFrame:
    """Amounts as counted: absolute, negative on a credit note."""
    sign = pl.when(is_credit()).then(-1).otherwise(1)
    return frame.with_columns([(pl.col(h).abs() * sign).alias(h) for h in HEADS])


def entries_2b(portal: pl.DataFrame, reco: pl.DataFrame | None = None,
               books: pl.DataFrame | None = None) -> pl.DataFrame:
    """The 2B's documents as entries. `portal` is core.reco.vs_2b.portal_frame_2b's frame
    (the documents with `portal_id`); `reco` reconcile_2b's rows and `books` the books frame
    they were matched against (None: no books, nothing reversed as not claimed)."""
    if portal.is_empty():
        return _empty_entries()
    facts = _reco_facts(reco).filter(pl.col("portal_id").is_not_null()).unique("portal_id")
    docs = portal.join(facts.select("portal_id", "pr_id", "match_status", "itc_advice",
                                    pl.col("pr_doc_no").alias("counterpart_doc_no")),
                       on="portal_id", how="left").with_columns(place_2b().alias("row"))
    placed = _signed(docs).with_columns(
        pl.when(pl.col("row") == "4B2").then(pl.lit(NOTES["rule 37A"]))
        .otherwise(pl.lit(None, pl.Utf8)).alias("note"))
    temporary = placed.filter((pl.col("itcavl") == "T") & pl.col("row").is_in(AVAILABLE)) \
        .with_columns(pl.lit("temporary").alias("row"), pl.lit(NOTES["temporary"]).alias("note"))
    frames = [_as_entries(placed, "2b"), _as_entries(temporary, "2b")]
    if reco is not None:
        frames += [_as_entries(f, "2b") for f in _reversed_2b(docs, books)]
    return pl.concat(frames).sort("row", "stin", "doc_no", maintain_order=True)


def _reversed_2b(docs: pl.DataFrame, books: pl.DataFrame | None) -> list[pl.DataFrame]:
    """4(A) documents of the 2B the books do not claim (4(B)(2), the part of each head
    unclaimed) and those the books mark ineligible (4(B)(1), what the books claim)."""
    avail = docs.filter(pl.col("row").is_in(AVAILABLE) & (pl.col("row") != "4A4") & ~is_credit())
    if books is not None and not books.is_empty():
        claims = _with_reason(books).select(pl.col("pr_id").cast(pl.Int64), *books_claim(),
                                            "itc_ineligible_reason")
        avail = avail.join(claims, on="pr_id", how="left")
    else:
        avail = avail.with_columns(*[pl.lit(None, pl.Int64).alias(f"claim_{h}") for h in HEADS],
                                   pl.lit(None, pl.Utf8).alias("itc_ineligible_reason"))
    matched = pl.col("match_status").is_in(MATCHED) & pl.col("pr_id").is_not_null()
    unclaimed = avail.with_columns([
        pl.when(matched).then((pl.col(h).abs() - pl.col(f"claim_{h}").fill_null(0)).clip(0))
        .otherwise(pl.col(h).abs()).alias(h) for h in HEADS])
    blocked = avail.filter(matched & pl.col("itc_ineligible_reason").is_not_null()).with_columns(
        [pl.min_horizontal(pl.col(h).abs(), pl.col(f"claim_{h}").fill_null(0)).alias(h)
         for h in HEADS])
    return [unclaimed.filter(pl.any_horizontal([pl.col(h) != 0 for h in HEADS])).with_columns(
                pl.lit("4B2").alias("row"), pl.lit(NOTES["unclaimed"]).alias("note")),
            blocked.filter(pl.any_horizontal([pl.col(h) != 0 for h in HEADS])).with_columns(
                pl.lit("4B1").alias("row"), reason_note().alias("note"))]


def entries_books(books: pl.DataFrame, reco: pl.DataFrame | None, first_day: dt.date,
                  last_day: dt.date, portal: pl.DataFrame | None = None) -> pl.DataFrame:
    """The books' side as entries: documents paired with a document of this 2B, and
    documents dated first_day..last_day paired with none (duplicates left out); an ineligible
    one again in 4(B)(1)."""
    if books.is_empty():
        return _empty_entries()
    books = _with_reason(books)
    # one pairing per books document; an older version of an amended document (`amended`)
    # shows its chain's books document for reference only, never as its pairing
    facts = (_reco_facts(reco).filter(pl.col("pr_id").is_not_null()
                                      & (pl.col("match_status") != "amended"))
             .unique("pr_id", keep="first", maintain_order=True))
    names = (portal.select("portal_id", pl.col("trdnm").alias("name_2b"))
             if portal is not None else pl.DataFrame(schema={"portal_id": pl.Int64,
                                                             "name_2b": pl.Utf8}))
    facts = facts.join(names, on="portal_id", how="left")
    docs = books.with_columns(pl.col("pr_id").cast(pl.Int64)).join(
        facts.select("pr_id", "portal_id", "match_status", "itc_advice", "name_2b",
                     pl.col("portal_doc_no").alias("counterpart_doc_no")),
        on="pr_id", how="left")
    paired = pl.col("match_status").is_in(MATCHED) & pl.col("portal_id").is_not_null()
    in_period = pl.col("doc_date").is_between(first_day, last_day) & \
        (pl.col("match_status").fill_null("") != "duplicate") & \
        (pl.col("portal_id").is_null() | ~pl.col("match_status").is_in(MATCHED))
    kept = docs.filter(paired | in_period).with_columns(*books_claim(), place_books()
                                                       .alias("row"))
    named = "supplier_name" in kept.columns
    by_stin = (portal.filter(pl.col("trdnm").is_not_null()).group_by("stin")
               .agg(pl.col("trdnm").first().alias("stin_name")) if portal is not None
               else pl.DataFrame(schema={"stin": pl.Utf8, "stin_name": pl.Utf8}))
    kept = kept.join(by_stin, on="stin", how="left").with_columns(
        *[pl.col(f"claim_{h}").alias(h) for h in HEADS],
        pl.coalesce(pl.col("name_2b"), pl.col("stin_name"), pl.col("supplier_name") if named
                    else pl.lit(None, pl.Utf8)).alias("trdnm"),
        pl.when(pl.col("row") == "4A2").then(pl.lit("import of services"))
        .otherwise(pl.lit(None, pl.Utf8)).alias("note"))
    kept = kept.filter(pl.any_horizontal([pl.col(h) != 0 for h in HEADS]))
    blocked = kept.filter(pl.col("itc_ineligible_reason").is_not_null()
                          & (pl.col("doc_type") != "CRN")).with_columns(
        pl.lit("4B1").alias("row"), reason_note().alias("note"))
    return pl.concat([_as_entries(_signed(kept), "books"), _as_entries(blocked, "books")])


def reclaimed_entries(books_entries: pl.DataFrame, earlier: pl.DataFrame) -> pl.DataFrame:
    """4(D)(1), from the kept history: books entries of 4(A) that no document of this 2B
    pairs (not matched) whose document an earlier stored 2B already held (`earlier`: stin,
    doc_type, doc_no of earlier periods' 2B documents). Back then the books did not have it,
    so that 2B's summary reversed it in 4(B)(2); the books claim it now: reclaimed."""
    if books_entries.is_empty() or earlier.is_empty():
        return _empty_entries()
    keys = earlier.select("stin", "doc_type",
                          pl.col("doc_no").str.strip_chars().str.to_uppercase().alias("k")) \
        .unique()
    lone = books_entries.filter(
        (pl.col("source") == "books") & pl.col("row").is_in(AVAILABLE)
        & ~pl.col("match_status").fill_null("").is_in(MATCHED) & ~is_credit())
    found = lone.with_columns(pl.col("doc_no").str.strip_chars().str.to_uppercase().alias("k")) \
        .join(keys, on=["stin", "doc_type", "k"], how="semi").drop("k")
    return found.with_columns(pl.lit("4D1").alias("row"), pl.lit(NOTES["reclaimed"])
                              .alias("note")).select(list(ENTRY_COLUMNS))


def _as_entries(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    def col(name: str, dtype=pl.Utf8) -> pl.Expr:
        found = pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype)
        return found.alias(name)
    return frame.select(
        pl.lit(source).alias("source"), pl.col("row"), col("trdnm").alias("supplier_name"),
        col("stin"), col("doc_type"), col("doc_no"), col("doc_date", pl.Date), col("section"),
        col("itcavl"), col("rsn"), col("rcm"), col("match_status"), col("itc_advice"),
        col("counterpart_doc_no"), col("note"),
        *[pl.col(h).fill_null(0).cast(pl.Int64) for h in HEADS])


# ---------------------------------------------------------------- the figures


def portal_figures(itcsumm: dict | None) -> dict[str, dict[str, int]]:
    """{row: {head: paise}} as the 2B's own summary states it: every row it places (a part
    it leaves out counts 0); nothing when the 2B has no summary. Credit notes listed apart
    (`othersup`) are subtracted; 4(B)(2) is the `itcrev` block (rule 37A)."""
    found: dict[str, dict[str, int]] = {}
    summ = itcsumm if isinstance(itcsumm, dict) else {}
    if not summ:
        return found
    places = {**PORTAL_PLACES, "4B2": [("itcrev", "*", 1)]}
    for row, parts_of in places.items():
        total = found[row] = dict.fromkeys(HEADS, 0)   # a part the summary leaves out: none
        for block, part, sign in parts_of:
            parts = summ.get(block) if isinstance(summ.get(block), dict) else {}
            for name, values in parts.items():
                if part not in ("*", name) or not isinstance(values, dict):
                    continue
                credit = name == "othersup"
                for head, paise in _part_total(values, credit).items():
                    total[head] += sign * paise
    return found


def _part_total(part: dict, absolute: bool = False) -> dict[str, int]:
    """A part's `total`, else the sum of its sections, per head in paise (signed as the 2B
    writes it: a net figure may be negative; `absolute` for credit notes listed apart)."""
    def paise(values) -> dict[str, int]:
        values = values if isinstance(values, dict) else {}
        found = {h: round(float(values.get(h) or 0) * 100) for h in HEADS}
        return {h: abs(v) for h, v in found.items()} if absolute else found
    if isinstance(part.get("total"), dict):
        return paise(part["total"])
    if any(h in part for h in HEADS):
        return paise(part)
    sums = dict.fromkeys(HEADS, 0)
    for values in part.values():
        for h, v in paise(values).items():
            sums[h] += v
    return sums


def summarise(entries: pl.DataFrame, portal: dict[str, dict[str, int]]) -> pl.DataFrame:
    """The Table 4 figures: one line per (row, head) in ROWS order, with `gstr2b`, `portal`
    (null where the 2B's summary does not state it), `books`, `difference` (paise)."""
    sums = {(s, r, h): 0 for s in ("2b", "books") for r in ROWS for h in HEADS}
    grouped = entries.group_by("source", "row").agg([pl.col(h).sum() for h in HEADS])
    for line in grouped.iter_rows(named=True):
        for h in HEADS:
            sums[(line["source"], line["row"], h)] = int(line[h])
    lines = []
    for row, words in ROWS.items():
        for h in HEADS:
            parts = TOTALS.get(row, [(row, 1)])
            twob = sum(sign * sums[("2b", r, h)] for r, sign in parts)
            books = sum(sign * sums[("books", r, h)] for r, sign in parts)
            stated = None if any(r not in portal for r, _ in parts) else \
                sum(sign * portal[r][h] for r, sign in parts)
            lines.append({"row": row, "row_words": words, "head": h, "gstr2b": twob,
                          "portal": stated, "books": books, "difference": twob - books})
    return pl.DataFrame(lines, schema={"row": pl.Utf8, "row_words": pl.Utf8, "head": pl.Utf8,
                                       "gstr2b": pl.Int64, "portal": pl.Int64,
                                       "books": pl.Int64, "difference": pl.Int64})


def figure(figures: pl.DataFrame, row: str, head: str, source: str) -> int | None:
    """One cell of the summary (`source` one of SOURCES; `2b` is column `gstr2b`)."""
    column = "gstr2b" if source == "2b" else source
    return figures.filter((pl.col("row") == row) & (pl.col("head") == head))[column].item()


def documents_behind(entries: pl.DataFrame, row: str, head: str, source: str) -> pl.DataFrame:
    """The entries whose `amount` (their signed part of `head`) adds up to the figure of
    (row, head, source): a total row gathers its rows (4(B) subtracted in 4(C)); the
    difference takes the 2B's documents and the books' negated; the 2B's own summary is
    traced to the 2B's documents (its stated figure may differ: `portal_differences`)."""
    if row not in ROWS or head not in HEADS or source not in SOURCES:
        raise ValueError(f"no figure for row {row!r}, head {head!r}, source {source!r}")
    parts = TOTALS.get(row, [(row, 1)])
    sides = {"2b": [("2b", 1)], "portal": [("2b", 1)], "books": [("books", 1)],
             "difference": [("2b", 1), ("books", -1)]}[source]
    frames = []
    for side, side_sign in sides:
        for part, part_sign in parts:
            frames.append(entries.filter((pl.col("source") == side) & (pl.col("row") == part))
                          .with_columns((pl.col(head) * side_sign * part_sign).alias("amount")))
    found = pl.concat(frames) if frames else entries.with_columns(pl.lit(0).alias("amount"))
    return found.filter(pl.col("amount") != 0)


def portal_differences(figures: pl.DataFrame) -> pl.DataFrame:
    """(row, head) lines where the 2B's documents do not add up to its own summary (4(B) rows
    left out: their documents add what the books do not claim, which the 2B cannot state)."""
    return figures.filter(pl.col("portal").is_not_null() & (pl.col("portal") != pl.col("gstr2b"))
                          & ~pl.col("row").is_in([*TOTALS, *REVERSED]))


def file_lines(figures: pl.DataFrame) -> list[dict]:
    """The file command's lines: per row of FILE_ROWS and source (`2b`, `books`) the amounts
    in paise per head."""
    cells = {(line["row"], line["head"]): line for line in figures.iter_rows(named=True)}
    return [{"row": row, "source": source,
             **{h: cells[(row, h)]["gstr2b" if source == "2b" else "books"] for h in HEADS}}
            for row in FILE_ROWS for source in ("2b", "books")]


def advisory_checks(figures: pl.DataFrame, reclaim_balance: dict[str, int] | None = None,
                    rcm_ledger: dict[str, int] | None = None,
                    books_known: bool = True) -> list[str]:
    """The two checks GSTN applies at filing since its advisory of 29 December 2025, where the
    figures are known, in words (empty: nothing to warn about):
    - 4(D)(1) may not exceed the reclaimed-ITC ledger's balance plus this period's 4(B)(2);
    - reverse-charge ITC (4(A)(2) + 4(A)(3)) may not exceed the reverse-charge tax paid in
      3.1(d) (here: the tax of the books' reverse-charge documents) plus the reverse-charge
      ledger. A ledger not given is not known: the check then says what it could not see.
    Without books (`books_known` False) neither figure is known: nothing is said."""
    if not books_known:
        return []
    def cell(row: str, head: str, source: str) -> int:
        return figure(figures, row, head, source) or 0
    said = []
    for h in HEADS:
        name = HEAD_WORDS[h]
        reclaimed, reversed_now = cell("4D1", h, "books"), cell("4B2", h, "books")
        if reclaimed:
            if reclaim_balance is None:
                said.append(f"{name}: 4(D)(1) claims {_rupees(reclaimed)} as reclaimed; the "
                            "portal allows at most the reclaimed-ITC ledger's balance plus this "
                            f"period's 4(B)(2) ({_rupees(reversed_now)}). The ledger's balance "
                            "is not known here: check it on the portal before filing.")
            elif reclaimed > reclaim_balance.get(h, 0) + reversed_now:
                said.append(f"{name}: 4(D)(1) {_rupees(reclaimed)} is more than the "
                            "reclaimed-ITC ledger's balance "
                            f"{_rupees(reclaim_balance.get(h, 0))} plus this period's 4(B)(2) "
                            f"{_rupees(reversed_now)}: the portal will not accept it.")
        claimed = cell("4A2", h, "books") + cell("4A3", h, "2b")
        paid = cell("4A2", h, "books") + cell("4A3", h, "books")
        room = paid + (rcm_ledger or {}).get(h, 0)
        if claimed > room:
            ledger = ("" if rcm_ledger is not None else
                      " (the reverse-charge ledger's balance is not known here; only it can "
                      "cover the rest)")
            said.append(f"{name}: reverse-charge ITC {_rupees(claimed)} (4(A)(2) and 4(A)(3) "
                        f"as the GSTR-2B gives them) is more than the reverse-charge tax the "
                        f"books show as paid in 3.1(d), {_rupees(paid)}{ledger}: the portal "
                        "does not allow more ITC than the tax paid.")
    return said


def _rupees(paise: int) -> str:
    return rupees(paise / 100)
