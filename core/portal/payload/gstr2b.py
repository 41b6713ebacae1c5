"""GSTR-2B documents -> flat rows (docs/portal-api.md, "GSTR-2B"; docs/month-close.md).

`flatten_2b(payload)` -> (head, rows): one row per document of `docdata` and `docRejdata`
(rows from `docRejdata` have `rejected_in_ims` True), amounts in integer paise, with the
supplier's trade name (`trdnm`), period (`supprd`) and filing date (`supfildt`), `itcavl` and
`rsn`; `read_2b_frame` reads a clean document column-wise. A document that cannot be read
raises PayloadError naming section, record and field.

Every section is read: b2b, b2ba, cdnr, cdnra, ecom, ecoma, impg, impga, impgsez, impgseza,
isd and isda (ISD documents: `doctyp` ISDC is a credit note, doc type `ISDC`, else `ISD`; their
`itcelg` is kept in `itcavl`), and the rule 37A reversals of `docdata.itcrev` (its sections
become `itcrev_b2b`, `itcrev_cdnr`, ...). A document that carries its amounts only per item
(`items`) gets their sums. A section no rule knows is not dropped silently: the head's
`unread` names it.
"""
from __future__ import annotations

from itertools import chain, repeat
from operator import contains

import polars as pl

from core.json_decode import gc_paused
from core.portal.payload.columns import PY_WHITESPACE
from core.portal.payload.fields import PayloadError, _date, _paise, _text

BLOCKS = ("docdata", "docRejdata")
# 2B section -> (list key inside a supplier group or None when flat, doc type or None = typ)
SECTIONS = {"b2b": ("inv", "INV"), "b2ba": ("inv", "INV"), "cdnr": ("nt", None),
            "cdnra": ("nt", None), "ecom": ("inv", "INV"), "ecoma": ("inv", "INV"),
            "isd": ("doclist", "ISD"), "isda": ("doclist", "ISD"), "impg": (None, "BOE"),
            "impga": (None, "BOE"), "impgsez": ("boe", "BOE"), "impgseza": ("boe", "BOE")}
ISD_INELIGIBLE = "ISD"   # rsn of an ISD document with itcelg N (the portal gives none)
REVERSAL = "itcrev"   # docdata.itcrev: {section: groups}, ITC to reverse (rule 37A)
SECTIONS.update({f"{REVERSAL}_{name}": SECTIONS[name]
                 for name in ("b2b", "b2ba", "cdnr", "cdnra", "ecom", "ecoma")})
FAST_SECTIONS = ("b2b", "b2ba", "cdnr", "cdnra", "ecom", "ecoma", "impg", "impgsez")
NOTE_TYPES = {"C": "CRN", "D": "DBN"}
NUMBER_TYPES = {int, float, type(None)}


class _Unclean(Exception):
    """A value (or a layout) the columns cannot read exactly as the per-record reader would."""

EXACT_RUPEES = 2 ** 53 / 100   # beyond this a float's paise are not exact: read per record
ROW_FIELDS = ("section", "stin", "trdnm", "doc_type", "doc_no", "doc_date", "orig_doc_no",
              "orig_doc_date", "pos", "rcm", "inv_typ", "val", "txval", "igst", "cgst", "sgst",
              "cess", "itcavl", "rsn", "supprd", "supfildt", "rejected_in_ims", "line")
MONEY = ("val", "txval", "igst", "cgst", "sgst", "cess")
FRAME_SCHEMA = {
    **{f: pl.Utf8 for f in ROW_FIELDS}, **{f: pl.Int64 for f in MONEY},
    "doc_date": pl.Date, "orig_doc_date": pl.Date, "supfildt": pl.Date,
    "rejected_in_ims": pl.Boolean, "line": pl.Int64,
}



# ---------------------------------------------------------------- reading the document


def _unwrap(payload: dict) -> dict:
    data = payload.get("data", payload) if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise PayloadError("a GSTR-2B document must be a JSON object with 'data'")
    return data


def is_gstr2b(payload) -> bool:
    """A GSTR-2B document: `docdata` (or `docRejdata`) inside `data` or at the top."""
    if not isinstance(payload, dict):
        return False
    data = payload.get("data", payload)
    return isinstance(data, dict) and any(b in data for b in BLOCKS)


def _base(section: str) -> str:
    """`itcrev_cdnr` -> `cdnr`: the section whose shape a reversal section has."""
    return section.removeprefix(f"{REVERSAL}_")


