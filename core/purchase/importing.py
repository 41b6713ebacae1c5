"""Purchase-register import: read and validate a file, import it as one batch, write its
problems as CSV. The public entry is core/purchase/__init__.py (also `python -m core.purchase`).

    read_purchase_documents(path)            -> Validation (no database; used by core.reco)
    validate_purchase_file(source, ...)      -> Validation checked against the store
    import_purchase_file(source, ...)        -> ImportResult (one transaction, or nothing)
    problems_csv_bytes(validation)           -> invalid and duplicate lines with reasons
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import polars as pl

from core.clock import today as business_day
from core.export import to_csv_bytes
from core.figures import counted
from core.labels import field_words
from core.purchase.batches import configured_gstins, previous_import, stored_matches, write_batch
from core.purchase.claims import CLAIM_COLUMNS, claim_problems, with_claims
from core.purchase.documents import (
    TIED_SCHEMA,
    group_documents,
    negative_documents,
    sign_problems,
    split_file_duplicates,
    tied_lines,
)
from core.purchase.read import LINE, RawTable, load_source, read_table
from core.purchase.templates import BUILTINS, Template, get_template, header_score
from core.purchase.validate import PROBLEM_SCHEMA, canonical_lines, line_problems, parse_lines, say
from core.timefmt import shown_time

DUP_COLUMNS_EXTRA = ["kind", "action", "reason", "existing_batch_id"]
DOC_COLUMNS = ["rtin", "stin", "supplier_name", "doc_type", "doc_no", "doc_date", "pos", "rcm",
               "txval",
               "igst", "cgst", "sgst", "cess", "doc_value", "no_tax", "line_no", "line_count", "fy",
               "doc_no_key", *CLAIM_COLUMNS]

DUP_COLUMNS = DOC_COLUMNS + DUP_COLUMNS_EXTRA


@dataclass
class Validation:
    """What a file holds: documents, problems and duplicates.

    `docs`: one row per document (amounts Int64 paise, absolute), without duplicates and
    without lines that have errors. `problems`: file, line (1-based data line), row (row in
    the file / sheet), field, column, value, message, severity ('error' | 'warning').
    `duplicates`: documents left out, with `kind` ('in_file' | 'stored') and `reason`.
    `tied`: lines without errors left out because a line of their document has one (line,
    faulty_line).
    """
    file: str
    template: str
    sha256: str
    docs: pl.DataFrame
    problems: pl.DataFrame
    duplicates: pl.DataFrame
    lines: pl.DataFrame = field(repr=False)      # the file's own text columns + __line
    line_count: int = 0
    columns: dict = field(default_factory=dict)  # canonical field -> file column
    line_map: pl.DataFrame = field(default=None, repr=False)  # line -> line_no of its document
    replace_ids: list = field(default_factory=list,
                              repr=False)  # stored doc_ids an import would replace
    tied: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TIED_SCHEMA),
                               repr=False)
    header_row: int = 1          # the header's line in the file: line N of the data is N + this

    def file_line(self, line: int) -> int:
        """A data line (`__line`) as a person counts it: the file's line, the header line 1."""
        return int(line) + self.header_row

    @property
    def error_count(self) -> int:
        return int((self.problems["severity"] == "error").sum()) if self.problems.height else 0

    @property
    def warning_count(self) -> int:
        return self.problems.height - self.error_count

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def valid_lines(self) -> int:
        """Lines of the documents an import would store."""
        return int(self.docs["line_count"].sum()) if self.docs.height else 0

    @property
    def invalid_lines(self) -> int:
        errors = self.problems.filter(pl.col("severity") == "error")
        return errors["line"].n_unique() if errors.height else 0

    def messages(self, limit: int = 20, severity: str | None = None) -> list[str]:
        """Problems as sentences: 'file, line 4 of the file, field doc_date: ...' (the
        file's own line numbers: the header is line 1)."""
        rows = self.problems
        if severity is not None:
            rows = rows.filter(pl.col("severity") == severity)
        out = [f"{p['file']}, line {p['row']} of the file, field {p['field']}: "
               f"{p['severity']}: "
               f"{p['message']}" for p in rows.head(limit).iter_rows(named=True)]
        if rows.height > limit:
            out.append(f"... and {rows.height - limit} more")
        return out

    def summary(self) -> str:
        return (f"{self.file}: {counted(self.line_count, 'line')}, "
                f"{counted(self.docs.height, 'document')}, {counted(self.error_count, 'error')} "
                f"on {counted(self.invalid_lines, 'line')}, {counted(self.warning_count, 'warning')}, "
                f"{counted(self.duplicates.height, 'duplicate')}")


