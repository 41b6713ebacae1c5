"""A validation's problems as a person reads them, and what an import of the valid lines alone
would do (the Purchase Register page and the CLI's --valid-only share these words).

    problem_table(v)          -> Line, Kind, Field, Value, Document, Problem (errors first)
    rejected_lines(v)         -> the lines an import leaves out for errors, in the file's own
                                 columns plus Problem (rejected_csv_bytes: the same as CSV)
    valid_figures(v)          -> lines, documents and rupees a valid-lines-only import stores
    import_off_reason(v, ...) -> why Import is off, in words (None when it is on)

A document with a faulty line is left out whole (core/purchase/documents.py), so its other
lines are rejected too, each saying which line of its document has the error.
"""
from __future__ import annotations

import polars as pl
import polars.selectors as cs

from core.export import to_csv_bytes
from core.figures import count_words, rupees
from core.labels import SEVERITY, date_words, doc_type_words, field_words
from core.purchase.read import LINE
from core.timefmt import shown_time

TAX = ("igst", "cgst", "sgst", "cess")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count_words(count)} {one if count == 1 else many}"


def _doc_numbers(v) -> pl.DataFrame:
    """line -> the file's document number on that line ('' when the file has none)."""
    column = v.columns.get("doc_no")
    number = pl.col(column).fill_null("") if column else pl.lit("")
    return v.lines.select(pl.col(LINE).alias("line"), number.alias("Document"))


LINE_WORDS = "Line of the file"    # the file's own line number: the header is line 1


def problem_table(v, limit: int | None = None) -> pl.DataFrame:
    """The problems, errors before warnings, each with the value of the field it is about and
    the document number of its line in a column of its own."""
    probs = v.problems.sort(["severity", "line", "field"])   # 'error' < 'warning'
    if limit is not None:
        probs = probs.head(limit)
    words = [field_words(f, c) for f, c in zip(probs["field"], probs["column"])]
    shown = probs.with_columns(
        Kind=pl.col("severity").replace_strict(SEVERITY, default=pl.col("severity")),
        Field=pl.Series(words, dtype=pl.Utf8), Value=pl.col("value").fill_null(""))
    return shown.join(_doc_numbers(v), on="line", how="left", maintain_order="left").select(
        (pl.col("line") + v.header_row).alias(LINE_WORDS), "Kind", "Field", "Value",
        pl.col("Document").fill_null(""), pl.col("message").alias("Problem"))


def rejected_lines(v) -> pl.DataFrame:
    """The lines left out for errors, in the file's own columns and order, plus Problem: the
    line's errors, or which line of its document has one."""
    errors = v.problems.filter(pl.col("severity") == "error")
    words = [field_words(f, c) for f, c in zip(errors["field"], errors["column"])]
    own = errors.with_columns(Field=pl.Series(words, dtype=pl.Utf8)).group_by("line").agg(
        pl.concat_str("Field", pl.lit(": "), "message").str.join("; ").alias("Problem"))
    tied = v.tied.select("line", pl.concat_str(
        pl.lit("left out with line "), (pl.col("faulty_line") + v.header_row).cast(pl.Utf8),
        pl.lit(" of the file, of the same document, which has an error (a document is imported "
               "whole or not at all)")).alias("Problem"))
    why = pl.concat([own, tied.filter(~pl.col("line").is_in(own["line"].implode()))])
    columns = [c for c in v.lines.columns if not c.startswith("__")]
    return (v.lines.join(why.rename({"line": LINE}), on=LINE, how="inner").sort(LINE)
            .select(cs.by_name(*columns), "Problem"))   # names, never patterns


def rejected_csv_bytes(v) -> bytes:
    """The rejected lines as spreadsheet-safe CSV (formulas neutralised, numbers as numbers)."""
    return to_csv_bytes(rejected_lines(v))