def _item_sums(doc: dict) -> dict:
    """A document whose amounts are only in `items`: the items' sums as its own fields."""
    items = doc.get("items")
    if not isinstance(items, list) or any(doc.get(f) not in (None, "")
                                          for f in ("txval", "igst", "cgst", "sgst", "cess")):
        return doc
    summed = dict(doc)
    for field in ("txval", "igst", "cgst", "sgst", "cess"):
        values = [i.get(field) for i in items if isinstance(i, dict)]
        try:
            summed[field] = round(sum(float(v or 0) for v in values), 2)
        except (TypeError, ValueError):
            summed[field] = next(v for v in values if not isinstance(v, (int, float)))
    return summed


def _row(block: str, section: str, line: int, group: dict, doc) -> dict:
    name = f"{block} {section}"
    where = f"{name} record {line}"
    if not isinstance(doc, dict):
        raise PayloadError(f"{where}: is {type(doc).__name__}, expected an object")
    doc = _item_sums(doc)
    _, doc_type = SECTIONS[section]
    isd = _base(section).startswith("isd")
    if _base(section).startswith("cdnr"):
        kind = (_text(doc, "typ", name, line, required=True) or "").upper()
        if kind not in NOTE_TYPES:
            raise PayloadError(f"{where}: field 'typ' = '{kind}' is not C or D")
        doc_type, no_f, ono_f, odt_f = NOTE_TYPES[kind], "ntnum", "ontnum", "ontdt"
    elif doc_type == "BOE":
        no_f, ono_f, odt_f = "boenum", "oboenum", "oboedt"
    elif isd:
        no_f, ono_f, odt_f = "docnum", "odocnum", "odocdt"
        kind = (_text(doc, "doctyp", name, line) or "ISDI").upper()
        doc_type = "ISDC" if kind == "ISDC" else "ISD"
    else:
        no_f, ono_f, odt_f = "inum", "oinum", "oidt"
    stin = (_text(group, "ctin", name, line) or _text(doc, "portcode", name, line)
            or "").upper()
    itcavl = (_text(doc, "itcelg" if isd else "itcavl", name, line) or "Y").upper()
    return {
        "section": section, "stin": stin, "trdnm": _text(group, "trdnm", name, line),
        "doc_type": doc_type, "doc_no": _text(doc, no_f, name, line, required=True),
        "doc_date": _date(doc, "boedt" if doc_type == "BOE" else
                          "docdt" if isd else "dt", name, line, required=True),
        "orig_doc_no": _text(doc, ono_f, name, line),
        "orig_doc_date": _date(doc, odt_f, name, line),
        "pos": _text(doc, "pos", name, line), "rcm": (_text(doc, "rev", name, line)
                                                          or "N").upper(),
        "inv_typ": _text(doc, "suptyp" if _base(section).startswith("cdnr") else
                         "doctyp" if isd else "typ", name, line),
        "val": _paise(doc, "val", name, line, optional=True),
        **{f: _paise(doc, f, name, line, optional=True) or 0
           for f in ("txval", "igst", "cgst", "sgst", "cess")},
        "itcavl": itcavl,
        "rsn": _text(doc, "rsn", name, line) or (ISD_INELIGIBLE if isd and itcavl == "N"
                                                 else None),
        "supprd": _text(group, "supprd", name, line),
        "supfildt": _date(group, "supfildt", name, line),
        "rejected_in_ims": block == "docRejdata", "line": line,
    }


def _sections(block: str, sections: dict):
    """(section, groups) of a block, `itcrev`'s inner sections as `itcrev_<name>`."""
    for section, groups in sections.items():
        if section == REVERSAL and isinstance(groups, dict):
            for inner, inner_groups in groups.items():
                yield f"{REVERSAL}_{inner}", inner_groups
        else:
            yield section, groups


def unread_sections(data: dict) -> list[str]:
    """Sections of `docdata` / `docRejdata` no rule reads ('docdata xyz'), to be named."""
    found = []
    for block in BLOCKS:
        sections = data.get(block) if isinstance(data.get(block), dict) else {}
        found += [f"{block} {s}" for s, groups in _sections(block, sections)
                  if s not in SECTIONS and groups]
    return found