def read_purchase_documents(path, template: str | Template = "standard",
                            company_gstins: list[str] | None = None,
                            company_gstin: str | None = None, sheet: str | None = None, *,
                            file_name: str | None = None,
                            today: dt.date | None = None) -> Validation:
    """Read and validate a purchase register (path, or bytes with `file_name`); no database.

    Raises FileProblem when the file is unusable as a whole (empty, no header, ...).
    `company_gstins=None` skips the "configured business" check.
    """
    tpl = template if isinstance(template, Template) else _template(template)
    data, name = load_source(path, file_name)
    raw = read_table(data, name, header_score(tpl), sheet)
    if company_gstin is None and company_gstins is not None and len(company_gstins) == 1:
        company_gstin = company_gstins[0]
    lines, columns = canonical_lines(raw, tpl, company_gstin)
    parsed = parse_lines(lines, tpl, company_gstin, raw.kind)
    frames = line_problems(parsed, company_gstins, today or business_day())
    frames += claim_problems(parsed)
    bad_lines = _error_lines(frames)
    tied = tied_lines(parsed, bad_lines)
    docs, line_map = group_documents(parsed, pl.concat([bad_lines, tied["line"]]))
    docs, negative, negative_tied = negative_documents(docs, line_map)
    if negative.height:      # a document below zero: refused, its other lines with it
        frames.append(negative)
        tied = pl.concat([tied, negative_tied]).unique("line").sort("line")
    docs = with_claims(docs, parsed, line_map, columns)
    frames.append(sign_problems(docs, tpl.cn_sign))
    docs, dups = split_file_duplicates(docs, raw.header_row)
    problems = _problem_frame(frames, raw, columns)
    return Validation(name, tpl.name, raw.sha256, docs.select(DOC_COLUMNS), problems,
                      dups.select(DUP_COLUMNS), raw.frame, raw.line_count, columns, line_map,
                      tied=tied, header_row=raw.header_row)


def _template(name: str) -> Template:
    return BUILTINS[name] if name in BUILTINS else get_template(name)


def _error_lines(frames: list[pl.DataFrame]) -> pl.Series:
    errors = [f.filter(pl.col("severity") == "error")["line"] for f in frames if f.height]
    return pl.concat(errors).unique() if errors else pl.Series("line", [], pl.Int64)


def _problem_frame(frames: list[pl.DataFrame], raw: RawTable, columns: dict) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    found = pl.concat(frames, how="diagonal_relaxed")
    return found.with_columns(
        file=pl.lit(raw.file), row=pl.col("line") + raw.header_row,
        column=pl.col("field").replace_strict(columns, default=None, return_dtype=pl.Utf8),
    ).select(list(PROBLEM_SCHEMA)).sort(["line", "severity", "field"])


# ---------------------------------------------------------------- against the store

def validate_purchase_file(source, template: str | Template = "standard",
                           company_gstin: str | None = None,
                           sheet: str | None = None, on_duplicate: str = "skip", *,
                           file_name: str | None = None, today: dt.date | None = None,
                           valid_only: bool = False) -> Validation:
    """Validate a file as an import would: configured businesses, and duplicates already stored.

    With on_duplicate='skip' stored duplicates leave `docs`; with 'replace' they stay (and
    are listed in `duplicates` with action 'replaces'). A file with errors is checked against
    the store only with `valid_only` (as an import of its valid lines alone would be).
    """
    if on_duplicate not in ("skip", "replace"):
        raise ValueError("on_duplicate must be 'skip' or 'replace'")
    v = read_purchase_documents(source, template, configured_gstins(), company_gstin, sheet,
                                file_name=file_name, today=today)
    if (not v.ok and not valid_only) or v.docs.height == 0:
        return v
    found = stored_matches(v.docs)
    if found.height == 0:
        return v
    found = found.group_by("line_no").agg(pl.col("batch_id").min(), pl.col("doc_id"))
    action = "skipped" if on_duplicate == "skip" else "replaces"
    stored = v.docs.join(found, on="line_no").with_columns(
        kind=pl.lit("stored"), action=pl.lit(action), existing_batch_id=pl.col("batch_id"),
        reason=say("already stored (batch {}): same supplier, type and number in FY {}",
                         pl.col("batch_id"), pl.col("fy")))
    v.duplicates = pl.concat([v.duplicates, stored.select(DUP_COLUMNS)],
                             how="vertical_relaxed").sort("line_no")
    v.replace_ids = stored["doc_id"].explode().to_list() if on_duplicate == "replace" else []
    if on_duplicate == "skip":
        v.docs = v.docs.join(found.select("line_no"), on="line_no", how="anti")
    return v


