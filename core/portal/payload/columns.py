"""IMS GETINV and GSTR-2A answers read by columns: one list per field, then Polars
expressions, with no helper call per field and no record dict built (docs/portal-api.md,
"Reading by columns").

`ims_columns(data)` / `gstr2a_columns(data)` give `records_frame(flatten_...(payload))` for a
clean payload, or None as soon as any value is not of the plain kind: text where text is due,
a finite number (not a boolean, not numeric text) where an amount is due, a DD-MM-YYYY date,
Y / N flags, C / D note types, objects and lists where the layout has them. The caller then
runs the per-record reader, which raises the PayloadError naming section, record and field,
so messages stay the same whichever way a payload is read.
"""
from __future__ import annotations

from itertools import repeat
from operator import itemgetter

import polars as pl

from core.documents import IMPORT_SECTIONS, PORT_SECTIONS, SECTION_DOC_TYPE
from core.gstin import is_valid_gstin
from core.portal.payload.fields import (
    GSTR2A_SECTIONS,
    IMS_SECTIONS,
    NOTE_TYPE,
    RECORD_FIELDS,
    RECORD_SCHEMA,
    _text,
)

TEXT_TYPES = {str, type(None)}
NUMBER_TYPES = {int, float, type(None)}
EXACT_RUPEES = 2 ** 53 / 100   # beyond this a float's paise are not exact: read per record
DATE_SHAPE = r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$"
# What Python's str.strip() strips (the per-record reader's _text): Polars' strip_chars() without
# characters strips Unicode white space, which leaves out the four ASCII separators \x1c-\x1f.
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                 "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
ITEM_AMOUNTS = {"txval": ("txval",), "igst": ("iamt",), "cgst": ("camt",), "sgst": ("samt",),
                "cess": ("csamt", "cess")}


class _Unclean(Exception):
    """A value the columns cannot read exactly as the per-record reader would."""


# ---------------------------------------------------------------- raw columns


def _objects(values, what: type) -> list:
    if type(values) is not list or (values and set(map(type, values)) != {what}):
        raise _Unclean
    return values


def _raw(rows: list[dict], found: dict, name: str, kinds: set, dtype) -> pl.Series:
    """One field of every row, as found; _Unclean when a value is of another kind."""
    if name not in found:
        return pl.repeat(None, len(rows), dtype=dtype, eager=True).alias(name)
    values = found[name]
    if values is None:   # not in every row
        values = list(map(dict.get, rows, repeat(name)))
    if kinds is NUMBER_TYPES and not set(map(type, values)) <= kinds:
        raise _Unclean   # a Float64 series would take booleans as 1.0 and 0.0
    try:   # a text series refuses numbers, booleans, lists and objects
        return pl.Series(name, values, dtype=dtype, strict=True)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        raise _Unclean from None


def _gather(rows: list[dict], names: tuple) -> dict:
    """{field: its values, or None when some rows lack it} for the fields any row has; the
    fields every row has are read in one pass (itemgetter, zip)."""
    anywhere, lengths = set().union(*rows), set(map(len, rows))
    if lengths == {len(anywhere)}:   # every row holds every field: no second pass
        everywhere = anywhere
    else:
        everywhere = set(rows[0]).intersection(*rows)
    found = dict.fromkeys(n for n in dict.fromkeys(names) if n in anywhere)
    common = [n for n in found if n in everywhere]
    if len(common) > 1:
        found.update(zip(common, zip(*map(itemgetter(*common), rows))))
    return found


def _raw_frame(rows: list[dict], texts: tuple, amounts: tuple) -> pl.DataFrame:
    found = _gather(rows, (*texts, *amounts))
    return pl.DataFrame([*(_raw(rows, found, t, TEXT_TYPES, pl.Utf8) for t in texts),
                         *(_raw(rows, found, a, NUMBER_TYPES, pl.Float64) for a in amounts)])


# ---------------------------------------------------------------- readers as expressions


def _text_of(*names: str) -> pl.Expr:
    """_text of the first spelling given (not missing, not ''), stripped; None when none."""
    cleaned = [pl.when(pl.col(n) == "").then(None)
               .otherwise(pl.col(n).str.strip_chars(PY_WHITESPACE))
               for n in names]
    return pl.coalesce(cleaned) if len(cleaned) > 1 else cleaned[0]


def _date_problem(text: pl.Expr) -> pl.Expr:
    parsed = text.str.strptime(pl.Date, "%d-%m-%Y", strict=False)
    return text.is_not_null() & (~text.str.contains(DATE_SHAPE) | parsed.is_null()
                                 | (parsed.dt.year() < 1))


