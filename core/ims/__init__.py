"""IMS records: fetch, store, the screen's queries, the user's actions, approval before upload,
actions from a sheet, sync of recommendations, upload."""
from __future__ import annotations

from core.ims.actions import save_user_actions
from core.ims.downloads import download_name, ims_file
from core.ims.fetch import fetch_businesses, fetch_ims, ingest_business, read_ims
from core.ims.store import incoming_frame, store_ims
from core.ims.sync import apply_sync, books_frame, read_settings
from core.ims.upload import gstins_with_pending_uploads, poll_uploads
from core.ims.view import BUCKETS, DEFAULT_SORT, SECTION_LABELS, SORTS, ImsFilter, page_count

__all__ = ["BUCKETS", "DEFAULT_SORT", "SECTION_LABELS", "SORTS", "ImsFilter", "apply_sync", "books_frame", "download_name", "fetch_businesses", "fetch_ims", "gstins_with_pending_uploads", "ims_file", "incoming_frame", "ingest_business", "page_count", "poll_uploads", "read_ims", "read_settings", "save_user_actions", "store_ims"]
