"""The ITC summary as people read it (docs/month-close.md, "The ITC summary"): its tables and
documents in words, and the Excel download (one sheet per table, one sheet of the documents
behind every figure, and a sheet saying which 2B and books they come from).

Amounts stay numbers in the workbook (rupees, two decimals) so that a reader can add the
documents up and find the figures of the tables.
"""
from __future__ import annotations

import io

import polars as pl
import xlsxwriter

from core.export import safe_cell
from core.figures import indian
from core.labels import date_words, doc_type_words, each, period_words, status_words
from core.month_close.itc_summary import HEAD_WORDS, HEADS, ROWS, TOTALS
from core.timefmt import shown_time

SECTION_WORDS = {"b2b": "B2B invoices", "b2ba": "B2B amendments",
                 "cdnr": "Credit and debit notes", "cdnra": "Credit and debit note amendments",
                 "ecom": "E-commerce (9(5))", "ecoma": "E-commerce amendments",
                 "isd": "Input service distributor", "isda": "Input service distributor "
                 "amendments", "impg": "Import of goods", "impga": "Import of goods amendments",
                 "impgsez": "Import of goods from SEZ",
                 "impgseza": "Import of goods from SEZ amendments"}
SECTION_WORDS.update({f"itcrev_{k}": f"ITC reversal (rule 37A): {SECTION_WORDS[k]}"
                      for k in ("b2b", "b2ba", "cdnr", "cdnra", "ecom", "ecoma")})
ISD_WORDS = {"ISD": "ISD invoice", "ISDC": "ISD credit note"}
ITC_WORDS = {"Y": "Yes", "N": "No", "T": "Temporarily"}
REASON_WORDS = {"P": "Place of supply is the supplier's own state",
                "C": "Filed after the time limit (section 16(4))"}
STATUS_EXTRA = {"rejected_in_ims": "Rejected in IMS"}
SOURCE_WORDS = {"2b": "GSTR-2B", "books": "Books"}
TABLE_COLUMNS = {"gstr2b": "GSTR-2B", "portal": "GSTR-2B's own summary", "books": "Books",
                 "difference": "Difference (2B - books)"}
NOT_STATED = "not stated"
DOCUMENT_COLUMNS = ("Table 4 row", "From", "Supplier", "Supplier GSTIN or port", "Document type",
                    "Document number", "Document date", "GSTR-2B section", "ITC available",
                    "Reason ITC is not available", "Reconciliation", "What to do",
                    "Matched document", "Why here", *[HEAD_WORDS[h] for h in HEADS])


def rupees(paise) -> float | None:
    return None if paise is None else round(paise / 100, 2)


def table_rows(figures: pl.DataFrame, head: str) -> list[dict]:
    """The Table 4 table of one tax head, amounts in Indian grouping."""
    chosen = figures.filter(pl.col("head") == head)
    return [{"Table 4 row": line["row_words"],
             **{words: NOT_STATED if line[col] is None else indian(rupees(line[col]))
                for col, words in TABLE_COLUMNS.items()}}
            for line in chosen.iter_rows(named=True)]


FIGURE_WORDS = {"2b": "GSTR-2B", "portal": "2B's own summary", "books": "Books",
                "difference": "2B - books"}


def table4_rows(figures: pl.DataFrame) -> list[dict]:
    """Table 4 with every tax head side by side: per row its GSTR-2B, Books and Difference
    lines (and the 2B's own summary where it states another figure), columns IGST, CGST, SGST
    and Cess in Indian grouping. `row` and `source` say which figure a line is (for a
    click to open its documents; not shown)."""
    by = {(line["row"], line["head"]): line for line in figures.iter_rows(named=True)}
    out = []
    for row, words in ROWS.items():
        if (row, HEADS[0]) not in by:
            continue
        lines = [("2b", "gstr2b"), ("books", "books"), ("difference", "difference")]
        if any(by[(row, h)]["portal"] is not None and by[(row, h)]["portal"]
               != by[(row, h)]["gstr2b"] for h in HEADS):
            lines.insert(1, ("portal", "portal"))
        for source, column in lines:
            amounts = {h: by[(row, h)][column] for h in HEADS}
            out.append({"row": row, "source": source, "Table 4 row": words,
                        "Figure": FIGURE_WORDS[source],
                        **{HEAD_WORDS[h]: NOT_STATED if a is None else indian(rupees(a))
                           for h, a in amounts.items()}})
    return out


def net_rows(figures: pl.DataFrame) -> list[dict]:
    """Net ITC (4(C)) per tax head: GSTR-2B, books and their difference."""
    net = {line["head"]: line for line in figures.filter(pl.col("row") == "4C")
           .iter_rows(named=True)}
    return [{"Net ITC": words, **{HEAD_WORDS[h]: indian(rupees(net[h][col])) for h in HEADS}}
            for col, words in (("gstr2b", "GSTR-2B"), ("books", "Books"),
                               ("difference", "Difference (2B - books)"))]


