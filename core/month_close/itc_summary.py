"""The ITC summary of one business and period: GSTR-3B Table 4 from the GSTR-2B and from the
books, side by side (docs/month-close.md, "The ITC summary").

Pure functions on Polars frames, amounts in integer paise. Everything rests on one frame of
*entries*: one line per document and Table 4 row it counts in, with the amount it adds to that
row per tax head (`igst` .. `cess`, signed), from source `2b` (the stored 2B's documents) or
`books` (purchase-register documents). Every figure is a sum of entries, so
`documents_behind(entries, row, head, source)` returns exactly the documents whose amounts add
up to the figure shown.

Where a 2B document counts (the placement of the 2B's own `itcsumm`):
- rejected in IMS (`docRejdata`)      -> "rejected" (outside Table 4; the 2B's `itcRejected`);
- ITC not available (`itcavl` = N)    -> 4(D)(2) (the 2B's `itcunavl`);
- a credit note                       -> 4(B)(2) credit notes (`itcavl.othersup`, `itcrev`);
- import of goods (`impg`, `impgsez`) -> 4(A)(1) (`itcavl.imports`);
- from an ISD (`isd`)                 -> 4(A)(4) (`itcavl.isdsup`);
- reverse charge (`rev` = Y)          -> 4(A)(3) (`itcavl.revsup`);
- everything else                     -> 4(A)(5) (`itcavl.nonrevsup`).
A credit note counts negative in every row but 4(B)(2), where a reversal is a positive amount.
A 2B document of 4(A) that the books do not claim also counts in 4(B)(2) "not claimed in the
books": in full when the reconciliation found no books document for it, else the part of each
head above what the books claim.

The books: the documents the `2b_vs_pr` reconciliation paired with a document of this 2B, and
the documents dated in the period that it paired with none (to be deferred); each placed by
its own facts (bill of entry 4(A)(1), reverse charge 4(A)(3), credit note 4(B)(2), else
4(A)(5)) with the ITC the books claim (`itc_claimed`: N = nothing; per-head amounts where
given; else the tax). Books duplicates do not count.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

HEADS = ("igst", "cgst", "sgst", "cess")
HEAD_WORDS = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
ROWS = {
    "4A1": "4(A)(1) Import of goods",
    "4A3": "4(A)(3) Inward supplies liable to reverse charge",
    "4A4": "4(A)(4) Inward supplies from ISD",
    "4A5": "4(A)(5) All other ITC",
    "4A": "4(A) ITC available (total)",
    "4B_cn": "4(B)(2) Reversed: credit notes",
    "4B_unclaimed": "4(B)(2) Reversed: in GSTR-2B, not claimed in the books",
    "4B": "4(B) ITC reversed (total)",
    "4C": "4(C) Net ITC available (A - B)",
    "4D2": "4(D)(2) Ineligible: ITC not available in GSTR-2B",
    "rejected": "Rejected in IMS (not in GSTR-3B)",
}
AVAILABLE = ("4A1", "4A3", "4A4", "4A5")
REVERSED = ("4B_cn", "4B_unclaimed")
# a total row -> its rows, each with the sign it is counted with
TOTALS = {"4A": [(r, 1) for r in AVAILABLE], "4B": [(r, 1) for r in REVERSED],
          "4C": [*[(r, 1) for r in AVAILABLE], *[(r, -1) for r in REVERSED]]}
SOURCES = {"2b": "GSTR-2B (its documents)", "portal": "GSTR-2B (its own summary)",
           "books": "Books", "difference": "Difference (2B - books)"}
MATCHED = ("exact", "partial", "probable", "mismatch")
# the 2B's itcsumm: a row -> (block, part) pairs it sums; "*" = every part
PORTAL_PLACES = {"4A1": [("itcavl", "imports")], "4A3": [("itcavl", "revsup")],
                 "4A4": [("itcavl", "isdsup")], "4A5": [("itcavl", "nonrevsup")],
                 "4B_cn": [("itcavl", "othersup"), ("itcrev", "*")],
                 "4D2": [("itcunavl", "*")], "rejected": [("itcRejected", "*")]}
ENTRY_COLUMNS = ("source", "row", "supplier_name", "stin", "doc_type", "doc_no", "doc_date",
                 "section", "itcavl", "rsn", "rcm", "match_status", "itc_advice",
                 "counterpart_doc_no", *HEADS)
ENTRY_SCHEMA = {**{c: pl.Utf8 for c in ENTRY_COLUMNS}, "doc_date": pl.Date,
                **{h: pl.Int64 for h in HEADS}}


# ---------------------------------------------------------------- where documents count


def place_2b() -> pl.Expr:
    """The Table 4 row of a 2B document (module docstring)."""
    return (pl.when(pl.col("rejected_in_ims")).then(pl.lit("rejected"))
            .when(pl.col("itcavl") == "N").then(pl.lit("4D2"))
            .when(pl.col("doc_type") == "CRN").then(pl.lit("4B_cn"))
            .when(pl.col("section").str.starts_with("impg")).then(pl.lit("4A1"))
            .when(pl.col("section") == "isd").then(pl.lit("4A4"))
            .when(pl.col("rcm") == "Y").then(pl.lit("4A3"))
            .otherwise(pl.lit("4A5")))


def place_books() -> pl.Expr:
    """The Table 4 row of a books document, by its own facts."""
    return (pl.when(pl.col("doc_type") == "CRN").then(pl.lit("4B_cn"))
            .when(pl.col("doc_type") == "BOE").then(pl.lit("4A1"))
            .when(pl.col("rcm") == "Y").then(pl.lit("4A3"))
            .otherwise(pl.lit("4A5")))


def books_claim(prefix: str = "") -> list[pl.Expr]:
    """The ITC the books claim per head (paise): the amount given, 0 on a document marked N,
    else its tax. `prefix` names joined columns (`pr_`)."""
    said = pl.col(f"{prefix}itc_claimed").fill_null("Y") == "N"
    return [pl.coalesce(pl.col(f"{prefix}itc_claimed_{h}").abs(),
                        pl.when(said).then(0).otherwise(pl.col(f"{prefix}{h}").abs()))
            .fill_null(0).cast(pl.Int64).alias(f"claim_{h}") for h in HEADS]


def _empty_entries() -> pl.DataFrame:
    return pl.DataFrame(schema=ENTRY_SCHEMA)


def _reco_facts(reco: pl.DataFrame | None) -> pl.DataFrame:
    cols = {"portal_id": pl.Int64, "pr_id": pl.Int64, "match_status": pl.Utf8,
            "itc_advice": pl.Utf8, "pr_doc_no": pl.Utf8, "portal_doc_no": pl.Utf8}
    if reco is None:
        return pl.DataFrame(schema=cols)
    return reco.select([pl.col(c).cast(t) if c in reco.columns else pl.lit(None, t).alias(c)
                        for c, t in cols.items()])


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
    sign = pl.when((pl.col("doc_type") == "CRN") & (pl.col("row") != "4B_cn")).then(-1) \
        .otherwise(1)
    placed = docs.with_columns([(pl.col(h).abs() * sign).alias(h) for h in HEADS])
    frames = [_as_entries(placed, "2b")]
    if reco is not None:
        frames.append(_as_entries(_unclaimed(docs, books), "2b"))
    return pl.concat(frames).sort("row", "stin", "doc_no", maintain_order=True)


def _unclaimed(docs: pl.DataFrame, books: pl.DataFrame | None) -> pl.DataFrame:
    """4(A) documents of the 2B the books do not claim, with the part of each head unclaimed."""
    avail = docs.filter(pl.col("row").is_in(AVAILABLE) & (pl.col("doc_type") != "CRN"))
    if books is not None and not books.is_empty():
        claims = books.select(pl.col("pr_id").cast(pl.Int64), *books_claim())
        avail = avail.join(claims, on="pr_id", how="left")
    else:
        avail = avail.with_columns([pl.lit(None, pl.Int64).alias(f"claim_{h}") for h in HEADS])
    matched = pl.col("match_status").is_in(MATCHED) & pl.col("pr_id").is_not_null()
    out = avail.with_columns([
        pl.when(matched).then((pl.col(h).abs() - pl.col(f"claim_{h}").fill_null(0)).clip(0))
        .otherwise(pl.col(h).abs()).alias(h) for h in HEADS])
    return out.filter(pl.any_horizontal([pl.col(h) != 0 for h in HEADS])).with_columns(
        pl.lit("4B_unclaimed").alias("row"))


def entries_books(books: pl.DataFrame, reco: pl.DataFrame | None, first_day: dt.date,
                  last_day: dt.date, portal: pl.DataFrame | None = None) -> pl.DataFrame:
    """The books' side as entries: documents paired with a document of this 2B, and
    documents dated first_day..last_day paired with none (duplicates left out)."""
    if books.is_empty():
        return _empty_entries()
    facts = _reco_facts(reco).filter(pl.col("pr_id").is_not_null()).unique("pr_id")
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
                    else pl.lit(None, pl.Utf8)).alias("trdnm"))
    return _as_entries(kept.filter(pl.any_horizontal([pl.col(h) != 0 for h in HEADS])),
                       "books")


def _as_entries(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    def col(name: str, dtype=pl.Utf8) -> pl.Expr:
        found = pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype)
        return found.alias(name)
    return frame.select(
        pl.lit(source).alias("source"), pl.col("row"), col("trdnm").alias("supplier_name"),
        col("stin"), col("doc_type"), col("doc_no"), col("doc_date", pl.Date), col("section"),
        col("itcavl"), col("rsn"), col("rcm"), col("match_status"), col("itc_advice"),
        col("counterpart_doc_no"), *[pl.col(h).fill_null(0).cast(pl.Int64) for h in HEADS])


# ---------------------------------------------------------------- the figures


def portal_figures(itcsumm: dict | None) -> dict[str, dict[str, int]]:
    """{row: {head: paise}} as the 2B's own summary states it: every row it places (a part
    it leaves out counts 0); nothing when the 2B has no summary. Credit notes inside a block
    count negative, except in 4(B)(2)."""
    found: dict[str, dict[str, int]] = {}
    summ = itcsumm if isinstance(itcsumm, dict) else {}
    if not summ:
        return found
    for row, places in PORTAL_PLACES.items():
        total = found[row] = dict.fromkeys(HEADS, 0)   # a part the summary leaves out: none
        for block, part in places:
            parts = summ.get(block) if isinstance(summ.get(block), dict) else {}
            for name, values in parts.items():
                if part not in ("*", name) or not isinstance(values, dict):
                    continue
                sign = -1 if part == "*" and name == "othersup" and row != "4B_cn" else 1
                for head, paise in _part_total(values).items():
                    total[head] += sign * paise
    return found


def _part_total(part: dict) -> dict[str, int]:
    """A part's `total`, else the sum of its sections, per head in paise (absolute)."""
    def paise(values) -> dict[str, int]:
        values = values if isinstance(values, dict) else {}
        return {h: abs(round(float(values.get(h) or 0) * 100)) for h in HEADS}
    if isinstance(part.get("total"), dict):
        return paise(part["total"])
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
    """(row, head) lines where the 2B's documents do not add up to its own summary."""
    return figures.filter(pl.col("portal").is_not_null() & (pl.col("portal") != pl.col("gstr2b"))
                          & ~pl.col("row").is_in(list(TOTALS)))
