"""GSTR-2B: the portal calls and the document read into flat rows (docs/portal-api.md,
"GSTR-2B"; docs/month-close.md).

- `fetch_2b(client, gstin, period)` GET2B, reading every file (`file_num` = 1..`fc`) of a
  large one -> the merged document; None when the portal says it is not generated yet.
- `regenerate_2b(client, gstin, period)` GEN2B, then GENSTS2B until processed.
- `flatten_2b(payload)` -> (head, rows): one row per document of `docdata` and `docRejdata`
  (rows from `docRejdata` have `rejected_in_ims` True), amounts in integer paise, with the
  supplier's trade name (`trdnm`), period (`supprd`) and filing date (`supfildt`), `itcavl`
  and `rsn`. A document that cannot be read raises PayloadError naming section, record, field.
"""
from __future__ import annotations

import time

import polars as pl

from core.gsp import GstnError
from core.gstn_client import GstnClient
from core.portal import PayloadError, _date, _paise, _text

GSTR2B_PATH = "/taxpayerapi/v4.0/returns/gstr2b"
NOT_GENERATED = {"RET2B1023", "RET2B1018"}
NO_DOCUMENTS = {"RET2B1016"}
BLOCKS = ("docdata", "docRejdata")
# 2B section -> (list key inside a supplier group or None when flat, doc type or None = typ)
SECTIONS = {"b2b": ("inv", "INV"), "b2ba": ("inv", "INV"), "cdnr": ("nt", None),
            "cdnra": ("nt", None), "ecom": ("inv", "INV"), "ecoma": ("inv", "INV"),
            "isd": ("doclist", "ISD"), "impg": (None, "BOE"), "impgsez": ("boe", "BOE")}
NOTE_TYPES = {"C": "CRN", "D": "DBN"}
ROW_FIELDS = ("section", "stin", "trdnm", "doc_type", "doc_no", "doc_date", "orig_doc_no",
              "orig_doc_date", "pos", "rcm", "inv_typ", "val", "txval", "igst", "cgst", "sgst",
              "cess", "itcavl", "rsn", "supprd", "supfildt", "rejected_in_ims", "line")
MONEY = ("val", "txval", "igst", "cgst", "sgst", "cess")
FRAME_SCHEMA = {
    **{f: pl.Utf8 for f in ROW_FIELDS}, **{f: pl.Int64 for f in MONEY},
    "doc_date": pl.Date, "orig_doc_date": pl.Date, "supfildt": pl.Date,
    "rejected_in_ims": pl.Boolean, "line": pl.Int64,
}


class RegenerationFailed(GstnError):
    """GENSTS2B answered ER, or did not finish in time."""


# ---------------------------------------------------------------- portal calls


def fetch_2b(client: GstnClient, gstin: str, period: str) -> dict | None:
    """GET2B for one period, every file of a large one merged -> the `data` document;
    None when the 2B is not generated yet; documents empty when it has none."""
    params = {"action": "GET2B", "gstin": gstin, "rtnprd": period}
    try:
        data = client.call("GET", GSTR2B_PATH, gstin, params) or {}
    except GstnError as exc:
        if exc.error_cd in NOT_GENERATED:
            return None
        if exc.error_cd in NO_DOCUMENTS:
            return {"gstin": gstin, "rtnprd": period, "docdata": {}, "docRejdata": {}}
        raise
    files = int(data.get("fc") or 0)
    if files and not any(data.get(b) for b in BLOCKS):
        merged = {b: {} for b in BLOCKS}
        for number in range(1, files + 1):
            part = client.call("GET", GSTR2B_PATH, gstin, {**params, "file_num": number}) or {}
            for block in BLOCKS:
                for section, rows in (part.get(block) or {}).items():
                    merged[block].setdefault(section, []).extend(rows or [])
        data = {**data, **merged}
    return data


def ask_regeneration(client: GstnClient, gstin: str, period: str) -> str:
    """GEN2B -> the regeneration's int_tran_id."""
    data = client.call("PUT", GSTR2B_PATH, gstin, {"action": "GEN2B", "gstin": gstin},
                       {"rtin": gstin, "itcprd": period}) or {}
    ref = data.get("int_tran_id") or data.get("reference_id")
    if not ref:
        raise GstnError("GEN2B: the portal accepted the request but returned no int_tran_id")
    return str(ref)