def valid_figures(v) -> dict:
    """What importing the valid lines alone stores and leaves out: lines, documents, taxable,
    tax and document value (rupees), error lines, other lines of faulty documents, duplicates
    skipped."""
    docs = v.docs
    sign = pl.when(pl.col("doc_type") == "CRN").then(-1).otherwise(1)   # net: as the file adds up
    paise = {c: int(docs.select((sign * pl.col(c)).sum()).item() or 0) if docs.height else 0
             for c in ("txval", "doc_value", *TAX)}
    return {"lines": v.valid_lines, "documents": docs.height,
            "taxable": paise["txval"] / 100, "tax": sum(paise[h] for h in TAX) / 100,
            "value": paise["doc_value"] / 100, "error_lines": v.invalid_lines,
            "tied_lines": v.tied.height,
            "skipped": int((v.duplicates["action"] == "skipped").sum())}


def valid_only_words(v) -> str:
    """The confirmation's sentence: what the import stores and what it leaves out."""
    fig = valid_figures(v)
    text = (f"This imports **{_plural(fig['lines'], 'line', 'lines')}** as "
            f"**{_plural(fig['documents'], 'document', 'documents')}**: taxable "
            f"**{rupees(fig['taxable'])}**, tax {rupees(fig['tax'])}, document value "
            f"{rupees(fig['value'])} (net: credit notes subtract). It leaves out "
            f"**{_plural(fig['error_lines'], 'line with errors', 'lines with errors')}**")
    if fig["tied_lines"]:
        text += (f" and {_plural(fig['tied_lines'], 'other line', 'other lines')} of their "
                 "documents (a document with a faulty line is left out whole)")
    if fig["skipped"]:
        text += f"; {_plural(fig['skipped'], 'duplicate is', 'duplicates are')} skipped"
    return text + ". Nothing else in the books changes."


def import_off_reason(v, others: list[str] | None = None) -> str | None:
    """Why the Import button is off, in words; None when the file may be imported as it is."""
    if others:
        return (f"Import is off: the file has documents of {', '.join(others)}, which you may "
                "not see.")
    if not v.ok:
        bad = _plural(v.invalid_lines, "line has errors", "lines have errors")
        if not v.docs.height:
            rest = ("every other document is already stored or repeated in the file"
                    if v.duplicates.height else "no document is free of them")
            return f"Import is off: {bad} and {rest}. Fix them in the file and upload again."
        text = (f"Import is off: {bad}. Fix them in the file and upload again, or import the "
                f"{_plural(v.valid_lines, 'valid line', 'valid lines')} alone.")
        if v.tied.height:
            tied = _plural(v.tied.height, "other line of their documents is",
                           "other lines of their documents are")
            text += f" {tied} left out with them (a document is imported whole or not at all)."
        return text
    if not v.docs.height:
        return ("Import is off: every document of the file is already stored or repeated in "
                "it (see the duplicates above).")
    return None


def already_imported_words(before: dict, on_duplicate: str) -> str:
    """What "Import again" would do with a file a live batch already imported, in words (the
    time in the business time zone)."""
    stored = ("the documents already stored are replaced by the file's (\"Replace them\" is "
              "chosen above)" if on_duplicate == "replace" else
              "the documents already stored are skipped, so only those not stored now are "
              "added (choose \"Replace them\" above to replace them)")
    return (f"This very file was already imported as batch {before['batch_id']} "
            f"({before['file_name']}, {shown_time(before['imported_at'])} by "
            f"{before['imported_by']}). Importing it again makes a new batch: {stored}.")


DUPLICATE_OF = {"in_file": "an earlier line of this file", "stored": "a stored document"}
DUPLICATE_ACTION = {"skipped": "skipped", "replaces": "replaces the stored one"}


def duplicate_table(v, limit: int = 500) -> pl.DataFrame:
    """The duplicates in words: the file's own line, supplier, document, what it repeats and
    what the import does with it."""
    dups = v.duplicates.head(limit)
    return pl.DataFrame({
        LINE_WORDS: (dups["line_no"] + v.header_row).to_list(),
        "Supplier GSTIN": dups["stin"].to_list(),
        "Document": [f"{doc_type_words(t)} {n}" for t, n in zip(dups["doc_type"],
                                                                 dups["doc_no"])],
        "Date": [date_words(d) for d in dups["doc_date"]],
        "Repeats": [DUPLICATE_OF.get(k, k) for k in dups["kind"]],
        "Import": [DUPLICATE_ACTION.get(a, a) for a in dups["action"]],
        "Why": dups["reason"].to_list()})
