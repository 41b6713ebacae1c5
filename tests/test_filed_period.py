"""End to end over HTTP with the real sandbox (docs/month-close.md): the sandbox's day is the
app's business day; a period's GSTR-3B is filed in the sandbox; its accepted and rejected
records leave the portal's IMS; the worker's fetch job reads RETTRACK and keeps them in the
store, visible, with their history (also those an earlier IMS-only fetch had marked removed);
an upload for them is refused before anything is sent, with the reason; pending records of
the period stay on the portal and in the panel."""
from __future__ import annotations

import datetime as dt

import pytest
import requests

from core import clock
from core.calendar.panel import deadline_panel
from core.ims.actions import save_user_actions
from core.ims.fetch import fetch_ims
from core.ims.upload import upload_actions
from core.jobs.runs import FETCH
from core.portal.client import GstnClient
from core.portal.filing_status import RETURNS_PATH
from core.schedule.scheduler import Worker
from tests.fixtures import add_business, rows, start_sandbox, stop_sandbox

G = "27AAACW1234K1ZD"
FILED_DAY = dt.date(2025, 11, 20)


@pytest.fixture
def shared_day(db_file, tmp_path, monkeypatch):
    """A sandbox writing its day into the clock file the app reads (IMS_CLOCK_FILE)."""
    path = tmp_path / "today.txt"
    monkeypatch.delenv(clock.TODAY_ENV, raising=False)
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    sb = start_sandbox(extra=["--clock-file", str(path), "--gstin", G])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    add_business(G, "Western Agro")
    yield sb
    stop_sandbox(sb)


def portal_keys() -> set[tuple]:
    """(section, stin, doc_no, rtnprd) of every record GETINV serves now."""
    client, keys = GstnClient(), set()
    for section in ("B2B", "B2BA", "CN", "CNA", "DN", "DNA", "ECOM", "ECOMA", "IMPG", "IMPGA",
                    "IMPGSEZ", "IMPGSEZA"):
        for key, recs in client.get_ims_raw(G, section).items():
            for r in recs if isinstance(recs, list) else []:
                keys.add((key, r.get("stin") or r.get("portcode", ""), r.get("inum") or r.get("nt_num")
                          or r.get("boenum"), r["rtnprd"]))
    return keys


def store_keys(where: str) -> set[tuple]:
    return {tuple(r) for r in rows(f"SELECT section, coalesce(stin, ''), doc_no, rtnprd "
                                   f"FROM ims_records WHERE rtin = ? AND {where}", [G])}