def _head(data: dict) -> dict:
    return {"gstin": (str(data.get("gstin") or "").strip().upper() or None),
            "rtnprd": data.get("rtnprd"), "version": data.get("version"),
            "gendt": _date(data, "gendt", "document", 0), "itcsumm": data.get("itcsumm") or {},
            "unread": unread_sections(data)}


def flatten_2b(payload: dict) -> tuple[dict, list[dict]]:
    """A GSTR-2B document -> (head {gstin, rtnprd, version, gendt, itcsumm, unread}, rows)."""
    data = _unwrap(payload)
    head = _head(data)
    rows = []
    for block in BLOCKS:
        sections = data.get(block) or {}
        if not isinstance(sections, dict):
            raise PayloadError(f"{block}: expected an object of sections")
        for section, groups in _sections(block, sections):
            if section not in SECTIONS:
                continue   # named in head["unread"]
            items_key, _ = SECTIONS[section]
            if not isinstance(groups, list):
                raise PayloadError(f"{block} {section}: expected a list")
            line = 0
            for g, group in enumerate(groups, start=1):
                if not isinstance(group, dict):
                    raise PayloadError(f"{block} {section} group {g}: expected an object")
                docs = [group] if items_key is None else group.get(items_key) or []
                for doc in docs:
                    line += 1
                    rows.append(_row(block, section, line, {} if items_key is None else group,
                                     doc))
    return head, rows


def rows_frame(rows: list[dict]) -> pl.DataFrame:
    """Flat 2B rows -> a Polars frame with the same columns and dtypes every time."""
    return pl.DataFrame({f: [r.get(f) for r in rows] for f in ROW_FIELDS}, schema=FRAME_SCHEMA)


# ---------------------------------------------------------------- the fast reading


RAW_TEXTS = ("stin", "trdnm", "note", "doc_no", "doc_date", "orig_doc_no", "orig_doc_date",
             "pos", "rcm", "inv_typ", "itcavl", "rsn", "supprd", "supfildt")
GROUP_FIELDS = ("ctin", "trdnm", "supprd", "supfildt")   # a supplier group's own fields


def _doc_fields(section: str) -> dict[str, str | None]:
    """raw column -> the document field it is read from (None: not in this section)."""
    note, boe = section.startswith("cdnr"), section.startswith("impg")
    no_f, ono_f, odt_f, dt_f = (("ntnum", "ontnum", "ontdt", "dt") if note else
                                ("boenum", "oboenum", "oboedt", "boedt") if boe else
                                ("inum", "oinum", "oidt", "dt"))
    return {"portcode": "portcode", "note": "typ" if note else None, "doc_no": no_f,
            "doc_date": dt_f, "orig_doc_no": ono_f, "orig_doc_date": odt_f, "pos": "pos",
            "rcm": "rev", "inv_typ": "suptyp" if note else "typ", "itcavl": "itcavl",
            "rsn": "rsn", **{m: m for m in MONEY}}


def _values(rows: list[dict], field: str | None) -> list:
    """`field` of every row (None where missing), read in one C-level pass."""
    return list(map(dict.get, rows, repeat(field))) if field else [None] * len(rows)


def _series(name: str, values: list) -> pl.Series:
    """Amounts as Float64 (whole and fractional rupees mix: 10000 and 100.5), anything else
    as text; _Unclean when a value is of another kind (booleans are not amounts)."""
    if name in MONEY:
        if not set(map(type, values)) <= NUMBER_TYPES:
            raise _Unclean
        return pl.Series(name, values, dtype=pl.Float64, strict=False)
    try:
        return pl.Series(name, values, dtype=pl.Utf8, strict=True)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        raise _Unclean from None


def _section_raw(block: str, section: str, groups) -> pl.DataFrame:
    """One section's documents, their fields as found (no checks beyond their kinds), one
    Series per field: the documents gathered per supplier group, the fields read column by
    column, the group's fields repeated over its documents. _Unclean when the layout or a
    value is not of the plain kind, or a document carries its amounts per item."""
    items_key, _ = SECTIONS[section]
    if type(groups) is not list or (groups and set(map(type, groups)) != {dict}):
        raise _Unclean
    if items_key is None:   # flat: each entry is a document of its own, no supplier group
        docs, counts, groups = groups, None, []
    else:
        found = _values(groups, items_key)
        if not set(map(type, found)) <= {list, type(None)}:
            raise _Unclean
        counts = [len(d) if d else 0 for d in found]
        docs = list(chain.from_iterable(d for d in found if d))
    if docs and set(map(type, docs)) != {dict} or any(map(contains, docs, repeat("items"))):
        raise _Unclean
    fields = _doc_fields(section)
    raw = pl.DataFrame([_series(name, _values(docs, field)) for name, field in fields.items()])
    outer = None if counts is None else \
        pl.DataFrame([_series(f, _values(groups, f)) for f in GROUP_FIELDS])[owners(counts)]
    return section_columns(block, section, raw, outer)