def shown_documents(found: pl.DataFrame) -> pl.DataFrame:
    """Entries (core.month_close.itc_summary) in words; amounts in rupees (numbers). Also the `amount`
    column of documents_behind, when present, as 'Counted'."""
    def words(column: str, mapping) -> pl.Series:
        return each(found[column], mapping).fill_null("")
    shown = found.select(
        words("row", ROWS.get).alias("Table 4 row"),
        words("source", SOURCE_WORDS.get).alias("From"),
        pl.col("supplier_name").fill_null("").alias("Supplier"),
        pl.col("stin").fill_null("").alias("Supplier GSTIN or port"),
        words("doc_type", lambda c: ISD_WORDS.get(c) or doc_type_words(c))
        .alias("Document type"),
        pl.col("doc_no").fill_null("").alias("Document number"),
        words("doc_date", date_words).alias("Document date"),
        words("section", lambda s: SECTION_WORDS.get(s, s)).alias("GSTR-2B section"),
        words("itcavl", lambda a: ITC_WORDS.get(a, a)).alias("ITC available"),
        words("rsn", lambda r: REASON_WORDS.get(r, r)).alias("Reason ITC is not available"),
        words("match_status", lambda s: STATUS_EXTRA.get(s) or status_words(s))
        .alias("Reconciliation"),
        words("itc_advice", lambda a: a[:1].upper() + a[1:]).alias("What to do"),
        pl.col("counterpart_doc_no").fill_null("").alias("Matched document"),
        pl.col("note").fill_null("").alias("Why here"),
        *[(pl.col(h) / 100).round(2).alias(HEAD_WORDS[h]) for h in HEADS],
        *([(pl.col("amount") / 100).round(2).alias("Counted")] if "amount" in found.columns
          else []))
    return shown


def file_facts(summary) -> list[tuple[str, str]]:
    """What the workbook is about (an ItcSummary): business, period, 2B, books, when."""
    return [("Business GSTIN", summary.gstin), ("Tax period", period_words(summary.period)),
            ("GSTR-2B version", summary.version or ""),
            ("GSTR-2B generated on", date_words(summary.generated_on)),
            ("GSTR-2B fetched at", shown_time(summary.fetched_at)),
            ("Books", (f"purchase-register documents dated {date_words(summary.first_day)} to "
                      f"{date_words(summary.last_day)}, and earlier ones the GSTR-2B vs "
                      "purchase register reconciliation pairs with this GSTR-2B")),
            ("How to read it", ("Every amount of the Table 4 sheet is the sum of the "
                               "Documents sheet's lines of that row, source and head; "
                               "4(A), 4(B) and 4(C) add their rows (4(C) = 4(A) - 4(B)); "
                               "credit notes are netted inside 4(A) (a row may be "
                               "negative); 4(D)(1) is part of 4(A)(5), shown again")),
            ("Sections not placed", unread_words(getattr(summary, "unread", []))),
            *[("Check before filing", said) for said in getattr(summary, "checks", [])]]


def unread_words(unread: list[str]) -> str:
    """The 2B's sections no rule places, in words ('' when every section is placed)."""
    if not unread:
        return "none: every section of the GSTR-2B is read and placed"
    return ("the GSTR-2B has sections this version does not place, left out of every figure: "
            + ", ".join(unread))


def itc_workbook(summary) -> bytes:
    """The .xlsx of an ItcSummary: sheets Table 4, Net ITC, Documents, About."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    money = book.add_format({"num_format": "#,##,##0.00"})
    bold = book.add_format({"bold": True})
    figures = summary.figures
    sheet = book.add_worksheet("Table 4")
    header = ["Table 4 row", *[f"{HEAD_WORDS[h]}: {w}" for h in HEADS
                               for w in TABLE_COLUMNS.values()]]
    _write_row(sheet, 0, header, bold)
    for r, row in enumerate(ROWS, start=1):
        values = [ROWS[row]]
        for h in HEADS:
            line = figures.filter((pl.col("row") == row) & (pl.col("head") == h)).row(
                0, named=True)
            values += [NOT_STATED if line[c] is None else rupees(line[c]) for c in TABLE_COLUMNS]
        _write_row(sheet, r, values, money, bold if row in TOTALS else None)
    sheet.set_column(0, 0, 52)
    sheet.set_column(1, len(header), 16)
    net = book.add_worksheet("Net ITC")
    _write_row(net, 0, ["Net ITC", *[HEAD_WORDS[h] for h in HEADS]], bold)
    four_c = {line["head"]: line for line in figures.filter(pl.col("row") == "4C")
              .iter_rows(named=True)}
    for r, (col, words) in enumerate((("gstr2b", "GSTR-2B"), ("books", "Books"),
                                      ("difference", "Difference (2B - books)")), start=1):
        _write_row(net, r, [words, *[rupees(four_c[h][col]) for h in HEADS]], money)
    net.set_column(0, 0, 28)
    net.set_column(1, 4, 16)
    docs = book.add_worksheet("Documents")
    _write_row(docs, 0, list(DOCUMENT_COLUMNS), bold)
    for r, values in enumerate(shown_documents(summary.entries).iter_rows(), start=1):
        _write_row(docs, r, list(values), money)
    docs.set_column(0, 0, 44)
    docs.set_column(1, len(DOCUMENT_COLUMNS), 18)
    about = book.add_worksheet("About")
    for r, (name, value) in enumerate(file_facts(summary)):
        _write_row(about, r, [name, value], None)
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 100)
    book.close()
    return buf.getvalue()


def _write_row(sheet, r: int, values: list, money, first=None) -> None:
    for c, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(r, c, float(value), money)
        else:
            sheet.write_string(r, c, str(safe_cell(value)), first if c == 0 else None)