def test_filed_gstr3b_records_leave_ims_stay_in_history_and_refuse_uploads(shared_day):
    sb = shared_day
    assert clock.today() == dt.date(2025, 11, 12)                  # the sandbox's start day
    sb.control("advance_day", days=8, new_per_day=0, edits_per_day=0)
    assert clock.today() == FILED_DAY                              # one advance moves both
    fetch_ims(G)
    # someone acts on the portal before filing: one more accepted, one more rejected
    for action in ("A", "R"):
        doc = rows("SELECT section, stin, doc_no, rtnprd FROM ims_records WHERE rtin = ? AND "
                   "rtnprd = '102025' AND portal_action = 'N' AND section = 'b2b' "
                   "ORDER BY record_id LIMIT 1", [G])[0]
        sb.control("set_action", gstin=G, section=doc[0], stin=doc[1], doc_no=doc[2],
                   rtnprd=doc[3], action=action)
    fetch_ims(G)
    # accepted, rejected, and no action on a filed document (deemed accepted) leave at filing
    decided = store_keys("(portal_action IN ('A', 'R') OR (coalesce(portal_action, 'N') = 'N' "
                         "AND srcfilstatus <> 'Not Filed')) AND rtnprd IN ('082025', "
                         "'092025', '102025')")
    undecided = store_keys("portal_action = 'P'")
    later = store_keys("portal_action IN ('A', 'R') AND rtnprd = '112025'")
    assert len(decided) >= 5 and undecided and later
    before = sb.total(G)

    filed = sb.control("file_gstr3b", gstin=G, ret_period="102025")
    assert (filed["status"], filed["dof"], filed["left_ims"]) == ("Filed", "20-11-2025",
                                                                  len(decided))
    track = GstnClient().call("GET", RETURNS_PATH, G, {"action": "RETTRACK", "gstin": G,
                                                       "ret_period": "102025", "type": "GSTR3B"})
    assert track["EFiledlist"][0]["status"] == "Filed"
    on_portal = portal_keys()
    assert not decided & on_portal                               # gone from GETINV
    assert undecided | later <= on_portal                        # pending and later A/R stay
    assert sb.total(G) == before - len(decided)                  # and from GETCNT's counts

    # an IMS-only fetch before the filing is known: they look removed for now
    assert fetch_ims(G)["removed"] == len(decided)
    assert store_keys("removed_at IS NOT NULL") == decided

    result = Worker().run(FETCH, G, None, "test")                 # the worker's fetch job
    assert result.ok, result.error
    assert rows("SELECT status, filed_on FROM return_filings WHERE gstin = ? AND "
                "ret_period = '102025'", [G]) == [("Filed", FILED_DAY)]
    kept = store_keys("left_ims_at IS NOT NULL AND removed_at IS NULL AND "
                      "filed_period = '102025'")
    assert kept == decided                                       # visible again, as filed
    assert store_keys("removed_at IS NOT NULL") == set()
    logged = rows("SELECT count(DISTINCT record_id) FROM action_log WHERE kind = 'filed'")
    assert logged == [(len(decided),)]
    # their history is whole: the removal and the filing both logged, nothing deleted
    assert rows("SELECT count(*) FROM action_log WHERE kind = 'removed'") == [(len(decided),)]

    # a later fetch changes nothing about them
    again = Worker().run(FETCH, G, None, "test")
    assert again.ok and store_keys("left_ims_at IS NOT NULL") == decided

    # an upload for a filed record is refused locally, the user's action kept
    target = rows("SELECT record_id, portal_action FROM ims_records WHERE rtin = ? AND "
                  "left_ims_at IS NOT NULL AND section = 'b2b' ORDER BY record_id LIMIT 1",
                  [G])[0]
    flip = "R" if target[1] == "A" else "A"
    assert save_user_actions([G], {target[0]: {"action": flip}}, "ana").saved == 1
    saves = requests.get(f"{sb.url}/_control/state", timeout=10).json()["requests"].get("SAVE", 0)
    summary = upload_actions(G, [target[0]], "ana")
    assert summary["queued"] == 0 and summary["sent"] == 0
    (why,) = [w for rid, w in summary["refused"] if rid == target[0]]
    assert why.startswith("Not sent: the GSTR-3B of Oct 2025 was filed on 20 Nov 2025")
    assert rows("SELECT user_action, upload_state, upload_error FROM ims_records "
                "WHERE record_id = ?", [target[0]]) == [(flip, "error", why)]
    assert requests.get(f"{sb.url}/_control/state", timeout=10).json()["requests"].get(
        "SAVE", 0) == saves                                       # nothing reached the portal

    panel = deadline_panel([G])[0]
    assert panel["kept_after_filing"] == len(decided)
    assert panel["last_period"] == "Oct 2025" and panel["last_filing"].filed
    assert (panel["next_3b"].label, panel["next_3b"].day) == ("Nov 2025", dt.date(2025, 12, 20))
    assert panel["next_2b"].day == dt.date(2025, 12, 14)


def test_a_document_listed_twice_keeps_both_rows_when_one_leaves(db_file, monkeypatch):
    """The supplier reported an invoice again in a later period: the portal lists it twice
    (told apart by their place in the list). When the first leaves IMS with a filed GSTR-3B,
    the second still matches its own row: nothing is taken for a supplier edit or removed."""
    sb = start_sandbox(scale=3000, extra=["--gstin", G])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    monkeypatch.setenv(clock.TODAY_ENV, "2025-11-20")
    try:
        add_business(G, "Western Agro")
        fetch_ims(G)
        pairs = rows("""SELECT a.section, a.stin, a.doc_no, a.rtnprd, b.record_id, b.rtnprd
                        FROM ims_records a JOIN ims_records b USING (section, stin, doc_no_key, fy)
                        WHERE a.occurrence = 0 AND b.occurrence = 1 AND a.section = 'b2b'
                          AND a.rtnprd IN ('082025', '092025') AND b.rtnprd = '102025'
                        ORDER BY a.record_id""")
        assert pairs, "the sandbox data (seed 7, scale 3000) has no document listed twice"
        section, stin, doc_no, rtnprd, second_id, _ = pairs[0]
        sb.control("set_action", gstin=G, section=section, stin=stin, doc_no=doc_no,
                   rtnprd=rtnprd, action="A")
        fetch_ims(G)
        sb.control("file_gstr3b", gstin=G, ret_period="092025")
        result = Worker().run(FETCH, G, None, "test")
        assert result.ok, result.error
        ims = result.counts["ims"]
        assert (ims["changed"], ims["removed"]) == (0, 0) and ims["left_with_filed_return"] > 0
        assert rows("SELECT rtnprd, left_ims_at IS NOT NULL FROM ims_records WHERE section = ? "
                    "AND stin = ? AND doc_no = ? ORDER BY occurrence",
                    [section, stin, doc_no]) == [(rtnprd, True), ("102025", False)]
        again = Worker().run(FETCH, G, None, "test").counts["ims"]
        assert (again["changed"], again["removed"], again["new"]) == (0, 0, 0)
        assert rows("SELECT rtnprd, left_ims_at IS NULL FROM ims_records WHERE record_id = ?",
                    [second_id]) == [("102025", True)]
    finally:
        stop_sandbox(sb)