def regeneration_status(client: GstnClient, gstin: str, ref: str) -> str:
    """GENSTS2B -> P (processed), IP (in progress) or ER (error)."""
    data = client.call("GET", GSTR2B_PATH, gstin,
                       {"action": "GENSTS2B", "gstin": gstin, "int_tran_id": ref}) or {}
    return str(data.get("status_cd") or data.get("status") or "").upper()


def regenerate_2b(client: GstnClient, gstin: str, period: str, poll: float = 0.2,
                  timeout: float = 300.0) -> str:
    """GEN2B, then GENSTS2B until P -> the int_tran_id; RegenerationFailed on ER or timeout."""
    ref = ask_regeneration(client, gstin, period)
    deadline = time.monotonic() + timeout
    while True:
        status = regeneration_status(client, gstin, ref)
        if status == "P":
            return ref
        if status == "ER":
            raise RegenerationFailed(f"The portal could not regenerate GSTR-2B of {period} "
                                     f"for {gstin} (request {ref})")
        if time.monotonic() > deadline:
            raise RegenerationFailed(f"GSTR-2B of {period} for {gstin} was still being "
                                     f"regenerated after {timeout:.0f} s (request {ref})")
        time.sleep(poll)


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


def _row(block: str, section: str, line: int, group: dict, doc) -> dict:
    where = f"{block} {section} record {line}"
    if not isinstance(doc, dict):
        raise PayloadError(f"{where}: is {type(doc).__name__}, expected an object")
    _, doc_type = SECTIONS[section]
    if section.startswith("cdnr"):
        kind = (_text(doc, "typ", section, line, required=True) or "").upper()
        if kind not in NOTE_TYPES:
            raise PayloadError(f"{where}: field 'typ' = '{kind}' is not C or D")
        doc_type, no_f, ono_f, odt_f = NOTE_TYPES[kind], "ntnum", "ontnum", "ontdt"
    elif doc_type == "BOE":
        no_f, ono_f, odt_f = "boenum", "oboenum", "oboedt"
    elif section == "isd":
        no_f, ono_f, odt_f = "docnum", "odocnum", "odocdt"
    else:
        no_f, ono_f, odt_f = "inum", "oinum", "oidt"
    stin = (_text(group, "ctin", section, line) or _text(doc, "portcode", section, line)
            or "").upper()
    itcavl = (_text(doc, "itcavl", section, line) or "Y").upper()
    return {
        "section": section, "stin": stin, "trdnm": _text(group, "trdnm", section, line),
        "doc_type": doc_type, "doc_no": _text(doc, no_f, section, line, required=True),
        "doc_date": _date(doc, "boedt" if doc_type == "BOE" else
                          "docdt" if section == "isd" else "dt", section, line, required=True),
        "orig_doc_no": _text(doc, ono_f, section, line),
        "orig_doc_date": _date(doc, odt_f, section, line),
        "pos": _text(doc, "pos", section, line), "rcm": (_text(doc, "rev", section, line)
                                                          or "N").upper(),
        "inv_typ": _text(doc, "suptyp" if section.startswith("cdnr") else "typ", section, line),
        "val": _paise(doc, "val", section, line, optional=True),
        **{f: _paise(doc, f, section, line, optional=True) or 0
           for f in ("txval", "igst", "cgst", "sgst", "cess")},
        "itcavl": itcavl, "rsn": _text(doc, "rsn", section, line),
        "supprd": _text(group, "supprd", section, line),
        "supfildt": _date(group, "supfildt", section, line),
        "rejected_in_ims": block == "docRejdata", "line": line,
    }


def flatten_2b(payload: dict) -> tuple[dict, list[dict]]:
    """A GSTR-2B document -> (head {gstin, rtnprd, version, gendt, itcsumm}, rows)."""
    data = _unwrap(payload)
    head = {"gstin": (str(data.get("gstin") or "").strip().upper() or None),
            "rtnprd": data.get("rtnprd"), "version": data.get("version"),
            "gendt": _date(data, "gendt", "document", 0), "itcsumm": data.get("itcsumm") or {}}
    rows = []
    for block in BLOCKS:
        sections = data.get(block) or {}
        if not isinstance(sections, dict):
            raise PayloadError(f"{block}: expected an object of sections")
        for section, groups in sections.items():
            if section not in SECTIONS:
                continue   # cpsumm and sections this version does not read
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
