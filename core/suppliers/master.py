"""The supplier master (docs/suppliers.md): per company (every GSTIN of one PAN shares it),
keyed by supplier GSTIN and grouped by the supplier's PAN; legal and trade name, contact
e-mails, phone, notes. Names missing are filled from the purchase register and the GSTR-2B's
trade name (core.business.supplier_names). Import and export as CSV or Excel, with a template;
a bad line is named by file, line and field, and nothing is written then (one transaction).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl

from core.business import supplier_names
from core.clock import utc_now
from core.export import TRIGGERS, to_csv_bytes, to_excel_bytes
from core.gstin import gstin_problem, pan_of
from core.store import connect, query_frame, transaction

COLUMNS = ("supplier_gstin", "legal_name", "trade_name", "emails", "phone", "notes")
TEMPLATE_ROW = ("27AABCS5678L1ZQ", "Sahyadri Steels Private Limited", "Sahyadri Steels",
                "accounts@sahyadristeels.example, gst@sahyadristeels.example", "+91 20 2567 8900",
                "Pays on the 10th")
EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
PHONE_RE = re.compile(r"^[0-9 +()\-]{6,20}$")
MAX_TEXT = 300


class SupplierFileError(ValueError):
    """A supplier file that cannot be imported; the message names file, line and field."""


def company_of(gstin: str) -> str:
    """A business's company: the PAN all its GSTINs share."""
    return pan_of(gstin)


def split_emails(text: str | None) -> list[str]:
    return [e.strip() for e in re.split(r"[,;\s]+", text or "") if e.strip()]


def email_problem(text: str | None) -> str | None:
    bad = [e for e in split_emails(text) if not EMAIL_RE.match(e)]
    return f"'{bad[0]}' is not an e-mail address" if bad else None


def suppliers_of(company: str) -> pl.DataFrame:
    """The company's supplier master, by PAN then GSTIN."""
    with connect(read_only=True) as con:
        return query_frame(con, """
            SELECT stin, pan, legal_name, trade_name, emails, phone, notes, name_source,
                   updated_by, updated_at
            FROM suppliers WHERE company_pan = ? ORDER BY pan, stin""", [company])


def supplier_of(company: str, stin: str) -> dict | None:
    frame = suppliers_of(company).filter(pl.col("stin") == stin)
    return frame.row(0, named=True) if frame.height else None


def display_name(row: dict | None) -> str | None:
    """The name a person reads: the trade name, else the legal name."""
    if not row:
        return None
    return (row.get("trade_name") or "").strip() or (row.get("legal_name") or "").strip() or None


def names_of(gstins: list[str], stins: list[str]) -> dict[str, str]:
    """{supplier GSTIN: name} for the businesses `gstins`: the master's name first, else the
    books' or the 2B's (core.business.supplier_names reads the master too)."""
    return supplier_names(gstins, stins) if stins else {}


def _log(con, actor: str, gstin: str | None, what: str, note: str) -> None:
    con.execute("INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, "
                "new_value, note) VALUES (?, ?, ?, NULL, 'supplier', NULL, ?, ?)",
                [utc_now(), actor, gstin, what, note])


def _upsert(con, company: str, row: dict, actor: str, source: str) -> None:
    now = utc_now()
    exists = con.execute("SELECT 1 FROM suppliers WHERE company_pan = ? AND stin = ?",
                         [company, row["supplier_gstin"]]).fetchall()
    values = [row.get(c) or None for c in COLUMNS[1:]]
    if exists:
        con.execute("UPDATE suppliers SET legal_name = ?, trade_name = ?, emails = ?, phone = ?, "
                    "notes = ?, name_source = ?, updated_by = ?, updated_at = ? "
                    "WHERE company_pan = ? AND stin = ?",
                    [*values, source, actor, now, company, row["supplier_gstin"]])
    else:
        con.execute("INSERT INTO suppliers (company_pan, stin, pan, legal_name, trade_name, "
                    "emails, phone, notes, name_source, updated_by, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [company, row["supplier_gstin"], pan_of(row["supplier_gstin"]), *values,
                     source, actor, now])


def _unguarded(text: str) -> str:
    """A cell our own export guarded against formulas ("'+91 ...") read back as it was."""
    return text[1:] if text[:1] == "'" and text[1:2] in TRIGGERS else text


def checked_row(row: dict, where: str) -> dict:
    """One supplier row cleaned, or SupplierFileError naming `where` and the field."""
    clean = {c: _unguarded(str(row.get(c) or "").strip()) for c in COLUMNS}
    clean["supplier_gstin"] = clean["supplier_gstin"].upper()
    if problem := gstin_problem(clean["supplier_gstin"]):
        raise SupplierFileError(f"{where}, field supplier_gstin: {problem}")
    if problem := email_problem(clean["emails"]):
        raise SupplierFileError(f"{where}, field emails: {problem}")
    clean["emails"] = ", ".join(split_emails(clean["emails"]))
    if clean["phone"] and not PHONE_RE.match(clean["phone"]):
        raise SupplierFileError(f"{where}, field phone: '{clean['phone'][:40]}' is not a phone "
                                "number (digits, spaces, + ( ) - only)")
    for c in ("legal_name", "trade_name", "notes"):
        if len(clean[c]) > MAX_TEXT:
            raise SupplierFileError(f"{where}, field {c}: longer than {MAX_TEXT} characters")
    return clean


