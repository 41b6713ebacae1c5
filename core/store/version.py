"""A cheap fingerprint of the store that changes whenever a job, an action, a reconciliation
run, a purchase batch, a business or an upload changes: the app keys its cached queries on it
(docs/architecture.md)."""
from __future__ import annotations

from core.store.database import connect, store_location

VERSION_SQL = """
SELECT (SELECT max(run_id) FROM job_runs), (SELECT max(finished_at) FROM job_runs),
       (SELECT max(log_id) FROM action_log), (SELECT max(run_id) FROM reco_runs),
       (SELECT max(batch_id) FROM purchase_batches),
       (SELECT count(rolled_back_at) FROM purchase_batches),
       (SELECT max(updated_at) FROM businesses), (SELECT count(*) FROM businesses),
       (SELECT max(request_id) FROM upload_requests),
       (SELECT max(finished_at) FROM upload_requests)"""


def store_version() -> tuple:
    """(store path or URL, and the latest id or time of each table that pages show)."""
    with connect() as con:
        row = con.execute(VERSION_SQL).fetchall()[0]
    return (store_location(), *row)