@dataclass
class ImportResult:
    """What an import did. `batch_id` is None when nothing was imported (`refused` says why);
    `validation` is None when the file was refused before reading (already imported)."""
    batch_id: int | None
    file: str
    imported: int = 0                 # documents written
    replaced: int = 0                 # stored documents replaced
    skipped: int = 0                  # duplicates left out
    errors: int = 0
    warnings: int = 0
    refused: str | None = None
    validation: Validation | None = field(default=None, repr=False)
    left_out: int = 0                 # lines left out: with errors, or of a faulty document

    @property
    def ok(self) -> bool:
        return self.batch_id is not None

    def summary(self) -> str:
        if not self.ok:
            return f"{self.file}: nothing imported: {self.refused}"
        done = (f"{self.file}: batch {self.batch_id}: {self.imported} documents imported, "
                f"{self.replaced} replaced, {self.skipped} duplicates skipped, {self.warnings} "
                f"warning{'' if self.warnings == 1 else 's'}")
        if self.left_out:
            done += (f"; {self.left_out} lines left out ({self.errors} errors; a document with a "
                     "faulty line is left out whole)")
        return done


def import_purchase_file(source, template: str | Template = "standard", actor: str = "cli",
                         on_duplicate: str = "skip", company_gstin: str | None = None,
                         sheet: str | None = None,
                         force: bool = False, *, file_name: str | None = None,
                         today: dt.date | None = None, valid_only: bool = False) -> ImportResult:
    """Validate and import a file as one batch, all or nothing.

    Nothing is written when any line has an error (with `valid_only`: the documents without a
    faulty line are imported, every line of a faulty document left out), or when the same
    file (SHA-256) is already imported and `force` is False. Raises FileProblem for an
    unusable file.
    """
    data, name = load_source(source, file_name)
    before = None if force else previous_import(hashlib.sha256(data).hexdigest())
    if before:
        return ImportResult(None, name, refused=(
            f"this file was already imported as batch {before['batch_id']} ({before['file_name']}, "
            f"{shown_time(before['imported_at'])} by {before['imported_by']}). To import it "
            "again, use \"Import again\" on the Purchase Register page (it asks first), or "
            "roll that batch back first, then import the file"))
    v = validate_purchase_file(data, template, company_gstin, sheet, on_duplicate, file_name=name,
                               today=today, valid_only=valid_only)
    result = ImportResult(None, name, errors=v.error_count, warnings=v.warning_count, validation=v,
                          skipped=int((v.duplicates["action"] == "skipped").sum()))
    if not v.ok and not valid_only:
        result.refused = (f"{counted(v.error_count, 'error')} on {counted(v.invalid_lines, 'line')}; fix the file and "
                          "import again, or import the valid lines alone (--valid-only)")
    elif v.docs.height == 0:
        result.refused = ("every document has a line with errors or is a duplicate" if not v.ok
                          else "no new documents (all are duplicates)")
    if result.refused:
        return result
    replace_ids = v.replace_ids
    batch = {"file_name": name, "sha256": v.sha256, "template": v.template,
             "line_count": v.line_count,
             "invalid_count": v.invalid_lines, "duplicate_count": v.duplicates.height,
             "warning_count": v.warning_count, "duplicate_mode": on_duplicate, "imported_by": actor}
    result.batch_id = write_batch(batch, v.docs, replace_ids)
    result.imported, result.replaced = v.docs.height, len(replace_ids)
    result.left_out = v.invalid_lines + v.tied.height
    return result


# ---------------------------------------------------------------- export

def problems_csv_bytes(v: Validation, include_warnings: bool = False) -> bytes:
    """Invalid and duplicate lines of the file, with their reasons, as spreadsheet-safe CSV."""
    severities = ["error", "warning"] if include_warnings else ["error"]
    probs = v.problems.filter(pl.col("severity").is_in(severities))
    fields = pl.Series([field_words(f, c) for f, c in zip(probs["field"].to_list(),
                                                          probs["column"].to_list())],
                       dtype=pl.Utf8)   # in Python: a Python function never runs inside Polars
    probs = probs.select("line", pl.col("severity").alias("kind"),
                         pl.concat_str(pl.lit(fields), pl.lit(": "), pl.col("message"))
                         .alias("reason"))
    dups = v.duplicates.select("line_no", pl.lit("duplicate").alias("kind"), "reason")
    if v.line_map is not None and dups.height:
        dups = dups.join(v.line_map, on="line_no").select("line", "kind", "reason")
    else:
        dups = dups.rename({"line_no": "line"})
    found = pl.concat([probs, dups], how="vertical_relaxed").group_by("line").agg(
        pl.col("kind").unique().sort().str.join("+"), pl.col("reason").str.join("; "))
    out = found.join(v.lines.rename({LINE: "line"}), on="line", how="left").sort("line")
    return to_csv_bytes(out.with_columns(pl.col("line") + v.header_row)   # the file's own line
                        .rename({"line": "line of the file"}))

