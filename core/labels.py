"""What a person reads instead of the store's codes: match statuses, reason tokens, actions,
upload states, document types, sections, return periods and dates, each in plain words, with
a help text where the word alone is not enough (docs/reconciliation.md gives the rules).

Filters, keys and downloads' code columns keep the codes; only what is shown passes through
here. One order and one colour per match status, so every chart reads the same way.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.periods import period_words
from core.upload_words import STATE_WORDS

NOT_SYNCED = "not synced"
# status -> (words, help); in the order every chart and list shows them (good to bad)
STATUSES: dict[str, tuple[str, str]] = {
    "exact": ("Matched", "Same number, same date, amounts agree with the books"),
    "partial": ("Matched, written differently",
                "Same document as in the books, with the number or date written differently"),
    "manual": ("Matched by hand",
               ("A person paired this record with this books document; its differences are "
                "shown as for any pair, and the recommendation follows from them")),
    "probable": ("Probable match",
                 "Paired by similarity, amount alone or PAN: needs a person's look"),
    "mismatch": ("Amounts differ",
                 ("Same document as in the books, but amounts, place of supply or reverse "
                 "charge differ")),
    "duplicate": ("Duplicate", "The same document listed again on the same side"),
    "amended": ("Amended (older version)",
                ("An older version of a document its supplier amended: the latest version is "
                 "the one matched with the books; the books document is shown for reference")),
    "missing_in_pr": ("Missing in books", "On the portal, not in the purchase register"),
    "missing_in_portal": ("Missing on portal", "In the purchase register, not on the portal"),
    "not_in_2a": ("Supplier not filed (not in 2A)",
                  "An IMS record with no GSTR-2A counterpart: the supplier has not filed"),
    "rejected_in_ims": ("Rejected in IMS", ("In the GSTR-2B's rejected documents "
                                            "(docRejdata): no ITC from it in this 2B")),
    NOT_SYNCED: ("Not reconciled yet", "No reconciliation has looked at this record yet"),
    "(not synced)": ("Not reconciled yet", "No reconciliation has looked at this record yet"),
}
STATUS_ORDER = tuple(words for words, _ in STATUSES.values())
# one colour per status on every chart (good green, doubtful amber, bad red)
STATUS_COLOURS = {
    "Matched": "#1a7f37", "Matched, written differently": "#7cc47f",
    "Matched by hand": "#2f81f7",
    "Probable match": "#f2c14e", "Amounts differ": "#e8833a", "Duplicate": "#6e7781",
    "Amended (older version)": "#9a9fa6",
    "Missing in books": "#d1242f", "Missing on portal": "#8250df",
    "Supplier not filed (not in 2A)": "#bf3989", "Rejected in IMS": "#82071e",
    "Not reconciled yet": "#bbbbbb",
}
# reason token -> (words, help)
REASONS: dict[str, tuple[str, str]] = {
    "DOC_NO": ("Document number differs", "The numbers are written differently"),
    "DOC_DATE": ("Date differs", "The document dates differ"),
    "FY": ("Financial year differs", "The documents fall in different financial years"),
    "SUPPLIER_GSTIN": ("Supplier GSTIN differs", "Paired on PAN: the GSTINs differ"),
    "POS": ("Place of supply differs", "The place of supply differs"),
    "RCM": ("Reverse charge differs", "One side is under reverse charge, the other not"),
    "TAXABLE_VALUE": ("Taxable value differs", "Outside the tolerance"),
    "IGST": ("IGST differs", "Outside the tolerance"),
    "CGST": ("CGST differs", "Outside the tolerance"),
    "SGST": ("SGST differs", "Outside the tolerance"),
    "CESS": ("Cess differs", "Outside the tolerance"),
    "ORIGINAL_VALUES": ("Booked at the original values", ("The books agree with the "
                        "document before its amendment, not with the amendment: ask the "
                        "supplier which values are right")),
    "SUPERSEDED": ("Superseded by its amendment", ("An older version: the supplier amended "
                   "this document; the amendment is the one matched")),
    "ROUNDING": ("Rounding difference", ("An amount differs by more than 1 paisa, within the "
                 "tolerance")),
    "NO_TAX": ("No tax charged", ("A books document with no taxed line: not expected on the "
               "portal")),
    "NOT_FILED": ("Supplier has not filed", ("The credit reaches GSTR-2B only once the supplier "
                  "files: Pending now, act again then")),
    "PENDING_BLOCKED": ("Pending not allowed", ("The portal does not allow Pending for this "
                        "record, so the recommendation is Accept or Reject")),
    "BOE_NO_REJECT": ("Bill of entry: never rejected", ("Imports of goods cannot be rejected: "
                      "Pending (or Accept) instead")),
}
ACTIONS = {"A": "Accept", "R": "Reject", "P": "Pending", "N": "No action"}
ACTION_HELP = {"A": "Accept: the credit is taken", "R": "Reject: the supplier must amend",
               "P": "Pending: decide later, in a later return period",
               "N": "No action: the portal deems it accepted when the return is filed"}
DOC_TYPES = {"INV": "Invoice", "CRN": "Credit note", "DBN": "Debit note", "BOE": "Bill of entry"}
SECTIONS = {
    "b2b": "B2B invoices", "b2ba": "B2B amendments", "b2bcn": "Credit notes",
    "b2bcna": "Credit note amendments", "b2bdn": "Debit notes", "b2bdna": "Debit note amendments",
    "ecom": "E-commerce (9(5))", "ecoma": "E-commerce amendments", "impg": "Import of goods",
    "impga": "Import of goods amendments", "impgsez": "Import of goods from SEZ",
    "impgseza": "Import of goods from SEZ, amendments",
}
FILING = {"FILED": "Filed", "NOT FILED": "Not filed", "Y": "Filed", "N": "Not filed"}
RECO_KINDS = {"ims_vs_pr": "IMS vs Purchase Register", "2a_vs_pr": "GSTR-2A vs Purchase Register",
              "2b_vs_pr": "GSTR-2B vs Purchase Register"}
# GSTR-2B's itcavl / rsn (docs/portal-api.md, "GSTR-2B")
ITC_AVAILABLE = {"Y": "ITC available", "T": "ITC available for the time being (temporary)"}
ITC_REASONS = {"P": "the place of supply is in the supplier's own state, not in yours",
               "C": "the supplier filed after the time limit of section 16(4)",
               "ISD": "the input service distributor marked it ineligible"}
DATE_FORMAT = "%d %b %Y"


def status_words(status: str | None) -> str:
    """'missing_in_pr' -> 'Missing in books' (None: not reconciled yet)."""
    return STATUSES.get(status or NOT_SYNCED, (status, ""))[0]


def status_help(status: str | None) -> str:
    return STATUSES.get(status or NOT_SYNCED, ("", ""))[1]


def reason_words(token: str) -> str:
    return REASONS.get(token.strip(), (token.strip().replace("_", " ").capitalize(), ""))[0]


def reasons_words(reasons: str | None) -> str:
    """'TAXABLE_VALUE;CGST' -> 'Taxable value differs, CGST differs' ('' when none)."""
    return ", ".join(reason_words(t) for t in (reasons or "").split(";") if t.strip())


def action_words(code: str | None, empty: str = "None") -> str:
    """A / R / P / N in words; `empty` where there is none."""
    return ACTIONS.get(code, code) if code else empty


def upload_words(state: str | None) -> str:
    return STATE_WORDS.get(state, state or "")


def itc_words(itcavl: str | None, rsn: str | None = None) -> str:
    """GSTR-2B's ITC availability: 'ITC available', 'ITC not available: <reason>' ('' when
    not given)."""
    code = (itcavl or "").strip().upper()
    if code == "N":
        reason = (rsn or "").strip()
        return "ITC not available: " + (ITC_REASONS.get(reason.upper(), reason)
                                        or "no reason given")
    return ITC_AVAILABLE.get(code, code)


def doc_type_words(code: str | None) -> str:
    return DOC_TYPES.get(code, code or "")


def section_words(section: str | None) -> str:
    return SECTIONS.get(section, section or "")


def filing_words(status: str | None) -> str:
    return FILING.get((status or "").strip().upper(), status or "")


def periods_words(periods: str | None) -> str:
    """'102025,112025' -> 'Oct 2025, Nov 2025'."""
    return ", ".join(period_words(p.strip()) for p in (periods or "").split(",") if p.strip())


def date_words(value) -> str:
    """A date (or a date-time at midnight, or 'YYYY-MM-DD') as '20 Sep 2025'."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime(DATE_FORMAT)
    return str(value)


