"""Parse and validate purchase-register lines (vectorised); core/purchase/documents.py sums
them into documents.

Each check is a Polars expression over all lines; GSTINs are checked once per unique
value. Problems name the file, the 1-based data line, the field and the value.
Money becomes integer paise (half-up at the paisa), signed per line; a document's
amounts are the absolute values of its line sums (docs/reconciliation.md "Inputs").

Imports of services (an invoice under reverse charge with the supplier GSTIN blank or `URP`)
are accepted without a GSTIN (`is_import_of_services`).

Bills of entry (doc type `BOE` / `Bill of Entry`, imports of goods): IMS names a bill of entry
by port code and BOE number (`impg`, `impga`) or by the SEZ unit's GSTIN (`impgsez`,
`impgseza`), so the supplier GSTIN cell of a BOE holds the 6-character port code (e.g.
INNSA1, kept in capitals) or the SEZ unit's GSTIN; anything else is an error. A blank one is
kept with a warning (it cannot be matched to the portal's record). CGST/SGST on a BOE is a
warning (imports carry IGST).
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import polars.selectors as cs

from core.gstin import STATES, gstin_problem
from core.purchase.read import LINE, RawTable
from core.purchase.templates import AMOUNTS, FIELDS, Template, resolve_columns

AUTO_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%b-%Y", "%d-%b-%y",
                     "%d %b %Y")
EXCEL_EPOCH = dt.date(1899, 12, 30)
# the most one line may carry (₹1,00,000 crore, in paise): more is a wrong column or a
# misplaced decimal point, and a document of such lines would not fit the store's amounts
MAX_LINE_PAISE = 10**14
PAISE = {"taxable_value": "txval", "igst": "igst", "cgst": "cgst", "sgst": "sgst", "cess": "cess",
         "doc_value": "doc_value", **{f"itc_claimed_{h}": f"claimed_{h}"
                                      for h in ("igst", "cgst", "sgst", "cess")}}
PROBLEM_SCHEMA = {"file": pl.Utf8, "line": pl.Int64, "row": pl.Int64, "field": pl.Utf8,
                  "column": pl.Utf8, "value": pl.Utf8, "message": pl.Utf8, "severity": pl.Utf8}
VALUE_COLUMN = {"company_gstin": "rtin", "supplier_gstin": "stin"}
# a date written in one of the accepted shapes (its day or month may still not exist)
DATE_SHAPE = r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{4})$"
STATE_BY_NAME = {name.lower(): code for code, name in STATES.items()}
RCM_VALUES = {"Y": "Y", "YES": "Y", "TRUE": "Y", "1": "Y", "N": "N", "NO": "N", "FALSE": "N",
              "0": "N", "": "N"}


def _doc_type_key(text: pl.Expr) -> pl.Expr:
    """'Credit_Note' / 'credit-note ' -> 'CREDIT NOTE'."""
    return text.str.to_uppercase().str.replace_all(r"[\s_.-]+", " ").str.strip_chars()


def _rcm_key(text: pl.Expr) -> pl.Expr:
    """'Yes' / 'true' / '1' -> 'Y'; 'No' / '' -> 'N'; anything else null."""
    return text.fill_null("").str.to_uppercase().replace_strict(RCM_VALUES, default=None,
                                                                return_dtype=pl.Utf8)


# NUL and the other control characters (tab, line breaks aside) are never part of a name or
# a number: dropped from every field before anything else reads it (issue 29.10).
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _text_missing(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column) == "")


def canonical_lines(raw: RawTable, template: Template,
                    company_gstin: str | None) -> tuple[pl.DataFrame, dict]:
    """The file's columns renamed to canonical fields (missing optional ones as null text)."""
    headers = [c for c in raw.frame.columns if c != LINE]
    columns = resolve_columns(template, headers, raw.file, have_company=bool(company_gstin))
    # by_name: a header is a name, never a pattern ("*" or "^...$" are Polars' wildcards)
    def cleaned(column: str) -> pl.Expr:
        text = cs.by_name(column).as_expr()
        if raw.control_chars:    # a file without any (most) skips the pattern on every cell
            text = text.str.replace_all(CONTROL_CHARS, "")
        return text.str.strip_chars()
    exprs = [(cleaned(columns[f]) if f in columns else pl.lit(None, pl.Utf8)).alias(text_of(f))
             for f in FIELDS]
    return raw.frame.select(pl.col(LINE), *exprs), columns


