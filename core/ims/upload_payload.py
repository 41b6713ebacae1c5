"""What goes to the portal and what comes back about an upload (docs/portal-api.md).

`triage` compares a batch with the portal's current records (send, done, gone, held);
`portal_record` / `invdata` build SAVE/RESET's records in GETINV's shape; `report_errors`
reads REQSTS's error report into one row per failed document. No store, no HTTP.
"""
from __future__ import annotations

import json

import polars as pl

from core.documents import SECTION_REQUEST, raw_no
from core.money import paise_expr
from core.portal import SECTION_KEYS
from core.reco import HEADS, payload_fields

SECTION_CALL = {key: name for name, key in SECTION_KEYS.items()}  # b2bcn -> CN
NOTE_SECTIONS = {"b2bcn", "b2bcna", "b2bdn", "b2bdna"}
# import of goods: the store's `stin` is the port code (impg, impga) or the SEZ unit's GSTIN
PORT_SECTIONS = {"impg", "impga"}
BOE_SECTIONS = {"impg", "impga", "impgsez", "impgseza"}
# what the portal holds with an action, compared by `triage` (as `<column>_now`)
ANSWER_NOW = ("itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess", "portal_remarks")


def _answer_differs() -> pl.Expr:
    """The user's own answer or remark (where set) differs from what the portal holds now
    (the rule of core.reco.itc_answer.answer_change_sql, against the portal's current record;
    the store's amounts are rupees, the portal's paise)."""
    amounts = pl.lit(False)
    for h in HEADS:
        amounts = amounts | paise_expr(f"user_decl_{h}", 100).ne_missing(
            paise_expr(f"decl_{h}_now", 1))
    answer = ((pl.col("user_action") == "A") & pl.col("user_itc_red_req").is_not_null()
              & (pl.col("user_itc_red_req").ne_missing(pl.col("itc_red_req_now")) | amounts))
    remark = pl.col("user_supplier_remark").str.strip_chars().replace("", None)
    remark_differs = (remark.is_not_null()
                      & (pl.col("is_remarks_blocked").fill_null("N") != "Y")
                      & remark.ne_missing(pl.col("portal_remarks_now")))
    return answer | remark_differs


def triage(batch: pl.DataFrame, now_on_portal: pl.DataFrame) -> pl.DataFrame:
    """Per record: 'send', 'done' (the portal already holds the user's action, answer and
    remark), 'gone' (no longer on the portal) or 'held' (the supplier edited it or its action
    changed there)."""
    key = ["section", "stin", "doc_no_key", "fy", "occurrence"]
    joined = batch.join(now_on_portal.with_columns(pl.lit(True).alias("found")), on=key, how="left")
    hash_changed = (pl.col("hash").is_not_null() & pl.col("hash_now").is_not_null()
                    & (pl.col("hash") != pl.col("hash_now")))
    return joined.with_columns(
        pl.when(pl.col("found").is_null()).then(pl.lit("gone"))
        .when((pl.col("action_now") == pl.col("user_action")) & ~_answer_differs())
        .then(pl.lit("done"))
        .when(hash_changed | (pl.col("action_now") != pl.col("portal_action"))).then(pl.lit("held"))
        .otherwise(pl.lit("send")).alias("outcome"))


def _rupees(value) -> float | None:
    return None if value is None else float(value)


def _ddmmyyyy(day) -> str | None:
    return day.strftime("%d-%m-%Y") if day else None


def portal_record(row: dict) -> dict:
    """One SAVE/RESET record in GETINV's shape, from a stored record (`row`)."""
    section = row["section"]
    if section in BOE_SECTIONS:
        no, date, ono, odate = "boenum", "boedt", "oboenum", "oboedt"
    elif section in NOTE_SECTIONS:
        no, date, ono, odate = "nt_num", "nt_dt", "ont_num", "ont_dt"
    else:
        no, date, ono, odate = "inum", "idt", "oinum", "oidt"
    party = "portcode" if section in PORT_SECTIONS else "stin"
    rec = {party: row["stin"] or "", no: row["doc_no"], date: _ddmmyyyy(row["doc_date"])}
    if ono and row["orig_doc_no"]:
        rec[ono], rec[odate] = row["orig_doc_no"], _ddmmyyyy(row["orig_doc_date"])
    for out, col in (("inv_typ", "inv_typ"), ("pos", "pos"), ("srcform", "srcform"),
                     ("rtnprd", "rtnprd"), ("hash", "hash")):
        if row[col] is not None:
            rec[out] = row[col]
    for out, col in (("val", "val"), ("txval", "txval"), ("iamt", "igst"), ("camt", "cgst"),
                     ("samt", "sgst"), ("cess", "cess")):
        rec[out] = _rupees(row[col]) or 0
    rec["prev_status"] = row["action_now"]
    if row["reqtyp"] == "SAVE":
        rec["action"] = row["user_action"]
        rec.update(payload_fields(row))   # the ITC-reduction answer and the remark
    return rec


def invdata(rows: list[dict]) -> dict:
    """Records grouped by section key, as SAVE/RESET's `invdata`."""
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row["section"], []).append(portal_record(row))
    return out


def _section_key(key: str) -> str:
    """REQSTS names sections both ways: 'b2bcn' and 'cn'."""
    key = (key or "").strip()
    return SECTION_REQUEST.get(key.upper(), key.lower())


def report_errors(error_report) -> pl.DataFrame:
    """REQSTS error_report -> one row per failed document: section, stin, doc_no_key, rtnprd,
    error_cd, error_msg."""
    rows = []
    if isinstance(error_report, str):
        error_report = json.loads(error_report or "{}")
    for key, entries in (error_report or {}).items():
        for e in entries if isinstance(entries, list) else []:
            for inv in e.get("inv") or [{}]:
                number = inv.get("inum") or inv.get("nt_num") or inv.get("boenum") or ""
                rows.append((_section_key(key), e.get("stin") or "", raw_no(number),
                             inv.get("rtnprd"), e.get("error_cd"), e.get("error_msg")))
    return pl.DataFrame(rows, schema={"section": pl.Utf8, "stin": pl.Utf8, "doc_no_key": pl.Utf8,
                                      "rtnprd": pl.Utf8, "error_cd": pl.Utf8, "error_msg": pl.Utf8},
                        orient="row")
