"""The upload's state and the portal's answer in words (never a code, never "None").

`upload_state` of an IMS record, the status of a request the portal answered (REQSTS:
P, PE, ER, IP; FAILED when the portal refused the request outright) and each record's result.
"""
from __future__ import annotations

IN_FLIGHT = "Sent to the portal, waiting for its answer"
STATE_WORDS = {
    "queued": "Queued: goes to the portal with the next batch",
    "sent": IN_FLIGHT,
    "done": "Saved on the portal",
    "error": "Not saved: see the upload error",
    "held": "Held back: changed on the portal, review",
}
REQUEST_WORDS = {
    "P": "Processed", "PE": "Processed with errors", "ER": "Error", "IP": "In progress",
    "FAILED": "Refused by the portal",
}
RESULT_WORDS = {"ok": "Saved on the portal", "error": "Error"}
WAITING = "Waiting for the portal's answer"


def state_words(state: str | None) -> str:
    """A record's upload_state in words ('' when nothing was uploaded)."""
    return STATE_WORDS.get(state, state or "")


def request_words(status: str | None) -> str:
    return REQUEST_WORDS.get(status, status or WAITING)


def result_words(result: str | None) -> str:
    return RESULT_WORDS.get(result, result or WAITING)
