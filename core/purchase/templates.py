"""Column-mapping templates for purchase-register files.

A template says which column of the file holds each canonical field, how dates are
written, how voucher/document types read, and the sign convention of credit notes.
Built-ins (`standard`, `tally`) live here; users save their own in `purchase_templates`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from core.purchase.read import FileProblem
from core.store import connect, transaction

FIELDS = ("company_gstin", "supplier_gstin", "supplier_name", "doc_type", "doc_no", "doc_date",
          "place_of_supply", "reverse_charge", "taxable_value", "igst", "cgst", "sgst", "cess",
          "doc_value", *("itc_claimed", "itc_claimed_igst", "itc_claimed_cgst",
                         "itc_claimed_sgst", "itc_claimed_cess"),  # these five: optional
          "itc_ineligible_reason")   # optional: 17(5), rule 38 / 42 / 43 (ITC summary 4(B)(1))
REQUIRED = ("supplier_gstin", "doc_type", "doc_no", "doc_date", "taxable_value")
CLAIMED = ("itc_claimed_igst", "itc_claimed_cgst", "itc_claimed_sgst", "itc_claimed_cess")
AMOUNTS = ("taxable_value", "igst", "cgst", "sgst", "cess", "doc_value", *CLAIMED)
CN_SIGNS = ("as_is", "negative", "positive")

# Document types as the supplier issued them (standard wording).
SUPPLIER_DOC_TYPES = {
    "INV": "INV", "INVOICE": "INV", "TAX INVOICE": "INV", "B2B": "INV", "PURCHASE": "INV",
    "CRN": "CRN", "CN": "CRN", "CREDIT NOTE": "CRN", "C": "CRN",
    "DBN": "DBN", "DN": "DBN", "DEBIT NOTE": "DBN", "D": "DBN", "I": "INV",
    "BOE": "BOE", "BILL OF ENTRY": "BOE",  # imports of goods (IMS impg); core.purchase.validate
}
DOC_TYPES = ("INV", "CRN", "DBN", "BOE")
# Voucher types as the buyer's books record them (Tally and most ERPs): the buyer's
# "Debit Note" voucher records the supplier's credit note, and the other way round.
BUYER_VOUCHER_TYPES = {
    "PURCHASE": "INV", "PURCHASE INVOICE": "INV", "PURCHASES": "INV", "INVOICE": "INV",
    "DEBIT NOTE": "CRN", "PURCHASE RETURN": "CRN", "CREDIT NOTE": "DBN",
}


@dataclass
class Template:
    name: str
    mapping: dict[str, str]         # canonical field -> column header in the file
    date_format: str | None = None  # strftime; None = YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY
    cn_sign: str = "as_is"          # as_is | negative | positive
    doc_types: dict[str, str] = field(default_factory=lambda: dict(SUPPLIER_DOC_TYPES))
    builtin: bool = False

    def to_dict(self) -> dict:
        return {"name": self.name, "mapping": self.mapping, "date_format": self.date_format,
                "cn_sign": self.cn_sign, "doc_types": self.doc_types, "builtin": self.builtin}


STANDARD = Template("standard", {f: f for f in FIELDS}, builtin=True)
TALLY = Template(
    "tally",
    {"doc_date": "Date", "supplier_name": "Particulars", "supplier_gstin": "Party GSTIN/UIN",
     "doc_type": "Voucher Type", "doc_no": "Supplier Invoice No.",
     "taxable_value": "Taxable Amount",
     "igst": "Integrated Tax Amount", "cgst": "Central Tax Amount", "sgst": "State Tax Amount",
     "cess": "Cess Amount", "doc_value": "Gross Total", "itc_claimed": "ITC Claimed",
     "itc_claimed_igst": "ITC Claimed Integrated Tax", "itc_claimed_cgst": "ITC Claimed Central Tax",
     "itc_claimed_sgst": "ITC Claimed State Tax", "itc_claimed_cess": "ITC Claimed Cess",
     "itc_ineligible_reason": "ITC Ineligible Reason"},
    date_format="%d-%b-%y", doc_types=dict(BUYER_VOUCHER_TYPES), builtin=True)
BUILTINS = {t.name: t for t in (STANDARD, TALLY)}

SYNONYMS = {
    "company_gstin": ["company gstin", "our gstin", "recipient gstin", "buyer gstin",
                      "gstin of recipient", "rtin", "own gstin"],
    "supplier_gstin": ["supplier gstin", "party gstin", "party gstin uin", "gstin uin",
                       "gstin of supplier", "vendor gstin", "ctin", "stin", "gstin"],
    "supplier_name": ["supplier name", "party name", "vendor name", "particulars", "supplier",
                      "party", "vendor", "trade name", "legal name"],
    "doc_type": ["doc type", "document type", "voucher type", "type", "note type", "invoice type"],
    "doc_no": ["doc no", "document number", "supplier invoice no", "invoice number", "invoice no",
               "bill no", "bill number", "reference no", "ref no", "note number", "inum"],
    "doc_date": ["doc date", "document date", "invoice date", "bill date", "date", "voucher date",
                 "idt"],
    "place_of_supply": ["place of supply", "pos"],
    "reverse_charge": ["reverse charge", "rcm", "reverse charge applicable"],
    "taxable_value": ["taxable value", "taxable amount", "assessable value", "txval", "taxable"],
    "igst": ["igst", "integrated tax", "integrated tax amount", "igst amount", "iamt"],
    "cgst": ["cgst", "central tax", "central tax amount", "cgst amount", "camt"],
    "sgst": ["sgst", "state tax", "state tax amount", "sgst amount", "sgst utgst", "utgst",
             "state ut tax", "samt"],
    "cess": ["cess", "cess amount", "csamt"],
    "doc_value": ["doc value", "invoice value", "gross total", "total", "total amount",
                  "document value", "bill amount", "val"],
    "itc_claimed": ["itc claimed", "itc availed", "claim itc", "eligible for itc"],
    **{f"itc_claimed_{h}": [f"itc claimed {h}", f"itc availed {h}", f"itc claimed {long}",
                            f"itc claimed {long} amount"]
       for h, long in (("igst", "integrated tax"), ("cgst", "central tax"),
                       ("sgst", "state tax"), ("cess", "cess amount"))},
    "itc_ineligible_reason": ["itc ineligible reason", "ineligible reason", "itc ineligible",
                              "blocked credit", "ineligible itc reason"],
}


def norm_header(text: str) -> str:
    """'Party GSTIN/UIN ' -> 'party gstin uin' (case, punctuation and spacing ignored)."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split())


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    """Canonical field -> header, guessed from the header names (exact synonyms first)."""
    by_norm = {norm_header(h): h for h in headers}
    taken, mapping = set(), {}
    for fld in FIELDS:
        for name in [norm_header(fld)] + SYNONYMS.get(fld, []):
            header = by_norm.get(name)
            if header is not None and header not in taken:
                mapping[fld] = header
                taken.add(header)
                break
    return mapping


