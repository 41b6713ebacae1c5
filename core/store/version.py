"""A cheap fingerprint of the figures the pages show: the app keys its cached queries and its
shared charts on it (docs/architecture.md, "Cached reads").

It changes when data is written: an action, a finished reconciliation run, a purchase batch
or its rollback, a business, an upload request, a completed IMS or GSTR-2A fetch (its mark in
`ims_fetch_marks`, written in the fetch's own transaction), a stored GSTR-2B, a setting, a
supplier or a supplier case (the worker reviews cases after a fetch). It
does NOT change when a job merely starts or ends (`job_runs`): eight sessions would otherwise
drop every cached query and chart twice per job while the worker runs (issue 29). What shows
a job's state or progress (the Dashboard's job health) reads `job_runs` itself, uncached."""
from __future__ import annotations

from core.store.database import connect, store_location

VERSION_SQL = """
SELECT (SELECT max(log_id) FROM action_log),
       (SELECT max(run_id) FROM reco_runs WHERE finished_at IS NOT NULL),
       (SELECT max(finished_at) FROM reco_runs), (SELECT count(finished_at) FROM reco_runs),
       (SELECT max(batch_id) FROM purchase_batches),
       (SELECT count(rolled_back_at) FROM purchase_batches),
       (SELECT max(updated_at) FROM businesses), (SELECT count(*) FROM businesses),
       (SELECT max(request_id) FROM upload_requests),
       (SELECT max(finished_at) FROM upload_requests),
       (SELECT max(ims_at) FROM ims_fetch_marks), (SELECT max(gstr2a_at) FROM ims_fetch_marks),
       (SELECT max(fetched_at) FROM gstr2b_returns), (SELECT max(updated_at) FROM settings),
       (SELECT max(updated_at) FROM suppliers), (SELECT max(updated_at) FROM supplier_cases)"""


def store_version() -> tuple:
    """(store path or URL, and the latest id or time of each kind of data the pages show)."""
    with connect() as con:
        row = con.execute(VERSION_SQL).fetchall()[0]
    return (store_location(), *row)
