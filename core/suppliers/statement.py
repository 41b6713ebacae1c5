"""A supplier's statement (docs/suppliers.md): exactly what to fix, as an Excel workbook and
as the HTML body of an e-mail; the rows of both are the supplier's worklist rows."""
from __future__ import annotations

import html

import polars as pl

from core.calendar import day_text
from core.export import to_excel_bytes
from core.figures import indian
from core.periods import period_words
from core.suppliers.worklist import KINDS

HEADERS = {"kind": "What", "ret_period": "Return period", "doc_type": "Document type",
           "doc_no": "Document number", "doc_date": "Document date", "itc": "ITC at stake",
           "to_fix": "What to fix", "deadline_words": "Deadline"}
MONTHS = {f"{m:02d}": period_words(f"{m:02d}2000")[:3] for m in range(1, 13)}
DOC_TYPES = {"INV": "Invoice", "CRN": "Credit note", "DBN": "Debit note"}


def statement_frame(items: pl.DataFrame) -> pl.DataFrame:
    """The statement's rows, in words (the Excel sheet and the mail's table)."""
    return items.sort(["itc", "doc_no", "kind"], descending=[True, False, False],
                      maintain_order=True).select(
        pl.col("kind").replace_strict(KINDS, default="").alias(HEADERS["kind"]),
        (pl.col("ret_period").str.slice(0, 2).replace_strict(MONTHS, default="") + " "
         + pl.col("ret_period").str.slice(2)).alias(HEADERS["ret_period"]),
        pl.col("doc_type").replace_strict(DOC_TYPES, default="Document")
        .alias(HEADERS["doc_type"]),
        pl.col("doc_no").alias(HEADERS["doc_no"]),
        pl.col("doc_date").alias(HEADERS["doc_date"]),
        pl.col("itc").alias(HEADERS["itc"]),
        pl.col("to_fix").alias(HEADERS["to_fix"]),
        pl.col("deadline_words").alias(HEADERS["deadline_words"]))


def statement_excel(items: pl.DataFrame) -> bytes:
    return to_excel_bytes(statement_frame(items), "To fix")


def statement_subject(business_name: str, supplier_name: str) -> str:
    return f"{business_name}: GST documents to fix ({supplier_name})"


def statement_html(items: pl.DataFrame, business_name: str, business_gstin: str,
                   supplier_label: str) -> str:
    """The mail's body: a short letter and a table of every row to fix."""
    esc = html.escape
    rows = statement_frame(items)
    total = float(items["itc"].sum() or 0) if items.height else 0.0
    head = "".join(f"<th style='text-align:left;border-bottom:1px solid #999;padding:4px'>"
                   f"{esc(h)}</th>" for h in rows.columns)
    body = []
    for r in rows.iter_rows():
        cells = []
        for value in r:
            if isinstance(value, float):
                text = indian(value)
            elif hasattr(value, "year"):
                text = day_text(value)
            else:
                text = "" if value is None else str(value)
            cells.append(f"<td style='padding:4px;vertical-align:top'>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<p>Dear {esc(supplier_label)},</p>"
            f"<p>Reconciling our purchase register with the GST portal, {esc(business_name)} "
            f"(GSTIN {esc(business_gstin)}) finds {len(body)} document(s) of yours that only "
            f"you can fix, with input tax credit of Rs. {indian(total)} at stake. Please fix "
            "each as the table says and reply to this mail when done.</p>"
            f"<table style='border-collapse:collapse'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
            "<p>The same list is attached as an Excel workbook.</p>")