def header_score(template: Template) -> callable:
    """How many of the template's columns a candidate header row holds."""
    wanted = {norm_header(h) for h in template.mapping.values()}
    return lambda cells: sum(norm_header(c) in wanted for c in cells)


def resolve_columns(template: Template, headers: list[str], file: str,
                    have_company: bool) -> dict[str, str]:
    """Canonical field -> actual header of this file; FileProblem when required ones are missing."""
    by_norm = {norm_header(h): h for h in headers if not h.startswith("__")}
    found = {f: by_norm[norm_header(h)] for f,
             h in template.mapping.items() if norm_header(h) in by_norm}
    needed = list(REQUIRED) + ([] if have_company else ["company_gstin"])
    missing = [f for f in needed if f not in found]
    if missing:
        wanted = ", ".join(f"{f} (column '{template.mapping.get(f, f)}')" for f in missing)
        shown = ", ".join(h for h in headers if not h.startswith("__"))[:300]
        hint = _layout_hint(template, by_norm)
        if missing == ["company_gstin"]:
            hint = " The file has no company GSTIN: give it with --company-gstin."
        raise FileProblem(file, f"template '{template.name}' needs {wanted}, not found in the "
                                f"header ({shown}).{hint}", field=missing[0])
    return found


def _layout_hint(template: Template, by_norm: dict[str, str]) -> str:
    """' It looks like the tally layout ...' when another built-in template fits the header."""
    for other in BUILTINS.values():
        if other.name != template.name and all(norm_header(other.mapping[f]) in by_norm
                                               for f in REQUIRED if f in other.mapping):
            return (f" It looks like the '{other.name}' layout: use template '{other.name}' "
                    f"(--template {other.name}).")
    return ""


def get_template(name: str) -> Template:
    if name in BUILTINS:
        return BUILTINS[name]
    with connect() as con:
        row = con.execute("SELECT name, mapping, date_format, cn_sign, options FROM "
                          "purchase_templates WHERE name = ?", [name]).fetchone()
    if row is None:
        saved = [t["name"] for t in list_templates() if not t["builtin"]]
        known = ", ".join(list(BUILTINS) + saved)
        raise ValueError(f"unknown template '{name}' (known: {known})")
    options = json.loads(row[4] or "{}")
    return Template(row[0], json.loads(row[1]), row[2], row[3] or "as_is",
                    options.get("doc_types") or dict(SUPPLIER_DOC_TYPES))


def save_template(name: str, mapping: dict[str, str], date_format: str | None = None,
                  cn_sign: str = "as_is", doc_types: dict[str, str] | None = None,
                  actor: str = "cli") -> Template:
    """Create or replace a user template (built-in names are reserved)."""
    if not name or name in BUILTINS:
        raise ValueError(f"'{name}' is a built-in template name; choose another")
    unknown = [f for f in mapping if f not in FIELDS]
    if unknown:
        raise ValueError(f"unknown fields in mapping: {', '.join(unknown)} (fields: "
                         f"{', '.join(FIELDS)})")
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise ValueError(f"the mapping must name a column for: {', '.join(missing)}")
    if cn_sign not in CN_SIGNS:
        raise ValueError(f"cn_sign must be one of {', '.join(CN_SIGNS)}")
    types = {k.strip().upper(): v for k, v in (doc_types or SUPPLIER_DOC_TYPES).items()}
    bad = [v for v in types.values() if v not in DOC_TYPES]
    if bad:
        raise ValueError(f"document types map to {', '.join(DOC_TYPES)}, not {', '.join(bad)}")
    with connect() as con, transaction(con):
        con.execute("DELETE FROM purchase_templates WHERE name = ?", [name])
        con.execute("INSERT INTO purchase_templates (name, mapping, date_format, cn_sign, options, "
                    "created_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [name, json.dumps(mapping), date_format, cn_sign,
                     json.dumps({"doc_types": types}), actor])
    return Template(name, dict(mapping), date_format, cn_sign, types)


def list_templates() -> list[dict]:
    """Built-ins then saved templates, as dicts."""
    with connect() as con:
        rows = con.execute("SELECT name FROM purchase_templates ORDER BY name").fetchall()
    saved = [get_template(r[0]).to_dict() for r in rows]
    return [t.to_dict() for t in BUILTINS.values()] + saved


def delete_template(name: str) -> bool:
    with connect() as con:
        return bool(con.execute("DELETE FROM purchase_templates WHERE name = ? RETURNING name",
                                [name]).fetchall())