WORDS = {"match_status": status_words, "reasons": reasons_words, "doc_type": doc_type_words,
         "section": section_words, "srcfilstatus": filing_words, "upload_state": upload_words}
PERIOD_COLUMNS = ("rtnprd", "return_period", "period")


def worded(frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """`frame` with each code column named in `columns` replaced by its words: {column: kind},
    kind one of WORDS, 'action', 'period' or 'date'. Nulls become ''."""
    kinds = {**WORDS, "action": action_words, "period": period_words, "date": date_words,
             "action_or_blank": lambda c: action_words(c, "")}
    shown = [each(frame[name], kinds[kind], skip_nulls=False).fill_null("")
             for name, kind in columns.items() if name in frame.columns]
    return frame.with_columns(shown) if shown else frame


def each(values: pl.Series, fn, skip_nulls: bool = True, dtype=pl.Utf8) -> pl.Series:
    """`fn` of every value of a materialised column: a column named as `values` (nulls stay
    null; with `skip_nulls=False` `fn` is given None too).

    `fn` runs once per distinct value, in plain Python, and the column is then replaced in
    Polars (`replace_strict`): a column of a million records holds a few dozen statuses,
    periods or dates, so this costs what they cost (issue 29: a call per value cost most of a
    page's time). Never a Python function inside a Polars expression (`map_elements`,
    `map_batches`): Polars runs it on its thread pool, where it waits for the GIL, and another
    session's Polars call (`to_pandas()`) holds the GIL while it waits for that pool: the app
    froze (issue 29)."""
    distinct = values.drop_nulls().unique(maintain_order=True)
    words = pl.Series([fn(v) for v in distinct.to_list()], dtype=dtype)
    shown = values.replace_strict(distinct, words, default=None, return_dtype=dtype)
    if not skip_nulls and values.null_count():
        shown = shown.fill_null(pl.lit(fn(None), dtype=dtype))
    return shown.alias(values.name)


def event_words(event: str | None) -> str:
    """An audit event 'user_created' as 'User created'."""
    return (event or "").replace("_", " ").strip().capitalize()


# a download's columns in words, each from its code column: (heading, code column, kind)
WORDS_FIRST = (("Status", "match_status", "match_status"),
               ("Recommended action", "recommended_action", "action_or_blank"),
               ("Reasons", "reasons", "reasons"),
               ("Action on portal", "portal_action", "action"),
               ("My action", "user_action", "action_or_blank"),
               ("Upload", "upload_state", "upload_state"),
               ("Section", "section", "section"),
               ("Document type", "doc_type", "doc_type"),
               ("Return period", "return_period", "period"),
               ("Return period", "rtnprd", "period"))


def words_first(frame: pl.DataFrame) -> pl.DataFrame:
    """A download: the facts in words first, then every code column as it was
    (docs/interfaces.md)."""
    picked = {}
    for heading, column, kind in WORDS_FIRST:
        if column in frame.columns and heading not in picked:
            picked[heading] = worded(frame.select(column), {column: kind})[column]
    return pl.DataFrame([s.alias(h) for h, s in picked.items()]).hstack(frame) if picked \
        else frame


# the purchase register's fields (core/purchase/templates.py FIELDS) as a person names them
PURCHASE_FIELDS = {
    "company_gstin": "Company GSTIN", "supplier_gstin": "Supplier GSTIN",
    "supplier_name": "Supplier name", "doc_type": "Document type", "doc_no": "Document number",
    "doc_date": "Document date", "place_of_supply": "Place of supply",
    "reverse_charge": "Reverse charge", "taxable_value": "Taxable value", "igst": "IGST",
    "cgst": "CGST", "sgst": "SGST", "cess": "Cess", "doc_value": "Document value",
    "itc_claimed": "ITC claimed", "itc_claimed_igst": "ITC claimed IGST",
    "itc_claimed_cgst": "ITC claimed CGST", "itc_claimed_sgst": "ITC claimed SGST",
    "itc_claimed_cess": "ITC claimed cess",
}
SEVERITY = {"error": "Error", "warning": "Warning", "duplicate": "Duplicate"}


def field_words(field: str | None, column: str | None = None) -> str:
    """'Supplier GSTIN', with the file's own column when it is named otherwise:
    "Supplier GSTIN (column 'Party GSTIN')"; the field's name is never said twice."""
    words = PURCHASE_FIELDS.get(field or "", (field or "").replace("_", " ").capitalize())
    if column and column not in (field, words):
        return f"{words} (column '{column}')"
    return words