def parse_lines(lines: pl.DataFrame, template: Template, company_gstin: str | None,
                kind: str) -> pl.DataFrame:
    """Typed columns next to the text ones: rtin, stin, doc_type, doc_date, pos, rcm, paise amounts.

    Columns with few distinct values (type, date, place, reverse charge) are parsed once per
    distinct value and mapped back. `stin` is '' for a blank supplier GSTIN (a bill of entry's
    port code is its supplier: module docstring).
    """
    company = pl.col("company_gstin").str.to_uppercase()
    if company_gstin:
        given = pl.lit(company_gstin.strip().upper())
        company = pl.when(company.is_null() | (company == "")).then(given).otherwise(company)
    out = lines.with_columns(
        rtin=company,
        doc_type_code=_per_value(lines, "doc_type", lambda c: _doc_type_key(c).replace_strict(
            template.doc_types, default=None, return_dtype=pl.Utf8), pl.Utf8),
        doc_no_key=pl.col("doc_no").str.to_uppercase(),
        doc_date_parsed=_per_value(lines, "doc_date",
                                   lambda c: date_expr(c, template.date_format, kind), pl.Date),
        rcm=_per_value(lines, "reverse_charge", _rcm_key, pl.Utf8),
        pos_code=_per_value(lines, "place_of_supply", _pos_expr, pl.Utf8),
    )
    out = with_paise(out.with_columns(stin=_supplier_expr()))
    blank_pos = pl.col("place_of_supply").is_null() | (pl.col("place_of_supply") == "")
    return out.with_columns(pos=pl.when(blank_pos).then(pl.col("rtin").str.slice(0, 2))
                            .otherwise(pl.col("pos_code")))


PORT_CODE = r"^IN[A-Z0-9]{4}$"     # Indian customs port codes: INNSA1, INMAA1, INDEL4, ...


def _supplier_expr() -> pl.Expr:
    """Supplier GSTIN (or a bill of entry's port code) upper-cased, '' when blank."""
    return pl.col("supplier_gstin").str.to_uppercase().fill_null("")


def _is_boe() -> pl.Expr:
    return pl.col("doc_type_code").eq_missing("BOE")


def is_import_of_services() -> pl.Expr:
    """An import of services: an invoice under reverse charge from a supplier without a GSTIN
    (supplier GSTIN blank or URP); it feeds 4(A)(2) of the ITC summary."""
    return (pl.col("stin").is_in(["", "URP"]) & pl.col("doc_type_code").eq_missing("INV")
            & pl.col("rcm").eq_missing("Y"))


def _per_value(frame: pl.DataFrame, column: str, parse, dtype) -> pl.Expr:
    """`parse` evaluated once per distinct value of `column`, mapped back onto every line."""
    distinct = frame.select(pl.col(column).unique().drop_nulls())
    parsed = distinct.select(pl.col(column), parse(pl.col(column)).cast(dtype).alias("parsed"))
    if frame[column].null_count():
        null_value = pl.select(parse(pl.lit(None, pl.Utf8)).cast(dtype)).item()
    else:
        null_value = None
    return pl.col(column).replace_strict(parsed[column], parsed["parsed"], default=None,
                                         return_dtype=dtype).fill_null(pl.lit(null_value, dtype))


def text_of(fld: str) -> str:
    """Column holding a field's text: amounts get a suffix (their parsed paise take the short
    name)."""
    return f"{fld}_text" if fld in AMOUNTS else fld


