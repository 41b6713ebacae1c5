"""The data version the app's caches are keyed on (core/store/version.py, app/ui.py), issue 29:
a job starting or ending without writing data leaves it as it was (eight sessions keep their
cached queries and shared charts while the worker runs); a data write changes it; eight
sessions missing the same cached query at once compute it once."""
from __future__ import annotations

import json
import threading
import time

from app import ui
from core.clock import utc_now
from core.ims.store import incoming_frame, store_ims
from core.jobs import FETCH, SYNC, record_run
from core.portal import payload as portal
from core.store import connect, store_version, transaction
from tests.fixtures import SAMPLES, add_business

RTIN = "27AAACW1234K1ZD"


def fetched(_run_id: int) -> dict:
    """A fetch's write: the sample IMS records and the fetch's mark, in one transaction."""
    payload = json.loads((SAMPLES / "ims_getinv_sample.json").read_text())
    frame = incoming_frame(RTIN, portal.flatten_ims(payload))
    with connect() as con, transaction(con):
        return store_ims(con, RTIN, frame, utc_now(), "test")


def test_a_job_without_data_leaves_the_version_and_a_data_write_changes_it(db_file):
    add_business(RTIN, "Western Agro Industries Ltd")
    before = store_version()
    record_run(SYNC, RTIN, lambda _run_id: {"changed": 0}, triggered_by="test")
    assert store_version() == before        # started and ended, nothing written
    record_run(FETCH, RTIN, fetched, triggered_by="test")
    after_fetch = store_version()
    assert after_fetch != before            # the records and the fetch's mark
    record_run(FETCH, RTIN, lambda _run_id: None, triggered_by="test")
    assert store_version() == after_fetch


calls: list[int] = []


def slow_query(n: int) -> int:
    calls.append(n)
    time.sleep(0.3)
    return n * 2


def test_eight_sessions_missing_one_cached_query_compute_it_once(db_file):
    add_business(RTIN, "Western Agro Industries Ltd")
    ui.after_write()
    together = threading.Barrier(8)
    answers: list[int] = []

    def session() -> None:
        together.wait()
        answers.append(ui.cached(slow_query, 21))

    sessions = [threading.Thread(target=session) for _ in range(8)]
    for s in sessions:
        s.start()
    for s in sessions:
        s.join()
    assert answers == [42] * 8 and calls == [21]

