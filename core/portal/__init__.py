"""The GSP/GSTN portal: where it is, its sessions, the HTTP client, and its payloads read into flat records."""
from __future__ import annotations

from core.portal.client import SAVE_BUSY, SECTION_KEYS, GstnClient, try_login
from core.portal.filing_status import (
    filed_refusals,
    keep_filed,
    skip_filed_occurrences,
    track_filings_in_fetch,
)
from core.portal.gsp import GstnError, ReauthenticationNeeded
from core.portal.gstr2b import (
    FRAME_SCHEMA,
    MONEY,
    ROW_FIELDS,
    fetch_2b,
    is_gstr2b,
    read_2b_frame,
    regenerate_2b,
    rows_frame,
)
from core.portal.payload import PayloadError, flatten, recipient_gstin, records_frame

__all__ = ["FRAME_SCHEMA", "MONEY", "ROW_FIELDS", "SAVE_BUSY", "SECTION_KEYS", "GstnClient", "GstnError", "PayloadError", "ReauthenticationNeeded", "fetch_2b", "filed_refusals", "flatten", "is_gstr2b", "keep_filed", "read_2b_frame", "recipient_gstin", "records_frame", "regenerate_2b", "rows_frame", "skip_filed_occurrences", "track_filings_in_fetch", "try_login"]