def say(template: str, *values: pl.Expr) -> pl.Expr:
    """`template` with each `{}` replaced by the next value's text (null when any value is null).

    Does what pl.format does, with pl.concat_str: Polars 2.1's pl.format panics
    ("assertion failed: i < self.len()") on a column whose chunk list holds an empty chunk,
    which DataFrame.filter leaves when a multi-chunk frame (a larger CSV file is read in
    chunks) has no hit in one chunk. concat_str handles such columns.
    """
    texts = template.split("{}")
    if len(texts) != len(values) + 1:
        raise ValueError(f"template {template!r} wants {len(texts) - 1} values, got {len(values)}")
    parts = [pl.lit(texts[0])] if texts[0] else []
    for value, text in zip(values, texts[1:]):
        parts += [value.cast(pl.Utf8)] + ([pl.lit(text)] if text else [])
    return pl.concat_str(parts or [pl.lit("")])


def date_expr(text: pl.Expr, date_format: str | None, kind: str) -> pl.Expr:
    """Date text as a Date: the format given, else the accepted shapes (AUTO_DATE_FORMATS;
    ISO with a time; Excel serial numbers in a workbook); null where none fits."""
    iso = text.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "$1")
    formats = (([date_format] if date_format else [])
               + [f for f in AUTO_DATE_FORMATS if f != date_format])
    parsed = [iso.str.to_date(f, strict=False) for f in formats]
    if kind == "xlsx":
        serial = text.str.extract(r"^(\d{5})(?:\.0+)?$").cast(pl.Int64)
        parsed.append(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial))
    return pl.coalesce(parsed)