def _date_of(text: pl.Expr) -> pl.Expr:
    return text.str.strptime(pl.Date, "%d-%m-%Y", strict=False)


def _amount_of(*names: str, optional: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(absolute paise, problem) of the first spelling present; missing -> 0 (or None)."""
    rupees = pl.coalesce([pl.col(n) for n in names]) if len(names) > 1 else pl.col(names[0])
    scaled = rupees * 100
    problem = rupees.is_not_null() & (~rupees.is_finite() | (rupees.abs() >= EXACT_RUPEES)
                                      | ((scaled - scaled.round(0)).abs() >= 1e-6))
    paise = scaled.round(0).abs().cast(pl.Int64)
    return (paise if optional else paise.fill_null(0)), problem


def _check(frame: pl.DataFrame, problems: list[pl.Expr]) -> None:
    if frame.height and frame.select(pl.any_horizontal(problems).any()).item():
        raise _Unclean


def _with_gstin_check(frame: pl.DataFrame, applies: pl.Expr) -> pl.DataFrame:
    """stin_valid from the distinct supplier GSTINs (a few thousand, not one per record)."""
    distinct = frame["stin"].drop_nulls().unique().to_list()
    valid = {s: is_valid_gstin(s) for s in distinct}
    return frame.with_columns(
        pl.when(applies).then(pl.col("stin").replace_strict(valid, default=None,
                                                             return_dtype=pl.Boolean))
        .alias("stin_valid"))


def _finish(parts: list[pl.DataFrame]) -> pl.DataFrame:
    if not parts:
        return pl.DataFrame(schema=RECORD_SCHEMA)
    return pl.concat([p.select([pl.col(f).cast(RECORD_SCHEMA[f]) if f in p.columns
                                else pl.lit(None, RECORD_SCHEMA[f]).alias(f)
                                for f in RECORD_FIELDS]) for p in parts])


# ---------------------------------------------------------------- IMS


def _ims_fields(section: str) -> tuple[tuple, tuple, tuple]:
    """(supplier spellings, (doc_no, doc_date) spellings, (orig no, orig date))."""
    supplier = ("portcode", "portcd") if section in PORT_SECTIONS else ("stin", "sgstin", "ctin")
    if section in IMPORT_SECTIONS:
        return supplier, (("boenum", "inum"), ("boedt", "idt")), ("oboenum", "oboedt")
    if section.startswith(("b2bcn", "b2bdn")):
        return supplier, (("nt_num",), ("nt_dt",)), ("ont_num", "ont_dt")
    return supplier, (("inum",), ("idt",)), ("oinum", "oidt")


IMS_TEXTS = ("inv_typ", "pos", "srcform", "rtnprd", "srcfilstatus", "action", "hash", "remarks",
             "ispendactblocked", "ispendactnallwd", "itcRedReq", "itc_red_req",
             "isItcRedReqBlocked", "isitcredreqblocked", "isRemarksBlocked", "isremarksblocked")
IMS_AMOUNTS = {"val": ("val",), "txval": ("txval",), "igst": ("iamt",), "cgst": ("camt",),
               "sgst": ("samt",), "cess": ("cess", "csamt")}
IMS_DECLARED = {"decl_igst": "declIgst", "decl_cgst": "declCgst", "decl_sgst": "declSgst",
                "decl_cess": "declCess"}


def ims_raw_fields(section: str) -> tuple[tuple, tuple]:
    """(text fields, amount fields) a section's records are read from."""
    supplier, (no_f, dt_f), (ono_f, odt_f) = _ims_fields(section)
    return ((*supplier, *no_f, *dt_f, ono_f, odt_f, *IMS_TEXTS),
            (*dict.fromkeys(n for spellings in IMS_AMOUNTS.values() for n in spellings),
             *IMS_DECLARED.values()))


def _ims_section(section: str, rows: list[dict], first: int = 1) -> pl.DataFrame:
    return _ims_section_frame(section, _raw_frame(rows, *ims_raw_fields(section)), first)


def _ims_section_frame(section: str, raw: pl.DataFrame, first: int = 1) -> pl.DataFrame:
    """A section's flat records from its raw frame (one column per field of ims_raw_fields:
    text as String, amounts as Float64, null where a record lacks the field); _Unclean when a
    value is not of the plain kind."""
    supplier, (no_f, dt_f), (ono_f, odt_f) = _ims_fields(section)
    money = {out: _amount_of(*src) for out, src in IMS_AMOUNTS.items()}
    money |= {out: _amount_of(src, optional=True) for out, src in IMS_DECLARED.items()}
    flags = {"is_itc_red_req_blocked": _text_of("isItcRedReqBlocked", "isitcredreqblocked"),
             "is_remarks_blocked": _text_of("isRemarksBlocked", "isremarksblocked")}
    stin = _text_of(*supplier)
    upper = section in IMPORT_SECTIONS
    doc_date, orig_date = _text_of(*dt_f), _text_of(odt_f)
    problems = [_date_problem(doc_date), _date_problem(orig_date),
                _text_of(*no_f).is_null(), doc_date.is_null(),
                *(p for _, p in money.values()),
                *(f.is_not_null() & ~f.str.to_uppercase().is_in(["Y", "N"])
                  for f in flags.values())]
    if section not in PORT_SECTIONS:
        problems.append(stin.is_null())
    if upper:   # str.upper and Polars agree on ASCII; anything else is read per record
        problems.append(stin.str.contains(r"[^\x00-\x7f]").fill_null(False))
    _check(raw, problems)
    remarks = _text_of("remarks")
    frame = raw.select(
        pl.lit(section).alias("section"),
        (stin.str.to_uppercase() if upper else stin).fill_null("").alias("stin"),
        pl.lit(SECTION_DOC_TYPE[section]).alias("doc_type"),
        _text_of(*no_f).alias("doc_no"), _date_of(doc_date).alias("doc_date"),
        _text_of(ono_f).alias("orig_doc_no"), _date_of(orig_date).alias("orig_doc_date"),
        _text_of("inv_typ").alias("inv_typ"), _text_of("pos").alias("pos"),
        pl.lit("N").alias("rcm"),
        *(_text_of(f).alias(f) for f in ("srcform", "rtnprd", "srcfilstatus", "hash")),
        _or_n(_text_of("action")).alias("action"),
        _text_of("ispendactblocked", "ispendactnallwd").alias("ispendactblocked"),
        _text_of("itcRedReq", "itc_red_req").alias("itc_red_req"),
        remarks.alias("remarks"), remarks.alias("portal_remarks"),
        *(f.str.to_uppercase().alias(out) for out, f in flags.items()),
        *(paise.alias(out) for out, (paise, _) in money.items()),
        pl.int_range(first, pl.len() + first, dtype=pl.Int64).alias("line"))
    return frame


def _ims_finish(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The sections' records in one frame, stin_valid checked once over all sections' distinct
    supplier GSTINs (not for port codes, nor a blank)."""
    frame = _finish(parts)
    applies = ~pl.col("section").is_in(list(PORT_SECTIONS)) & (pl.col("stin") != "")
    return _with_gstin_check(frame, applies) if parts else frame


def _or_n(text: pl.Expr) -> pl.Expr:
    """`_text(...) or "N"`: missing or blank -> N."""
    return pl.when(text.is_null() | (text == "")).then(pl.lit("N")).otherwise(text)


def ims_sections_frame(raws: dict[str, pl.DataFrame], first: int = 1) -> pl.DataFrame | None:
    """records_frame(flatten_ims(...)) from each section's raw frame (section -> frame, as
    _ims_section_frame takes it; IMS_SECTIONS order), else None when a value is not clean."""
    try:
        return _ims_finish([_ims_section_frame(section, raws[section], first)
                            for section in IMS_SECTIONS if section in raws])
    except _Unclean:
        return None


def ims_columns(data: dict, first: int = 1) -> pl.DataFrame | None:
    """records_frame(flatten_ims(data, first)) for a clean unwrapped GETINV answer, else
    None."""
    try:
        parts = []
        for section in IMS_SECTIONS:
            rows = data.get(section)
            if rows is None:
                continue
            if _objects(rows, dict):
                parts.append(_ims_section(section, rows, first))
        return _ims_finish(parts)
    except _Unclean:
        return None


# ---------------------------------------------------------------- GSTR-2A


def _documents(groups: list[dict], key: str) -> tuple[list[dict], list[int]]:
    docs, owner = [], []
    for g, group in enumerate(groups):
        found = group.get(key)
        if found is None:
            continue
        docs.extend(_objects(found, dict))
        owner.extend([g] * len(found))
    return docs, owner


def _items(docs: list[dict]) -> tuple[list[dict], list[int]]:
    details, owner = [], []
    for i, doc in enumerate(docs):
        items = doc.get("itms") or []
        if type(items) is not list:
            raise _Unclean
        for item in items:
            det = item.get("itm_det", item) if type(item) is dict else None
            if type(det) is not dict:
                raise _Unclean
            details.append(det)
            owner.append(i)
    return details, owner


def _items_totals(docs: list[dict]) -> pl.DataFrame:
    """Per document (`doc`, 0-based): the items' paise summed, as _items_total does."""
    details, owner = _items(docs)
    names = ("txval", "iamt", "camt", "samt", "csamt", "cess")
    raw = (_raw_frame(details, (), names) if details else
           pl.DataFrame(schema={n: pl.Float64 for n in names}))
    money = {out: _amount_of(*src) for out, src in
             {"txval": ("txval",), "igst": ("iamt",), "cgst": ("camt",), "sgst": ("samt",),
              "cess": ("csamt", "cess")}.items()}
    _check(raw, [p for _, p in money.values()])
    return (raw.select(pl.Series("doc", owner, dtype=pl.Int64),
                       *(paise.alias(out) for out, (paise, _) in money.items()))
            .group_by("doc").agg(pl.all().sum()))


def _gstr2a_section(section: str, groups: list[dict], period: str | None,
                    first: int = 1) -> pl.DataFrame:
    note = section in ("cdn", "cdna")
    docs, owner = _documents(groups, "nt" if note else "inv")
    if not docs:
        return pl.DataFrame(schema=RECORD_SCHEMA)
    no_f, dt_f, ono_f, odt_f = (("nt_num", "nt_dt", "ont_num", "ont_dt") if note else
                                ("inum", "idt", "oinum", "oidt"))
    raw = _raw_frame(docs, (no_f, dt_f, ono_f, odt_f, "inv_typ", "pos", "rchrg", "ntty"),
                     ("val",))
    heads = _raw_frame(groups, ("ctin", "cfs", "cfs3b", "dtcancel"), ())
    raw = raw.with_columns(heads[owner].with_columns(
        pl.Series("doc", range(len(docs)), dtype=pl.Int64)))
    val, val_problem = _amount_of("val")
    kind = _text_of("ntty").str.to_uppercase()
    doc_date, orig_date = _text_of(dt_f), _text_of(odt_f)
    problems = [_date_problem(doc_date), _date_problem(orig_date), val_problem,
                _text_of(no_f).is_null(), doc_date.is_null(), _text_of("ctin").is_null()]
    if note:
        problems.append(kind.is_null() | ~kind.is_in(list(NOTE_TYPE)))
    _check(raw, problems)
    totals = _items_totals(docs)
    limit = 10 ** 18
    if totals.height and totals.select(pl.any_horizontal(
            pl.exclude("doc") >= limit).any()).item():
        raise _Unclean
    frame = raw.select(
        "doc", pl.lit(section).alias("section"), _text_of("ctin").alias("stin"),
        (kind.replace_strict(NOTE_TYPE, default=None) if note else pl.lit("INV"))
        .alias("doc_type"),
        _text_of(no_f).alias("doc_no"), _date_of(doc_date).alias("doc_date"),
        _text_of(ono_f).alias("orig_doc_no"), _date_of(orig_date).alias("orig_doc_date"),
        _text_of("inv_typ").alias("inv_typ"), _text_of("pos").alias("pos"),
        _or_n(_text_of("rchrg")).alias("rcm"), val.alias("val"),
        pl.lit(period, pl.Utf8).alias("rtnprd"), _text_of("cfs").alias("cfs"),
        _text_of("cfs3b").alias("cfs3b"), _text_of("dtcancel").alias("dtcancel"),
        (pl.col("doc") + first).alias("line"))
    frame = frame.join(totals, on="doc", how="left", maintain_order="left").with_columns(
        pl.col(m).fill_null(0) for m in ITEM_AMOUNTS)
    return _with_gstin_check(frame, pl.lit(True))


def gstr2a_columns(data: dict, first: int = 1) -> pl.DataFrame | None:
    """records_frame(flatten_gstr2a(data, first)) for a clean unwrapped GSTR-2A answer, else
    None."""
    period = _text(data, "fp", "payload", 0) or _text(data, "ret_period", "payload", 0)
    try:
        parts = []
        for section in GSTR2A_SECTIONS:
            groups = data.get(section)
            if groups is None:
                continue
            if _objects(groups, dict):
                parts.append(_gstr2a_section(section, groups, period, first))
        return _finish(parts)
    except _Unclean:
        return None
