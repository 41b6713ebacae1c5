"""The per-record rules of a SAVE: which action a record may take, and what may go with it
(the ITC-reduction answer, its partial amounts, the remark). Codes and messages are listed
in sandbox/README.md ("How SAVE / RESET work"); the portal's own words where known.
"""
from __future__ import annotations

from sandbox.fields import IMPORT_SECTIONS, paise

ERRORS = {
    "IMSSAV0010": "Previous action incorrect or record edited by supplier; download again",
    "IMSSAV0011": "Pending action is not allowed for this record",
    "IMSSAV0012": "Reject action is not allowed for import of goods",
    "IMSSAV0013": "Record not found",
    "IMSSAV0014": "Invalid action; use A, R or P (RESETIMS for no action)",
    "IMSSAV0054": "Please enter value for the column itcRedReq",
    "IMSSAV0055": "ITC reduction declaration is not applicable for this record; "
                  "do not send itcRedReq or declared amounts",
    "IMSSAV0056": "Remarks are not allowed for this record",
    "IMSSAV0057": "Invalid ITC reduction amounts: each of declIgst, declCgst, declSgst, declCess "
                  "must be between 0 and the record's own amount, CGST equal to SGST, and only "
                  "with itcRedReq Y",
    "IMSSAV0058": "itcRedReq can be given only with action Accept (A)",
    "IMSSAV0059": "Invalid value for itcRedReq; use Y or N",
    "IMSSAV0060": "Remarks can be at most 250 characters",
}
DECL_FIELDS = ("declIgst", "declCgst", "declSgst", "declCess")
DECL_CAP = {"declIgst": "iamt", "declCgst": "camt", "declSgst": "samt", "declCess": "cess"}
SAVED_FIELDS = ("itcRedReq", *DECL_FIELDS, "remarks")
REMARKS_MAX = 250


def given(sent: dict, name: str) -> bool:
    return sent.get(name) not in (None, "")


def action_error(key: str, rec: dict, action: str) -> str | None:
    """Whether the record may take `action` at all."""
    if action not in ("A", "R", "P"):
        return "IMSSAV0014"
    if action == "P" and rec.get("ispendactblocked") == "Y":
        return "IMSSAV0011"
    if action == "R" and key in IMPORT_SECTIONS:
        return "IMSSAV0012"
    return None


def answer_error(rec: dict, sent: dict, action: str) -> str | None:
    """The ITC-reduction answer sent with `action`, against the record's flag and amounts."""
    answer = str(sent.get("itcRedReq") or "").strip().upper()
    has_amounts = any(given(sent, f) for f in DECL_FIELDS)
    if (answer or has_amounts) and action != "A":
        return "IMSSAV0058"
    applies = rec.get("isItcRedReqBlocked") == "N"
    if (answer or has_amounts) and not applies:
        return "IMSSAV0055"
    if action == "A" and applies and not answer:
        return "IMSSAV0054"
    if answer and answer not in ("Y", "N"):
        return "IMSSAV0059"
    if has_amounts and (answer != "Y" or not amounts_fit(rec, sent)):
        return "IMSSAV0057"
    return None


def amounts_fit(rec: dict, sent: dict) -> bool:
    """Each declared head a number from 0 to the record's own amount; CGST = SGST (a head not
    sent counts as 0)."""
    try:
        declared = {f: paise(sent[f]) if given(sent, f) else 0 for f in DECL_FIELDS}
    except (TypeError, ValueError):
        return False
    if declared["declCgst"] != declared["declSgst"]:
        return False
    return all(0 <= v <= paise(rec.get(DECL_CAP[f]) or 0) for f, v in declared.items())


def remarks_error(rec: dict, sent: dict) -> str | None:
    if not given(sent, "remarks"):
        return None
    if rec.get("isRemarksBlocked") == "Y":
        return "IMSSAV0056"
    if len(str(sent["remarks"])) > REMARKS_MAX:
        return "IMSSAV0060"
    return None


def save_error(key: str, rec: dict, sent: dict, action: str) -> str | None:
    """The first rule a SAVE of `sent` with `action` breaks on `rec`, or None."""
    return (action_error(key, rec, action) or answer_error(rec, sent, action)
            or remarks_error(rec, sent))


def store_saved(rec: dict, sent: dict, action: str) -> None:
    """What a good SAVE leaves on the record: the action and exactly what was sent with it
    (an earlier answer or remark not sent again is gone)."""
    rec["action"] = action
    clear_saved(rec)
    answer = str(sent.get("itcRedReq") or "").strip().upper()
    if answer:
        rec["itcRedReq"] = answer
        for f in DECL_FIELDS:
            if given(sent, f):
                rec[f] = paise(sent[f]) / 100
    if given(sent, "remarks"):
        rec["remarks"] = str(sent["remarks"])


def clear_saved(rec: dict) -> None:
    for f in SAVED_FIELDS:
        rec.pop(f, None)


def saved_state(rec: dict) -> dict:
    """The action and answer the portal holds for a record (for /_control/record)."""
    return {"action": rec.get("action"), **{f: rec.get(f) for f in SAVED_FIELDS}}