def save_supplier(gstin: str, row: dict, actor: str) -> dict:
    """Add or change one supplier in the master of `gstin`'s company (logged)."""
    clean = checked_row(row, f"supplier {row.get('supplier_gstin') or ''}".strip())
    with connect() as con, transaction(con):
        _upsert(con, company_of(gstin), clean, actor, "typed")
        _log(con, actor, gstin, "saved", f"supplier {clean['supplier_gstin']} saved in the master")
    return clean


def read_supplier_file(name: str, data: bytes) -> list[dict]:
    """The rows of a CSV or Excel supplier file, checked; SupplierFileError names file, line
    (the header is line 1) and field of the first problem."""
    if Path(name).suffix.lower() in (".xlsx", ".xls"):
        try:
            frame = pl.read_excel(io.BytesIO(data), infer_schema_length=0)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook: said in words
            raise SupplierFileError(f"{name}: not a readable Excel workbook ({exc})") from None
        header = list(frame.columns)
        rows = [dict(zip(header, (v if v is None else str(v) for v in r)))
                for r in frame.iter_rows()]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SupplierFileError(f"{name}: not UTF-8 text (save it as CSV UTF-8)") from None
        reader = csv.DictReader(io.StringIO(text))
        header = list(reader.fieldnames or [])
        rows = list(reader)
    header = [str(h or "").strip() for h in header]
    if "supplier_gstin" not in header:
        raise SupplierFileError(f"{name}, line 1: the column supplier_gstin is missing "
                                f"(columns: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise SupplierFileError(f"{name}, line 1: unknown column '{unknown[0]}' "
                                f"(columns: {', '.join(COLUMNS)})")
    out, seen = [], {}
    for line, row in enumerate(rows, start=2):
        row = {str(k or "").strip(): v for k, v in row.items()}
        if not any(str(v or "").strip() for v in row.values()):
            continue
        clean = checked_row(row, f"{name}, line {line}")
        if clean["supplier_gstin"] in seen:
            raise SupplierFileError(f"{name}, line {line}, field supplier_gstin: "
                                    f"{clean['supplier_gstin']} is already on line "
                                    f"{seen[clean['supplier_gstin']]}")
        seen[clean["supplier_gstin"]] = line
        out.append(clean)
    return out


def import_suppliers(gstin: str, name: str, data: bytes, actor: str) -> int:
    """Read, check and write a supplier file into `gstin`'s company master, all or nothing ->
    how many suppliers it holds."""
    rows = read_supplier_file(name, data)
    with connect() as con, transaction(con):
        for row in rows:
            _upsert(con, company_of(gstin), row, actor, "typed")
        _log(con, actor, gstin, "imported", f"{len(rows)} suppliers imported from {name}")
    return len(rows)


def fill_names(gstins: list[str], actor: str) -> int:
    """Suppliers the books or the 2B name, added to the master or given a name where they
    have none (typed names are never overwritten) -> how many rows were written."""
    written = 0
    for company in sorted({company_of(g) for g in gstins}):
        mine = [g for g in gstins if company_of(g) == company]
        found = supplier_names(mine)
        held = {r["stin"]: r for r in suppliers_of(company).iter_rows(named=True)}
        todo = {s: n for s, n in found.items() if gstin_problem(s) is None
                and not display_name(held.get(s))}
        if not todo:
            continue
        with connect() as con, transaction(con):
            for stin, name in sorted(todo.items()):
                row = dict(held.get(stin) or {}, supplier_gstin=stin, legal_name=name)
                _upsert(con, company, row, actor, "books or 2B")
            _log(con, actor, mine[0], "names filled",
                 f"{len(todo)} supplier names filled from the books and the GSTR-2B")
        written += len(todo)
    return written


def template_file(kind: str = "csv") -> bytes:
    frame = pl.DataFrame([TEMPLATE_ROW], schema=list(COLUMNS), orient="row")
    return to_excel_bytes(frame, "Suppliers") if kind == "xlsx" else to_csv_bytes(frame)


def export_frame(company: str) -> pl.DataFrame:
    return suppliers_of(company).select(pl.col("stin").alias("supplier_gstin"), *COLUMNS[1:])


def export_suppliers(company: str, kind: str = "csv") -> bytes:
    frame = export_frame(company)
    return to_excel_bytes(frame, "Suppliers") if kind == "xlsx" else to_csv_bytes(frame)
