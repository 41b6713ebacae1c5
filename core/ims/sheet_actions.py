"""Actions from a sheet (docs/approval.md, "Actions from a sheet"): a CSV or Excel file of
record keys with the action, the remark to the supplier, the internal note and the
ITC-reduction answer, read with the purchase register's reader (its caps refuse hostile
files: long lines, too many columns, zip bombs, formulas without a saved value).

`preview_sheet` gives each line a verdict: the record it found, or why it is refused (a field
that cannot be read, not found, ambiguous, no permission for that business, not allowed for
that record by the rules a save applies, its GSTR-3B filed). `save_sheet` saves every valid
line in one transaction or nothing, each with an action_log row naming the file and line;
with approval before upload on, the lines become proposals. `refused_file` is the refused
lines with the reason, as CSV or Excel.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import polars.selectors as cs

from core.auth import User
from core.business import NAMES_SQL
from core.export import to_csv_bytes, to_excel_bytes
from core.figures import count_words
from core.ims.actions import (
    _BLOCKED,
    _DOC_WORDS,
    ActionError,
    SaveResult,
    _after,
    _check,
    _read_rows,
    acting_as,
    write_changes,
)
from core.portal import filed_refusals
from core.purchase import CONTROL_CHARS, LINE, FileProblem, date_expr, load_source, read_table
from core.reco import FULL, HEADS, NO, PARTIAL
from core.store import connect, transaction

# field -> (heading in words, the headings accepted, normalised: lower case, single spaces)
FIELDS = {
    "business_gstin": ("Business GSTIN", ("business gstin", "company gstin", "recipient gstin",
                                          "business")),
    "supplier_gstin": ("Supplier GSTIN", ("supplier gstin", "supplier gstin or port code",
                                          "port code", "supplier")),
    "doc_type": ("Document type", ("document type", "doc type", "type")),
    "doc_no": ("Document number", ("document number", "document no", "doc no", "doc number",
                                   "invoice number", "number")),
    "doc_date": ("Document date", ("document date", "doc date", "date", "invoice date")),
    "period": ("Return period", ("return period", "period")),
    "action": ("Action", ("action", "my action")),
    "supplier_remark": ("Remark to supplier", ("remark to supplier", "remark to the supplier",
                                               "remark")),
    "internal_note": ("Internal note", ("internal note", "note")),
    "itc": ("ITC to be reduced", ("itc to be reduced", "itc reduction", "itc reduction answer")),
    **{f"reduce_{h}": (f"Reduce {h.upper() if h != 'cess' else 'Cess'}",
                       (f"reduce {h}", f"reduce {h} rs")) for h in HEADS},
}
REQUIRED = ("supplier_gstin", "doc_type", "doc_no", "action")
DOC_TYPES = {"INVOICE": "INV", "INV": "INV", "TAX INVOICE": "INV", "CREDIT NOTE": "CRN",
             "CRN": "CRN", "CN": "CRN", "DEBIT NOTE": "DBN", "DBN": "DBN", "DN": "DBN",
             "BILL OF ENTRY": "BOE", "BOE": "BOE"}
ACTION_CODES = {"ACCEPT": "A", "A": "A", "REJECT": "R", "R": "R", "PENDING": "P", "P": "P",
                "RESET": "N", "RESET TO NO ACTION": "N", "NO ACTION": "N", "N": "N"}
ACTION_DONE = {"A": "accept", "R": "reject", "P": "keep pending", "N": "reset to no action"}
ITC_CODES = {"FULL": FULL, "PARTIAL": PARTIAL, "NO": NO}
AMOUNT = r"^-?\d+(\.\d{1,2})?$"


@dataclass
class SheetPreview:
    """A sheet read and checked: `lines` has, per data line, `line` (the line of the file),
    the fields as text, `action_code`, `record_id` (found) and `verdict` (words); `ok` lines
    can be saved. `raw` is the file's own columns, for the refused lines' download."""
    file: str
    lines: pl.DataFrame
    raw: pl.DataFrame
    header_row: int

    @property
    def valid(self) -> int:
        return int(self.lines["ok"].sum())

    @property
    def refused(self) -> int:
        return self.lines.height - self.valid

    def summary(self) -> str:
        return (f"{self.file}: {count_words(self.lines.height)} line(s): "
                f"{count_words(self.valid)} ready to save, {count_words(self.refused)} refused")

    def shown(self) -> pl.DataFrame:
        """The preview as people read it: line, supplier, document, action, verdict."""
        return self.lines.select(
            pl.col("line").alias("Line"), pl.col("supplier_gstin").alias("Supplier GSTIN"),
            pl.concat_str([pl.col("doc_type").fill_null(""), pl.col("doc_no").fill_null("")],
                          separator=" ").str.strip_chars().alias("Document"),
            pl.col("action").fill_null("").alias("Action"), pl.col("verdict").alias("Verdict"))


def _heading_key(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in str(text).lower())
    return " ".join(cleaned.split())


HEADINGS = {name: fld for fld, (_, names) in FIELDS.items() for name in names}


def _header_score(cells: list[str]) -> int:
    return sum(1 for c in cells if _heading_key(c) in HEADINGS)


def _columns(raw_columns: list[str], file: str) -> dict[str, str]:
    """field -> the file's column holding it; a missing required column or a field given twice
    is a FileProblem naming it."""
    found: dict[str, str] = {}
    for column in raw_columns:
        fld = HEADINGS.get(_heading_key(column))
        if fld is None:
            continue
        if fld in found:
            raise FileProblem(file, f"the columns '{found[fld]}' and '{column}' both hold "
                                    f"{FIELDS[fld][0]}: keep one", field=FIELDS[fld][0])
        found[fld] = column
    missing = [FIELDS[f][0] for f in REQUIRED if f not in found]
    if missing:
        raise FileProblem(file, f"no column for {', '.join(missing)} (the header names the "
                                "columns; docs/approval.md lists them)", field=missing[0])
    return found


def _text(column: str | None) -> pl.Expr:
    if column is None:
        return pl.lit(None, dtype=pl.Utf8)
    # by_name: a heading is a name, never a pattern ("^...$" would be one for pl.col)
    value = cs.by_name(column).cast(pl.Utf8).str.replace_all(CONTROL_CHARS, "").str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)


def _read_lines(raw, columns: dict[str, str]) -> pl.DataFrame:
    """The fields as text (control characters dropped, trimmed, empty as null), and the keys
    and codes they read as: document type, action and answer codes, the date, the period."""
    frame = raw.frame.select(
        (pl.col(LINE) + raw.header_row).alias("line"),
        *(_text(columns.get(f)).alias(f) for f in FIELDS))
    upper = {f: pl.col(f).str.to_uppercase() for f in FIELDS}
    spaced = {f: upper[f].str.replace_all(r"[\s_.-]+", " ") for f in FIELDS}
    frame = frame.with_columns(
        upper["supplier_gstin"].alias("stin"), upper["business_gstin"].alias("rtin"),
        spaced["doc_type"].replace_strict(DOC_TYPES, default=None).alias("type_code"),
        upper["doc_no"].alias("doc_no_key"),
        spaced["action"].replace_strict(ACTION_CODES, default=None).alias("action_code"),
        upper["itc"].replace_strict(ITC_CODES, default=None).alias("itc_code"),
        date_expr(pl.col("doc_date"), None, raw.kind).alias("date"),
        pl.col("period").str.replace_all(r"[\s/-]", "").alias("period_key"))
    return frame


def _field_problems(frame: pl.DataFrame, file: str, gstins: list[str]) -> pl.Series:
    """Per line, what is wrong with its own fields in words naming file, line and field
    (null when nothing is)."""
    def at(fld: str, message: pl.Expr | str) -> pl.Expr:
        text = message if isinstance(message, pl.Expr) else pl.lit(message)
        return pl.concat_str([pl.lit(f"{file}, line "), pl.col("line").cast(pl.Utf8),
                              pl.lit(f", field {FIELDS[fld][0]}: "), text])

    def quoted(fld: str, rest: str) -> pl.Expr:
        return pl.concat_str([pl.lit("'"), pl.col(fld).str.slice(0, 60), pl.lit(rest)])

    checks = [
        (pl.col("stin").is_null(), at("supplier_gstin", "missing")),
        (pl.col("doc_type").is_null(), at("doc_type", "missing")),
        (pl.col("doc_type").is_not_null() & pl.col("type_code").is_null(),
         at("doc_type", quoted("doc_type", "' is not a document type: Invoice, Credit note, "
                                           "Debit note or Bill of entry"))),
        (pl.col("doc_no").is_null(), at("doc_no", "missing")),
        (pl.col("action").is_null(), at("action", "missing")),
        (pl.col("action").is_not_null() & pl.col("action_code").is_null(),
         at("action", quoted("action", "' is not an action: Accept, Reject, Pending or "
                                       "Reset"))),
        (pl.col("doc_date").is_not_null() & pl.col("date").is_null(),
         at("doc_date", quoted("doc_date", "' is not a date (e.g. 03-10-2025)"))),
        (pl.col("period").is_not_null()
         & ~pl.col("period_key").str.contains(r"^(0[1-9]|1[0-2])20\d\d$"),
         at("period", quoted("period", "' is not a return period: month and year, e.g. "
                                       "10-2025"))),
        (pl.col("itc").is_not_null() & pl.col("itc_code").is_null(),
         at("itc", quoted("itc", "' is not an answer: Full, Partial or No"))),
        (pl.col("rtin").is_not_null() & ~pl.col("rtin").is_in(list(gstins)),
         at("business_gstin", pl.concat_str([pl.lit("no permission: you may not act for "
                                                    "the business "), pl.col("rtin")]))),
        *((pl.col(f"reduce_{h}").is_not_null()
           & ~pl.col(f"reduce_{h}").str.replace_all(",", "").str.contains(AMOUNT),
           at(f"reduce_{h}", quoted(f"reduce_{h}", "' is not an amount in rupees")))
          for h in HEADS),
    ]
    joined = pl.concat_str([pl.when(c).then(m) for c, m in checks], separator="; ",
                           ignore_nulls=True)
    return frame.select(pl.when(joined == "").then(None).otherwise(joined).alias("problem")
                        )["problem"]


def preview_sheet(source, gstins: list[str], actor: User | str,
                  file_name: str | None = None) -> SheetPreview:
    """Read and check a sheet of actions against the records of `gstins` (the businesses the
    user may see): a verdict per line; nothing is written. A file that cannot be used at all
    raises FileProblem naming the file (and line and field where there is one)."""
    acting_as(actor)
    data, name = load_source(source, file_name)
    raw = read_table(data, name, _header_score)
    columns = _columns([c for c in raw.frame.columns if c != LINE], name)
    lines = _read_lines(raw, columns)
    lines = lines.with_columns(_field_problems(lines, name, gstins).alias("problem"))
    lines = _find_records(lines, gstins, name)
    lines = _record_rules(lines, gstins, name)
    ok = pl.col("problem").is_null()
    lines = lines.with_columns(ok.alias("ok"), pl.when(ok).then(
        pl.concat_str([pl.lit("Found: "), pl.col("found"), pl.lit(": "),
                       pl.col("action_code").replace_strict(ACTION_DONE, default="")]))
        .otherwise(pl.concat_str([pl.lit("Refused: "), pl.col("problem")])).alias("verdict"))
    return SheetPreview(name, lines, raw.frame, raw.header_row)


def _prefix(file: str) -> pl.Expr:
    return pl.concat_str([pl.lit(f"{file}, line "), pl.col("line").cast(pl.Utf8), pl.lit(": ")])


def _find_records(lines: pl.DataFrame, gstins: list[str], file: str) -> pl.DataFrame:
    """Each readable line's record (by supplier, type, number, and the date, period and
    business where given), set-based in the store: `record_id`, `found` (the record in words),
    or the problem: not found, ambiguous, the same record as an earlier line."""
    keys = lines.filter(pl.col("problem").is_null()).select(
        "line", "rtin", "stin", "type_code", "doc_no_key", "date", "period_key")
    with connect(read_only=True) as con:
        con.register("sheet_keys", keys)
        hits = pl.DataFrame(con.execute(f"""
            SELECT k.line, r.record_id, r.rtnprd,
                   {_DOC_WORDS} AS found
            FROM sheet_keys k JOIN ims_records r
              ON r.stin = k.stin AND r.doc_type = k.type_code AND r.doc_no_key = k.doc_no_key
             AND (k.date IS NULL OR r.doc_date = k.date)
             AND (k.period_key IS NULL OR r.rtnprd = k.period_key)
             AND (k.rtin IS NULL OR r.rtin = k.rtin)
            LEFT JOIN ({NAMES_SQL}) n ON n.rtin = r.rtin AND n.stin = r.stin
            WHERE r.removed_at IS NULL AND list_contains(?::VARCHAR[], r.rtin)
            ORDER BY k.line, r.record_id""", [list(gstins)]).fetchall(),
                            schema={"line": pl.Int64, "record_id": pl.Int64, "rtnprd": pl.Utf8,
                                    "found": pl.Utf8}, orient="row")
        con.unregister("sheet_keys")
    hits = hits.with_columns(pl.concat_str([pl.col("found"), pl.lit(" ("),
                                            _period_words("rtnprd"), pl.lit(")")]))
    per_line = hits.group_by("line").agg(pl.len().alias("n"), pl.col("record_id").first(),
                                         pl.col("found").first(),
                                         _period_words("rtnprd").unique().sort()
                                         .str.join(", ").alias("periods"))
    lines = lines.join(per_line, on="line", how="left")
    first_line = pl.col("line").min().over("record_id")
    problem = (pl.when(pl.col("problem").is_not_null()).then(pl.col("problem"))
               .when(pl.col("n").is_null()).then(_prefix(file) + pl.lit(
                   "not found: no record of this supplier, document type and number among the "
                   "businesses you may see (check the number, date and period)"))
               .when(pl.col("n") > 1).then(_prefix(file) + pl.concat_str([
                   pl.lit("ambiguous: "), pl.col("n").cast(pl.Utf8),
                   pl.lit(" records match (periods "), pl.col("periods"),
                   pl.lit("); add the document date or the return period")]))
               .when(pl.col("record_id").is_not_null() & (first_line < pl.col("line")))
               .then(_prefix(file) + pl.lit("the same record as line ")
                     + first_line.cast(pl.Utf8) + pl.lit(" (one line per record)")))
    return lines.with_columns(problem.alias("problem"),
                              pl.when(pl.col("n") == 1).then(pl.col("record_id"))
                              .alias("record_id"))


def _period_words(column: str) -> pl.Expr:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec"]
    month = pl.col(column).str.slice(0, 2).replace_strict(
        {f"{i + 1:02d}": m for i, m in enumerate(months)}, default="")
    return pl.concat_str([month, pl.lit(" "), pl.col(column).str.slice(2, 4)])


def _changes(lines: pl.DataFrame) -> dict[int, dict]:
    """{record id: the change of its line} for the lines found (keys left out keep their
    stored value: an empty cell changes nothing)."""
    out = {}
    for row in lines.filter(pl.col("record_id").is_not_null()
                            & pl.col("problem").is_null()).iter_rows(named=True):
        change = {"action": row["action_code"]}
        for key in ("supplier_remark", "internal_note"):
            if row[key] is not None:
                change[key] = row[key]
        if row["itc_code"] is not None:
            change["itc"] = row["itc_code"]
        for h in HEADS:
            if row[f"reduce_{h}"] is not None:
                change[f"decl_{h}"] = row[f"reduce_{h}"].replace(",", "")
        out[int(row["record_id"])] = change
    return out


def _record_rules(lines: pl.DataFrame, gstins: list[str], file: str) -> pl.DataFrame:
    """The rules a save applies to each found record (Pending not allowed, import of goods not
    rejected, the ITC-reduction answer and the texts), and a filed GSTR-3B: refused in words."""
    changes = _changes(lines)
    if not changes:
        return lines
    ids = list(changes)
    todo = pl.DataFrame({"record_id": ids, "t": [c["action"] for c in changes.values()]},
                        schema={"record_id": pl.Int64, "t": pl.Utf8})
    with connect(read_only=True) as con:
        con.register("sheet_todo", todo)
        blocked = dict(con.execute(f"""SELECT record_id, {_BLOCKED} FROM (
            SELECT x.record_id, x.t, r.ispendactblocked, r.doc_type
            FROM sheet_todo x JOIN ims_records r USING (record_id)) q""").fetchall())
        con.unregister("sheet_todo")
        filed = dict(filed_refusals(
            con, "FROM ims_records r WHERE r.record_id IN (SELECT unnest(?::BIGINT[]))",
            [ids], []))
        found = _read_rows(con, gstins, ids)
    why = {}
    for rid, change in changes.items():
        reasons = [blocked.get(rid)] if blocked.get(rid) else []
        if rid in found:
            reasons += [p.split(": ", 1)[-1] for p in _check(rid, found[rid],
                                                            _after(found[rid], change))]
        said = ["not allowed for this record: " + "; ".join(reasons)] if reasons else []
        if rid in filed:
            said.append("filed period: " + filed[rid].removeprefix("Not sent: "))
        if said:
            why[rid] = "; ".join(said)
    if not why:
        return lines
    frame = pl.DataFrame({"record_id": list(why), "rule": list(why.values())},
                         schema={"record_id": pl.Int64, "rule": pl.Utf8})
    return lines.join(frame, on="record_id", how="left").with_columns(
        pl.when(pl.col("problem").is_null() & pl.col("rule").is_not_null())
        .then(_prefix(file) + pl.col("rule")).otherwise(pl.col("problem")).alias("problem")
    ).drop("rule")


def save_sheet(preview: SheetPreview, gstins: list[str], actor: User | str) -> SaveResult:
    """Save every valid line of the preview in one transaction, or nothing: a line the save
    refuses now (the record changed since the preview) rolls all of it back with the reason.
    Each saved record gets an action_log row 'sheet_import' naming the file and line."""
    name = acting_as(actor)
    changes = _changes(preview.lines.filter("ok"))
    if not changes:
        raise ActionError(f"{preview.file}: no line can be saved; every line was refused")
    where = preview.lines.filter("ok").select("record_id", "line", "action_code")
    with connect() as con, transaction(con):
        result = write_changes(con, gstins, changes, name)
        if result.skipped or result.not_saved:
            raise ActionError("Nothing saved: " + "; ".join(
                line for line in result.lines if line.startswith("Not saved")) or
                "some records are no longer visible to you")
        con.register("sheet_saved", where)
        con.execute("""INSERT INTO action_log (actor, rtin, record_id, kind, old_value,
                                               new_value, note)
                       SELECT ?, r.rtin, r.record_id, 'sheet_import', NULL, s.action_code,
                              ? || ', line ' || CAST(s.line AS VARCHAR)
                       FROM sheet_saved s JOIN ims_records r ON r.record_id = s.record_id""",
                    [name, preview.file])
        con.unregister("sheet_saved")
    return result


def refused_lines(preview: SheetPreview) -> pl.DataFrame:
    """The refused lines as the file had them, with the line and the reason first."""
    why = preview.lines.filter(~pl.col("ok")).select(
        pl.col("line").alias("Line"), pl.col("problem").alias("Reason"))
    own = preview.raw.select((pl.col(LINE) + preview.header_row).cast(pl.Int64).alias("Line"),
                             pl.exclude(LINE).cast(pl.Utf8))
    return why.join(own, on="Line", how="left").sort("Line")


def refused_file(preview: SheetPreview, excel: bool = False) -> bytes:
    """The refused lines with the reason, as spreadsheet-safe CSV or an Excel workbook."""
    table = refused_lines(preview)
    return to_excel_bytes(table, "Refused lines") if excel else to_csv_bytes(table)