def with_paise(frame: pl.DataFrame) -> pl.DataFrame:
    """Amount text -> Int64 paise (half-up), plus `<field>_blank` and `<field>_nan` flags.

    Plain numbers are cast directly; only lines that do not cast (e.g. '1,00,000.50',
    '(90)', 'Rs 5', '-', text) go through the cleaning, so a clean file costs one cast.
    """
    frame = frame.with_columns(
        *[_to_v4(pl.col(text_of(a))).alias(PAISE[a]) for a in AMOUNTS],
        *[(pl.col(text_of(a)).is_null() | (pl.col(text_of(a)) == "")).alias(f"{a}_blank")
          for a in AMOUNTS],
        *[pl.lit(False).alias(f"{a}_nan") for a in AMOUNTS])
    odd = pl.any_horizontal(pl.col(PAISE[a]).is_null() & ~pl.col(f"{a}_blank") for a in AMOUNTS)
    subset = frame.filter(odd)
    if subset.height:
        frame = frame.update(_clean_amounts(subset), on=LINE)
    return frame.with_columns(
        (pl.col(p).sign() * ((pl.col(p).abs() + 50) // 100)).alias(p) for p in PAISE.values())


def _to_v4(text: pl.Expr) -> pl.Expr:
    """Rupees text -> Int64 ten-thousandths of a rupee (null when not a plain number)."""
    return (text.cast(pl.Decimal(20, 4), strict=False) * 10000).cast(pl.Int64, strict=False)


def _clean_amounts(subset: pl.DataFrame) -> pl.DataFrame:
    """The slow path for the few odd amount cells: strip grouping, currency, brackets."""
    texts = {a: pl.col(text_of(a)) for a in AMOUNTS}
    for junk in (",", " ", "\u00a0", "₹"):
        texts = {a: t.str.replace_all(junk, "", literal=True) for a, t in texts.items()}
    for prefix in ("'", "Rs.", "Rs", "INR"):
        texts = {a: t.str.strip_prefix(prefix) for a, t in texts.items()}
    out = subset.select(LINE, *[t.alias(a) for a, t in texts.items()])
    out = out.with_columns(
        pl.when(pl.col(a).str.starts_with("(") & pl.col(a).str.ends_with(")"))
        .then(pl.lit("-") + pl.col(a).str.strip_prefix("(").str.strip_suffix(")"))
        .otherwise(pl.col(a)).alias(a) for a in AMOUNTS)
    out = out.with_columns(*[_to_v4(pl.col(a)).alias(PAISE[a]) for a in AMOUNTS],
                           *[(pl.col(a).is_null() | pl.col(a).is_in(["", "-"]))
                             .alias(f"{a}_blank") for a in AMOUNTS])
    return out.select(LINE, *[pl.col(PAISE[a]) for a in AMOUNTS], *[f"{a}_blank" for a in AMOUNTS],
                      *[(~pl.col(f"{a}_blank") & pl.col(PAISE[a]).is_null()).alias(f"{a}_nan")
                        for a in AMOUNTS])


def _pos_expr(text: pl.Expr) -> pl.Expr:
    """'27', '7', '27-Maharashtra' or 'Maharashtra' -> '27'; null when blank or unknown."""
    code = text.str.extract(r"^(\d{1,2})(?:\D.*)?$").str.pad_start(2, "0")
    by_name = text.str.to_lowercase().replace_strict(STATE_BY_NAME, default=None,
                                                     return_dtype=pl.Utf8)
    return pl.coalesce(code, by_name)


# ---------------------------------------------------------------- checks

def line_problems(parsed: pl.DataFrame, company_gstins: list[str] | None,
                  today: dt.date) -> list[pl.DataFrame]:
    """One frame per check: line, field, value, message, severity."""
    checks = [*_gstin_checks(parsed, company_gstins), *_field_checks(today), *_amount_checks()]
    frames = []
    for cond, fld, message, severity in checks:
        hit = parsed.filter(cond)
        if hit.height:
            frames.append(hit.select(
                pl.col(LINE).alias("line"), pl.lit(fld).alias("field"),
                pl.col(VALUE_COLUMN.get(fld, text_of(fld))).cast(pl.Utf8).alias("value"),
                                     message.alias("message"),
                pl.lit(severity).alias("severity")))
    return frames


def _gstin_checks(parsed: pl.DataFrame, company_gstins: list[str] | None) -> list[tuple]:
    stin_bad = _unique_problems(parsed["stin"])
    rtin_bad = _unique_problems(parsed["rtin"])
    boe_port = _is_boe() & ((pl.col("stin") == "") | pl.col("stin").str.contains(PORT_CODE))
    services = is_import_of_services()
    checks = [
        (_is_boe() & (pl.col("stin") == ""), "supplier_gstin",
         pl.lit("a bill of entry without its port code (e.g. INNSA1) or SEZ unit GSTIN cannot be "
                "matched to the portal's record"), "warning"),
        (pl.col("stin").is_in(list(stin_bad)) & ~boe_port & ~services, "supplier_gstin",
         pl.when(_is_boe()).then(say("supplier GSTIN '{}' of a bill of entry is neither a port "
                                     "code (e.g. INNSA1), a GSTIN nor blank",
                                     pl.col("supplier_gstin")))
         .otherwise(pl.col("stin").replace_strict(stin_bad, default="", return_dtype=pl.Utf8)),
         "error"),
        (pl.col("rtin").is_in(list(rtin_bad)), "company_gstin",
         pl.col("rtin").replace_strict(rtin_bad, default="", return_dtype=pl.Utf8), "error"),
    ]
    if company_gstins is not None:
        known = sorted(company_gstins)
        shown = ", ".join(known[:5]) or "none yet"
        checks.append((~pl.col("rtin").is_in(known) & ~pl.col("rtin").is_in(list(rtin_bad)),
                       "company_gstin",
                       say("company GSTIN {} is not a configured business (configured: "
                           + shown + ")", pl.col("rtin")), "error"))
    return checks


def _unique_problems(values: pl.Series) -> dict[str, str]:
    """GSTIN -> problem sentence, computed once per unique value (nulls become '')."""
    bad = {}
    for value in values.fill_null("").unique().to_list():
        problem = gstin_problem(value)
        if problem:
            bad[value] = problem
    return bad


def _field_checks(today: dt.date) -> list[tuple]:
    three_years = today.replace(year=today.year - 3, day=min(today.day, 28))
    return [
        (pl.col("doc_type_code").is_null(), "doc_type",
         say("document type '{}' is not known (use INV, CRN, DBN or BOE; or Invoice, Credit Note, "
             "Debit Note, Bill of Entry)",
                   pl.col("doc_type").fill_null("")), "error"),
        (_text_missing("doc_no"), "doc_no", pl.lit("document number is empty"), "error"),
        (pl.col("doc_no").str.len_chars() > 16, "doc_no",
         say("document number '{}' has {} characters; GSTN allows 16", pl.col("doc_no"),
                   pl.col("doc_no").str.len_chars()), "warning"),
        (pl.col("doc_no").str.contains(r"[^A-Za-z0-9/\-]"), "doc_no",
         say("document number '{}' has characters GSTN does not allow (only letters, digits, - and "
             "/)",
                   pl.col("doc_no")), "warning"),
        (pl.col("doc_date_parsed").is_null(), "doc_date",
         pl.when(pl.col("doc_date").fill_null("").str.contains(DATE_SHAPE))
         .then(say("date '{}' does not exist (no such day in that month)",
                   pl.col("doc_date")))
         .otherwise(say("date '{}' is not a date (use YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY)",
                        pl.col("doc_date").fill_null(""))), "error"),
        (pl.col("doc_date_parsed") > today, "doc_date",
         say("date {} is in the future", pl.col("doc_date_parsed")), "warning"),
        (pl.col("doc_date_parsed") < three_years, "doc_date",
         say("date {} is more than 3 years old", pl.col("doc_date_parsed")), "warning"),
        (pl.col("pos").is_null() | ~pl.col("pos").is_in(list(STATES) + ["96"]), "place_of_supply",
         say("place of supply '{}' is not a state code (e.g. 27 or 27-Maharashtra)",
                   pl.col("place_of_supply").fill_null("")), "error"),
        (pl.col("rcm").is_null(), "reverse_charge",
         say("reverse charge '{}' is not Y or N", pl.col("reverse_charge")), "error"),
    ]


def _amount_checks() -> list[tuple]:
    checks = []
    for fld, paise in PAISE.items():
        checks.append((pl.col(f"{fld}_nan"), fld,
                       say("'{}' is not a number", pl.col(text_of(fld))), "error"))
        checks.append((pl.col(paise).abs() > MAX_LINE_PAISE, fld,
                       say("'{}' is more than ₹1,00,000 crore on one line: check the column "
                           "(a number from another column, or a misplaced decimal point)",
                           pl.col(text_of(fld))), "error"))
    checks.append((pl.col("taxable_value_blank"), "taxable_value",
                   pl.lit("taxable value is empty"), "error"))
    known_pos = (pl.col("pos").is_in(list(STATES) + ["96"]) & ~_is_boe()
                 & pl.col("stin").str.contains(r"^\d{2}"))
    split_tax = (pl.col("cgst").fill_null(0) != 0) | (pl.col("sgst").fill_null(0) != 0)
    intra = known_pos & (pl.col("stin").str.slice(0, 2) == pl.col("pos"))
    inter = known_pos & (pl.col("stin").str.slice(0, 2) != pl.col("pos"))
    checks.append((_is_boe() & split_tax, "cgst",
                   pl.lit("CGST/SGST on a bill of entry (imports of goods carry IGST)"), "warning"))
    checks.append((intra & (pl.col("igst").fill_null(0) != 0), "igst",
                   say("IGST on a supply within state {} (supplier and place of supply in the same "
                             "state normally carry CGST + SGST)", pl.col("pos")), "warning"))
    checks.append((inter & split_tax, "cgst",
                   say("CGST/SGST on a supply from state {} to place of supply {} (inter-state "
                             "supplies normally carry IGST)", pl.col("stin").str.slice(0, 2),
                       pl.col("pos")),
                   "warning"))
    return checks