def owners(counts: list[int] | pl.Series) -> pl.Series:
    """Each document's supplier group (0-based), from the groups' document counts."""
    return pl.DataFrame({"g": range(len(counts)), "n": counts}, schema={
        "g": pl.UInt32, "n": pl.UInt32}).filter(pl.col("n") > 0).select(
        pl.col("g").repeat_by("n")).explode("g")["g"]


def section_columns(block: str, section: str, raw: pl.DataFrame,
                    outer: pl.DataFrame | None) -> pl.DataFrame:
    """One section's raw columns from its documents' fields (`raw`: a column per field of
    _doc_fields, text as String, amounts as Float64) and each document's supplier group fields
    (`outer`: GROUP_FIELDS, one row per document; None for a flat section)."""
    if outer is None:
        outer = pl.DataFrame([pl.repeat(None, raw.height, dtype=pl.Utf8, eager=True).alias(f)
                              for f in GROUP_FIELDS])
    ctin = outer["ctin"]
    stin = pl.when(ctin.is_null() | (ctin == "")).then(raw["portcode"]).otherwise(ctin)
    return raw.drop("portcode").with_columns(
        *outer.drop("ctin").get_columns(), stin.alias("stin"), pl.lit(section).alias("section"),
        pl.lit(block == "docRejdata").alias("rejected_in_ims"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line"))


def _raw_columns(data: dict) -> pl.DataFrame | None:
    """The plain sections' documents, their fields as found (no checks), in document order;
    None when a document carries its amounts per item (the checked reading sums them) or a
    value is not of the plain kind (the checked reading names it)."""
    parts = []
    try:
        for block in BLOCKS:
            for section, groups in (data.get(block) or {}).items():
                if section in FAST_SECTIONS:
                    parts.append(_section_raw(block, section, groups))
    except _Unclean:
        return None
    return joined_columns(parts)


RAW_ORDER = ("section", "stin", "trdnm", "note", "doc_no", "doc_date", "orig_doc_no",
             "orig_doc_date", "pos", "rcm", "inv_typ", *MONEY, "itcavl", "rsn", "supprd",
             "supfildt", "rejected_in_ims", "line")


def joined_columns(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The sections' raw columns (section_columns) one after the other, in RAW_ORDER."""
    if not parts:
        return pl.DataFrame(schema={c: pl.Float64 if c in MONEY else pl.Boolean
                                    if c == "rejected_in_ims" else pl.Int64 if c == "line"
                                    else pl.Utf8 for c in RAW_ORDER})
    return pl.concat([p.select(RAW_ORDER) for p in parts])


def _text_col(name: str) -> pl.Expr:
    """_text: '' (or missing) -> None; anything else stripped as str.strip strips (PY_WHITESPACE:
    Polars' own white space leaves out \\x1c-\\x1f), so whitespace-only -> ''."""
    c = pl.col(name)
    return pl.when(c == "").then(None).otherwise(c.str.strip_chars(PY_WHITESPACE)).alias(name)


def _or_default(name: str, default: str) -> pl.Expr:
    """`(_text(...) or default).upper()`: missing, '' and whitespace-only -> default."""
    c = pl.col(name)
    return pl.when(c.is_null() | (c == "")).then(pl.lit(default)).otherwise(
        c.str.to_uppercase()).alias(name)


def _paise_col(name: str, optional: bool) -> pl.Expr:
    paise = (pl.col(name).cast(pl.Float64) * 100).round(0).abs().cast(pl.Int64)
    return (paise if optional else paise.fill_null(0)).alias(name)


def _fast_frame(data: dict, raw: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """rows_frame(flatten_2b(...)) for a clean document, column-wise; None when any value is
    not of the plain kind (then the checked reading runs and names what is wrong). `raw`: the
    plain sections' raw columns already gathered (read_2b_files)."""
    if raw is None:
        with gc_paused():
            raw = _raw_columns(data)
    if raw is None:
        return None
    for name in MONEY:
        if raw[name].dtype not in (pl.Int64, pl.Float64, pl.Null):
            return None
        exact = (raw[name].cast(pl.Float64) * 100 - (raw[name].cast(pl.Float64) * 100).round(0))
        if (exact.abs() > 1e-6).any() or (raw[name].abs() >= EXACT_RUPEES).any():
            return None
    dates = ("doc_date", "orig_doc_date", "supfildt")
    texts = [c for c in raw.columns if raw[c].dtype == pl.Utf8 and c not in dates]
    if any(raw[c].dtype not in (pl.Utf8, pl.Null) for c in (*texts, *dates)):
        return None
    frame = raw.with_columns(
        *[_text_col(c) for c in texts],
        *[pl.col(d).str.strip_chars(PY_WHITESPACE).str.strptime(pl.Date, "%d-%m-%Y",
                                                                strict=False).alias(d)
          for d in dates],
        *[_paise_col(m, m == "val") for m in MONEY])
    for d in dates:   # a date given but not read, or read from a text of another length
        bad = frame[d].is_null() & raw[d].is_not_null() | \
            (raw[d].str.strip_chars(PY_WHITESPACE).str.len_chars() != 10) & raw[d].is_not_null()
        if bad.any():
            return None
    notes = frame["note"].str.to_uppercase()
    if (frame["section"].str.starts_with("cdnr") & ~notes.is_in(list(NOTE_TYPES))).any() or \
            frame["doc_no"].null_count() or frame["doc_date"].null_count():
        return None
    kinds = {s: t for s, (_, t) in SECTIONS.items() if t}
    return frame.with_columns(
        pl.coalesce(notes.replace_strict(NOTE_TYPES, default=None),
                    pl.col("section").replace_strict(kinds, default=None)).alias("doc_type"),
        pl.col("stin").fill_null("").str.to_uppercase(),
        _or_default("rcm", "N"), _or_default("itcavl", "Y"),
        pl.when(pl.col("rsn") != "").then(pl.col("rsn")).alias("rsn"),   # `_text or None`
    ).select(list(ROW_FIELDS)).cast(FRAME_SCHEMA)


def read_2b_frame(payload: dict) -> tuple[dict, pl.DataFrame]:
    """flatten_2b as a frame (rows_frame's columns), in the same order: the plain sections
    (b2b, b2ba, cdnr, cdnra, ecom, ecoma, impg, impgsez) read column-wise when they are clean,
    the others (ISD, amendments of imports, rule 37A reversals: a few documents) record by
    record; a document that cannot be read raises PayloadError that names section, record and
    field."""
    return _read(payload)


def _read(payload: dict, raw: pl.DataFrame | None = None,
          whole=None) -> tuple[dict, pl.DataFrame]:
    data = _unwrap(payload)
    if not all(isinstance(data.get(b) or {}, dict) for b in BLOCKS):
        head, rows = flatten_2b(payload)
        return head, rows_frame(rows)
    plain = {b: {s: g for s, g in (data.get(b) or {}).items() if s in FAST_SECTIONS}
             for b in BLOCKS}
    other = {b: {s: g for s, g in (data.get(b) or {}).items() if s not in FAST_SECTIONS}
             for b in BLOCKS}
    fast = _fast_frame({**data, **plain}, raw)
    if fast is None:
        head, rows = flatten_2b({"data": whole()} if whole else payload)
        return head, rows_frame(rows)
    head = _head(data)
    if not any(other.values()):
        return head, fast
    _, rest = flatten_2b({**data, **other})
    return head, _in_document_order([fast, rows_frame(rest)], data)


def _section_order(data: dict) -> list[tuple[bool, str]]:
    """(rejected_in_ims, section) in the order the document has its sections."""
    return [(b == "docRejdata", name) for b in BLOCKS
            for name, _ in _sections(b, data.get(b) or {}) if name in SECTIONS]


def _runs(frame: pl.DataFrame) -> dict[tuple[bool, str], tuple[int, int]] | None:
    """(rejected_in_ims, section) -> (first row, rows) of a frame whose sections each come in
    one run of rows; None when one does not."""
    found = frame.select("rejected_in_ims", "section").with_row_index("_i").group_by(
        "rejected_in_ims", "section", maintain_order=True).agg(
        pl.col("_i").first().alias("start"), pl.len().alias("n"),
        (pl.col("_i").last() - pl.col("_i").first() + 1).alias("span"))
    if (found["n"] != found["span"]).any():
        return None
    return {(r, s): (start, n) for r, s, start, n, _ in found.iter_rows()}


def _in_document_order(frames: list[pl.DataFrame], data: dict,
                       renumber: bool = False) -> pl.DataFrame:
    """The frames' rows put section by section in the document's order (frame after frame
    within a section, each frame's own row order kept): runs of rows sliced and put one after
    the other, not a sort of every row. `renumber`: `line` numbered on within each section
    across frames (files of a large 2B, each numbered from 1)."""
    runs = [_runs(f) for f in frames]
    if any(r is None for r in runs):   # not in runs: sorted as a whole (same order)
        order = pl.DataFrame([(r, s, i) for i, (r, s) in enumerate(_section_order(data))],
                             schema={"rejected_in_ims": pl.Boolean, "section": pl.Utf8,
                                     "_at": pl.Int64}, orient="row")
        both = pl.concat([f.with_columns(pl.lit(n, pl.Int64).alias("_frame"))
                          for n, f in enumerate(frames)]).join(
            order, on=["rejected_in_ims", "section"], how="left", maintain_order="left")
        both = both.sort("_at", "_frame", "line", maintain_order=True)
        if renumber:
            both = both.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
                                     .over("_at").alias("line"))
        return both.drop("_at", "_frame")
    pieces = []
    for key in _section_order(data):
        before = 0
        for frame, found in zip(frames, runs):
            if key not in found:
                continue
            start, n = found[key]
            piece = frame.slice(start, n)
            if renumber:
                piece = piece.with_columns(pl.int_range(before + 1, before + n + 1,
                                                        dtype=pl.Int64).alias("line"))
            pieces.append(piece)
            before += n
    if not pieces:
        return frames[0].clear()
    return pl.concat(pieces, rechunk=True)


# ---------------------------------------------------------------- a large 2B, file by file


def merge_2b_files(data: dict, parts: list[dict]) -> dict:
    """The first answer of a large 2B and its files (in file order) -> the whole document:
    each section's groups one file after the other (`docdata.itcrev` per inner section)."""
    merged = {b: {} for b in BLOCKS}
    for part in parts:
        for block in BLOCKS:
            for section, rows in (part.get(block) or {}).items():
                if isinstance(rows, dict):      # docdata.itcrev: {section: groups}
                    inner = merged[block].setdefault(section, {})
                    for name, groups in rows.items():
                        inner.setdefault(name, []).extend(groups or [])
                else:
                    merged[block].setdefault(section, []).extend(rows or [])
    return {**data, **merged}


def read_2b_file(part: dict) -> pl.DataFrame | None:
    """The plain sections of one file of a large 2B, their fields as found (read while the
    other files download); None when the file is not of the plain kind."""
    if not isinstance(part, dict) or \
            not all(isinstance(part.get(b) or {}, dict) for b in BLOCKS):
        return None
    with gc_paused():
        return _raw_columns(part)


def read_2b_file_apart(part: dict) -> tuple[pl.DataFrame | None, dict]:
    """read_2b_file(part), and what else the file holds: its head and other sections, its
    plain sections' lists emptied (their place in the document kept) when they were read, so
    that a 2B's files are not all held as documents until the last one comes."""
    raw = read_2b_file(part)
    if raw is None:
        return None, part
    return raw, {**part, **{b: {s: ([] if s in FAST_SECTIONS else g)
                                for s, g in (part.get(b) or {}).items()}
                            for b in BLOCKS if b in part}}


def read_2b_files(data: dict, parts: list[dict], raws: list[pl.DataFrame | None],
                  whole=None) -> tuple[dict, pl.DataFrame]:
    """read_2b_frame of merge_2b_files(data, parts), given each file's read_2b_file: the
    files' columns put in the document's order (section by section, file after file, each
    section's documents numbered on across files) and read as one; any file not of the plain
    kind -> the whole document read as read_2b_frame reads it (the same messages). `whole`:
    when `parts` are what read_2b_file_apart left of the files, a call that gives the whole
    document again (fetched anew) for that checked reading."""
    merged = merge_2b_files(data, parts)
    if not raws or any(r is None for r in raws):
        return read_2b_frame({"data": whole() if whole else merged})
    return _read({"data": merged}, _in_document_order(raws, merged, renumber=True), whole)
