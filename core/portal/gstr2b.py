"""GSTR-2B: the portal calls and the document read into flat rows (docs/portal-api.md,
"GSTR-2B"; docs/month-close.md).

- `fetch_2b(client, gstin, period)` GET2B, reading every file (`file_num` = 1..`fc`) of a
  large one, FILE_READERS at a time, -> the merged document (files in order); None when the
  portal says it is not generated yet.
- `fetch_2b_frame(client, gstin, period)` the same read into (head, frame) as
  `read_2b_frame` reads it, each file read into columns as it arrives (its documents then let
  go; a file with a value the columns cannot read: the 2B fetched again and read record by
  record, for the same messages) -> None when not generated yet.
- `regenerate_2b(client, gstin, period)` GEN2B, then GENSTS2B until processed.
- `flatten_2b(payload)` -> (head, rows): one row per document of `docdata` and `docRejdata`
  (rows from `docRejdata` have `rejected_in_ims` True), amounts in integer paise, with the
  supplier's trade name (`trdnm`), period (`supprd`) and filing date (`supfildt`), `itcavl`
  and `rsn`. A document that cannot be read raises PayloadError naming section, record, field.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from core.portal.client import GstnClient
from core.portal.gsp import GstnError
from core.portal.payload import (
    BLOCKS,
    merge_2b_files,
    read_2b_file_apart,
    read_2b_file_json,
    read_2b_files,
    read_2b_frame,
)

GSTR2B_PATH = "/taxpayerapi/v4.0/returns/gstr2b"
NOT_GENERATED = {"RET2B1023", "RET2B1018"}
NO_DOCUMENTS = {"RET2B1016"}
FILE_READERS = 3   # files of a large 2B read at once (HTTP 429 is retried like any call)


class RegenerationFailed(GstnError):
    """GENSTS2B answered ER, or did not finish in time."""


# ---------------------------------------------------------------- portal calls


def _first_answer(client: GstnClient, gstin: str, period: str) -> dict | None:
    """GET2B's first answer: the document, or (large 2B) its head with `fc`; None when not
    generated yet; documents empty when it has none."""
    params = {"action": "GET2B", "gstin": gstin, "rtnprd": period}
    try:
        return client.call("GET", GSTR2B_PATH, gstin, params) or {}
    except GstnError as exc:
        if exc.error_cd in NOT_GENERATED:
            return None
        if exc.error_cd in NO_DOCUMENTS:
            return {"gstin": gstin, "rtnprd": period, "docdata": {}, "docRejdata": {}}
        raise


def _in_files(data: dict) -> int:
    """How many files to read (0: the answer holds the documents)."""
    files = int(data.get("fc") or 0)
    return files if files and not any(data.get(b) for b in BLOCKS) else 0


def _read_files(client: GstnClient, gstin: str, period: str, files: int, then=None,
                from_bytes=None) -> list:
    """Files 1..`files` (FILE_READERS at a time), in file order; `then(part)` applied to each
    as it arrives -> [then(part)] (else [part]). `from_bytes(answer bytes)`: what gives
    then's result straight from a file's answer, or None (the client's `read_bytes`)."""
    params = {"action": "GET2B", "gstin": gstin, "rtnprd": period}

    def read_file(number: int):
        part = client.call("GET", GSTR2B_PATH, gstin, {**params, "file_num": number},
                           read_bytes=from_bytes)
        if from_bytes is not None and isinstance(part, tuple):   # read from its bytes
            return part
        return then(part or {}) if then else part or {}

    with ThreadPoolExecutor(max_workers=min(FILE_READERS, files)) as pool:
        return list(pool.map(read_file, range(1, files + 1)))   # in file order


def fetch_2b(client: GstnClient, gstin: str, period: str) -> dict | None:
    """GET2B for one period, every file of a large one merged -> the `data` document;
    None when the 2B is not generated yet; documents empty when it has none."""
    data = _first_answer(client, gstin, period)
    files = 0 if data is None else _in_files(data)
    if not files:
        return data
    return merge_2b_files(data, _read_files(client, gstin, period, files))


def fetch_2b_frame(client: GstnClient, gstin: str,
                   period: str) -> tuple[dict, pl.DataFrame] | None:
    """read_2b_frame(fetch_2b(...)) -> (head, frame), each file of a large 2B read into
    columns as it arrives, while the others download; None when not generated yet."""
    data = _first_answer(client, gstin, period)
    if data is None:
        return None
    files = _in_files(data)
    if not files:
        return read_2b_frame({"data": data})
    # each file's plain sections kept as columns only (not 1,000,000 documents held at once),
    # read by Arrow from the answer's bytes when plain, else decoded and read by read_2b_file;
    # a value the columns cannot read -> the whole 2B fetched again and read record by record
    read = _read_files(client, gstin, period, files, then=read_2b_file_apart,
                       from_bytes=read_2b_file_json)
    return read_2b_files(data, [rest for _, rest in read], [raw for raw, _ in read],
                         whole=lambda: fetch_2b(client, gstin, period))


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
