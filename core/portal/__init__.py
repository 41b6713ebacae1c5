"""The GSP/GSTN portal: where it is and how to log in (gsp.py), its per-GSTIN sessions
(sessions.py, status.py), the HTTP client (client.py, gstr2b.py, filing_status.py) and the
one place its answers become flat records (payload/)."""
from __future__ import annotations

from core.portal.client import SAVE_BUSY, SECTION_KEYS, GstnClient, try_login
from core.portal.filing_status import (
    filed_refusals,
    keep_filed,
    skip_filed_occurrences,
    track_filings_in_fetch,
)
from core.portal.gsp import GstnError, ReauthenticationNeeded
from core.portal.gstr2b import fetch_2b, fetch_2b_frame, regenerate_2b
from core.portal.payload import (
    FRAME_SCHEMA,
    MONEY,
    ROW_FIELDS,
    PayloadError,
    flatten,
    flatten_gstr2a,
    flatten_ims,
    gstr2a_frame,
    ims_frame,
    ims_json_frame,
    is_gstr2b,
    read_2b_frame,
    read_records_frame,
    recipient_gstin,
    records_frame,
    rows_frame,
)

__all__ = ["FRAME_SCHEMA", "MONEY", "ROW_FIELDS", "SAVE_BUSY", "SECTION_KEYS", "GstnClient", "GstnError", "PayloadError", "ReauthenticationNeeded", "fetch_2b", "fetch_2b_frame", "filed_refusals", "flatten", "flatten_gstr2a", "flatten_ims", "gstr2a_frame", "ims_frame", "ims_json_frame", "is_gstr2b", "keep_filed", "read_2b_frame", "read_records_frame", "recipient_gstin", "records_frame", "regenerate_2b", "rows_frame", "skip_filed_occurrences", "track_filings_in_fetch", "try_login"]
