"""Purchase-register import: read, validate, import as a batch, roll back.

    read_purchase_documents(path)            -> Validation (no database; used by core.reco)
    validate_purchase_file(source, ...)      -> Validation checked against the store
    import_purchase_file(source, ...)        -> ImportResult (one transaction, or nothing)
    list_batches(), rollback_batch(id, actor), problems_csv_bytes(validation)
    save_template(...), list_templates(), suggest_mapping(headers)

CLI: python -m core.purchase validate|import|batches|rollback|templates ... (see --help)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from core.purchase_read import LINE, FileProblem, RawTable, load_source, read_table
from core.purchase_templates import (BUILTINS, Template, get_template, header_score, list_templates,  # noqa: F401
                                     save_template, suggest_mapping, delete_template)
from core.purchase_validate import (PROBLEM_SCHEMA, canonical_lines, group_documents, line_problems,
                                    parse_lines, sign_problems, split_file_duplicates)

__all__ = ["Validation", "ImportResult", "FileProblem", "read_purchase_documents", "validate_purchase_file",
           "import_purchase_file", "list_batches", "rollback_batch", "problems_csv_bytes",
           "save_template", "list_templates", "suggest_mapping", "delete_template"]

DOC_COLUMNS = ["rtin", "stin", "supplier_name", "doc_type", "doc_no", "doc_date", "pos", "rcm", "txval",
               "igst", "cgst", "sgst", "cess", "doc_value", "no_tax", "line_no", "line_count", "fy", "doc_no_key"]


@dataclass
class Validation:
    """What a file holds: documents, problems and duplicates.

    `docs`: one row per document (amounts Int64 paise, absolute), without duplicates and
    without lines that have errors. `problems`: file, line (1-based data line), row (row in
    the file / sheet), field, column, value, message, severity ('error' | 'warning').
    `duplicates`: documents left out, with `kind` ('in_file' | 'stored') and `reason`.
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
    def invalid_lines(self) -> int:
        errors = self.problems.filter(pl.col("severity") == "error")
        return errors["line"].n_unique() if errors.height else 0

    def messages(self, limit: int = 20, severity: str | None = None) -> list[str]:
        """Problems as sentences: 'file, line 3 (row 4), field doc_date: ...'."""
        rows = self.problems if severity is None else self.problems.filter(pl.col("severity") == severity)
        out = [f"{p['file']}, line {p['line']} (row {p['row']}), field {p['field']}: {p['severity']}: "
               f"{p['message']}" for p in rows.head(limit).iter_rows(named=True)]
        if rows.height > limit:
            out.append(f"... and {rows.height - limit} more")
        return out

    def summary(self) -> str:
        return (f"{self.file}: {self.line_count} lines, {self.docs.height} documents, "
                f"{self.error_count} errors on {self.invalid_lines} lines, {self.warning_count} warnings, "
                f"{self.duplicates.height} duplicates")


def read_purchase_documents(path, template: str | Template = "standard", company_gstins: list[str] | None = None,
                            company_gstin: str | None = None, sheet: str | None = None, *,
                            file_name: str | None = None, today: dt.date | None = None) -> Validation:
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
    frames = line_problems(parsed, company_gstins, today or dt.date.today())
    bad_lines = _error_lines(frames)
    docs = group_documents(parsed, bad_lines)
    frames.append(sign_problems(docs, tpl.cn_sign))
    docs, dups = split_file_duplicates(docs)
    problems = _problem_frame(frames, raw, columns)
    return Validation(name, tpl.name, raw.sha256, docs.select(DOC_COLUMNS), problems,
                      dups.select(DOC_COLUMNS + ["kind", "reason", "existing_batch_id"]), raw.frame,
                      raw.line_count, columns)


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
