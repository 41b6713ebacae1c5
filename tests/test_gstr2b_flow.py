"""GSTR-2B end to end over HTTP (docs/month-close.md): the real sandbox, a real store, the
real worker's scheduler with its real jobs, the business day moved by the sandbox's day
advance through IMS_CLOCK_FILE. Before the 14th no 2B is fetched; on the 14th the worker
fetches it; actions changed afterwards show on the Dashboard's GSTR-2B panel as a count (the
core function, then the panel itself in Streamlit's AppTest); the panel's regeneration (GEN2B,
GENSTS2B, the new 2B) brings the count back to 0; a filed period is refused in words."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
import requests
from streamlit.testing.v1 import AppTest

from core import auth
from core.auth.roles import PermissionDenied
from core.calendar.store import calendars
from core.clock import ManualClock, to_store
from core.gstr2b.job import PeriodFiled, fetch_gstr2b
from core.gstr2b.panel import gstr2b_panel, regenerate_from_dashboard
from core.gstr2b.schedule import fetch_due_2b, period_to_fetch
from core.gstr2b.store import stored_2b, stored_2b_documents
from core.ims.sync import SyncError, run_reconciliation
from core.portal.client import GstnClient
from core.portal.filing_status import track_filings
from core.purchase.importing import import_purchase_file
from core.reco.view import (
    export_with_words,
    reco_periods,
    results_export,
    results_page,
    shown_results,
)
from core.schedule.scheduler import Worker
from core.schedule.status import business_job_status
from tests.fixtures import (
    ROOT,
    add_business,
    rows,
    start_sandbox,
    stop_sandbox,
    write_2b_docs_as_books,
)

G = "27AAACW1234K1ZD"
OCT = "102025"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
PW = "correct horse battery"


def at_six(day: int) -> dt.datetime:
    return dt.datetime(2025, 11, day, 6, 0, tzinfo=IST)


@pytest.fixture
def world(db_file, tmp_path, monkeypatch):
    """The sandbox (its day in the clock file the app reads), one business fetched daily at
    06:00, September's GSTR-3B filed on 20 Oct 2025 (so October's 2B comes on 14 Nov)."""
    clock_file = tmp_path / "today.txt"
    monkeypatch.setenv("IMS_CLOCK_FILE", str(clock_file))
    sb = start_sandbox(extra=["--gstin", G, "--clock-file", str(clock_file)])
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    add_business(G, "Western Agro", fetch_time="06:00", created_at=to_store(at_six(1)))
    sb.control("file_gstr3b", gstin=G, ret_period="092025", date="2025-10-20")
    yield sb
    stop_sandbox(sb)


def next_day(sb) -> None:
    sb.control("advance_day", days=1, new_per_day=0, edits_per_day=0)


def gstr2b_runs() -> list[tuple]:
    return rows("SELECT job, ok, counts, triggered_by FROM job_runs "
                "WHERE job LIKE 'gstr2b%' ORDER BY run_id")


def late_shown(gstin: str = G) -> list[dict]:
    (panel,) = [p for p in gstr2b_panel([gstin]) if p["gstin"] == gstin]
    return panel["late"]


def change_actions(sb, count_r: int, count_p: int) -> None:
    """Reject `count_r` and keep pending `count_p` filed b2b records of October that have no
    action, on the portal (as someone would there)."""
    found = [r for r in GstnClient().get_ims_raw(G, "B2B")["b2b"]
             if r["rtnprd"] == OCT and r["action"] == "N" and r["srcfilstatus"] == "Filed"]
    for rec, action in zip(found, ["R"] * count_r + ["P"] * count_p):
        sb.control("set_action", gstin=G, section="B2B", stin=rec["stin"], doc_no=rec["inum"],
                   action=action, rtnprd=OCT)


def open_dashboard(user) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
    at.session_state["auth_user_id"] = user.user_id
    at.run()
    at.switch_page("pages/dashboard.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in (at.warning, at.markdown, at.caption,
                                               at.success, at.error) for e in kind)


def test_the_worker_fetches_2b_on_the_14th_and_the_panel_regenerates_it(world):
    auth.create_user("boss@example.com", PW, "admin")
    analyst = auth.create_user("ana@example.com", PW, "analyst", [G])
    auditor = auth.create_user("audrey@example.com", PW, "auditor", [G])
    clock = ManualClock(at_six(12))
    worker = Worker(clock)

    # 12 and 13 Nov: the daily fetch runs, the 2B of October is not due: nothing fetched
    for day in (12, 13):
        if day == 13:
            next_day(world)
            clock.set(at_six(13))
        done = [(r.job, r.ok) for r in worker.tick()]
        assert done == [("fetch", True), ("sync", True)], done
    assert stored_2b(G, OCT) is None and gstr2b_runs() == []
    assert late_shown() == []

    # 14 Nov: the portal generates it; the worker's tick fetches it after the day's fetch
    next_day(world)
    clock.set(at_six(14))
    done = [(r.job, r.ok) for r in worker.tick()]
    assert done == [("fetch", True), ("sync", True), ("gstr2b", True)], done
    first = stored_2b(G, OCT)
    assert first["version"] == "1" and first["gendt"] == dt.date(2025, 11, 14)
    assert first["documents"] > 50
    assert worker.tick() == []                                   # once per daily slot
    (job, ok, counts, trigger), = gstr2b_runs()
    assert (job, ok, trigger) == ("gstr2b", True, "schedule")
    assert "GSTR-2B of Oct 2025 fetched (version 1, generated on 14 Nov 2025" in counts
    status = business_job_status(gstins=[G])[0]["last_gstr2b"]
    assert "GSTR-2B of Oct 2025 fetched" in status and "IST" in status
    shown = subprocess.run([sys.executable, "worker.py", "status"], cwd=ROOT, text=True,
                           capture_output=True, timeout=120, env=os.environ.copy(), check=False)
    assert f"  {G}: 14 Nov 2025, 06:00 IST: GSTR-2B of Oct 2025 fetched (version 1" \
        in shown.stdout, shown.stdout + shown.stderr
    assert late_shown() == []

    # 15 Nov: 2 rejected and 1 kept pending on the portal after the 2B; the day's fetch
    # reads them, the 2B job asks again (same version: kept), the panel counts 3
    change_actions(world, 2, 1)
    next_day(world)
    clock.set(at_six(15))
    assert [r.job for r in worker.tick()] == ["fetch", "sync", "gstr2b"]
    assert "unchanged (version 1)" in gstr2b_runs()[-1][2]
    (late,) = late_shown()
    assert (late["period"], late["label"], late["count"], late["generated"]) == \
        (OCT, "Oct 2025", 3, "14 Nov 2025")

    # the panel: the count in words; the button for the analyst, not for the auditor
    seen = open_dashboard(auditor)
    assert "GSTR-2B needs regeneration** for Oct 2025: 3 IMS record(s)" in texts(seen)
    assert not [b for b in seen.button if b.label == "Regenerate GSTR-2B"]
    with pytest.raises(PermissionDenied):
        regenerate_from_dashboard(auditor, G, OCT)
    at = open_dashboard(analyst)
    assert "generated on 14 Nov 2025 does not reflect" in texts(at)
    (button,) = [b for b in at.button if b.label == "Regenerate GSTR-2B"]
    button.click()
    at.run()
    assert "**3 IMS record(s)**" in texts(at)                    # the confirmation's count
    (yes,) = [b for b in at.button if b.label == "Yes, regenerate for 3 record(s)"]
    yes.click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    said = texts(at)
    assert "GSTR-2B of Oct 2025 regenerated on request of ana@example.com (version 2" in said
    assert "it now agrees with the IMS actions" in said
    assert late_shown() == [] and stored_2b(G, OCT)["version"] == "2"
    job, ok, counts, trigger = gstr2b_runs()[-1]
    assert (job, ok, trigger) == ("gstr2b_regenerate", True, "ana@example.com")
    assert "GSTR-2B needs regeneration" not in texts(at)

    # 16 Nov: the worker asks again and keeps version 2; October's GSTR-3B filed on the
    # 20th: the panel's regeneration is refused in words, before anything is sent
    next_day(world)
    clock.set(at_six(16))
    assert [r.job for r in worker.tick()] == ["fetch", "sync", "gstr2b"]
    assert "unchanged (version 2)" in gstr2b_runs()[-1][2]
    world.control("advance_day", days=4, new_per_day=0, edits_per_day=0)
    world.control("file_gstr3b", gstin=G, ret_period=OCT)
    track_filings(GstnClient(), G)
    with pytest.raises(PeriodFiled, match="The GSTR-3B of Oct 2025 was filed on 20 Nov 2025"):
        regenerate_from_dashboard(analyst, G, OCT)
    assert gstr2b_runs()[-1][1] is False
    clock.set(at_six(21))
    assert [r.job for r in worker.tick()] == ["fetch", "sync"]   # filed: that 2B is final


def test_not_generated_yet_is_said_in_words_and_asked_again(world, monkeypatch):
    """The business day says the 14th while the portal has not generated the 2B (its day is
    still the 12th): the job says so in words and does not fail; before the 14th nothing is
    due at all."""
    monkeypatch.setenv("IMS_TODAY", "2025-11-14")
    track_filings(GstnClient(), G)
    calendar = calendars([G])[G]
    assert period_to_fetch(calendar, dt.date(2025, 11, 13)) is None
    assert period_to_fetch(calendar, dt.date(2025, 11, 14)) == OCT
    done = fetch_due_2b(G)
    assert done == {"period": OCT, "outcome": "GSTR-2B of Oct 2025 is not generated on the "
                                              "portal yet; the worker asks again tomorrow."}
    assert stored_2b(G, OCT) is None
    assert requests.get(f"{world.url}/health", timeout=5).ok


def test_2b_vs_pr_run_shows_the_2b_facts_in_words(world, tmp_path):
    """A 2b_vs_pr run over the stored 2B and the books (core.ims.sync.run_reconciliation, as the
    Reconciliation page's Run now): its periods are the stored 2Bs'; the drill-down and the
    download show the supplier's trade name, ITC availability and the advice in words, and
    the documents rejected in IMS as such."""
    change_actions(world, 2, 0)
    world.control("gstr2b", generate={"gstin": G, "period": OCT})
    fetch_gstr2b(G, OCT, GstnClient())
    docs = stored_2b_documents(G, OCT).to_dicts()
    kept = [d for d in docs if not d["rejected_in_ims"] and d["doc_type"] not in ("BOE", "ISD")]
    rejected = [d for d in docs if d["rejected_in_ims"]]
    assert len(rejected) >= 2                           # the two just rejected, and others
    write_2b_docs_as_books(tmp_path / "books.csv", G, kept[: len(kept) * 4 // 5] + rejected[:1])
    assert import_purchase_file(tmp_path / "books.csv", "standard", "test").batch_id
    assert reco_periods([G], "2b_vs_pr") == [OCT]
    with pytest.raises(SyncError, match="No GSTR-2B of 092025 is stored"):
        run_reconciliation(G, "2b_vs_pr", ["092025"], "test")
    run_id = run_reconciliation(G, "2b_vs_pr", [OCT], "test")

    page, total = results_page(run_id, [G], [], 1, 1000)
    assert total == len(docs) + 1                      # every 2B document, + the books' one
    shown = shown_results(page)
    assert {"Supplier name", "ITC in 2B", "What to do before GSTR-3B"} <= set(shown.columns)
    assert not {"trdnm", "itcavl", "rsn", "itc_advice", "rejected_in_ims"} & set(shown.columns)
    by_status = {}
    for row in shown.to_dicts():
        by_status.setdefault(row["match_status"], []).append(row)
    assert len(by_status["Rejected in IMS"]) == len(rejected)
    assert {r["What to do before GSTR-3B"] for r in by_status["Rejected in IMS"]} == \
        {"Do not claim: rejected in IMS"}
    assert any(r["What to do before GSTR-3B"].startswith("Do not claim: rejected in IMS (not")
               for r in by_status["Missing on portal"])
    unavailable = [r for r in shown.to_dicts() if r["ITC in 2B"].startswith("ITC not")]
    assert unavailable and all(r["ITC in 2B"] in (
        "ITC not available: the place of supply is in the supplier's own state, not in yours",
        "ITC not available: the supplier filed after the time limit of section 16(4)",
        "ITC not available: the input service distributor marked it ineligible")
        for r in unavailable)
    assert {r["What to do before GSTR-3B"] for r in by_status["Matched"]} <= {
        "Claim", "Do not claim: ITC not available in 2B (reason P)",
        "Do not claim: ITC not available in 2B (reason C)"}
    names = {d["trdnm"] for d in kept}
    assert {r["Supplier name"] for r in by_status["Matched"]} <= names
    download = export_with_words(results_export(run_id, [G]))
    assert download.height == total
    assert download.columns[:2] == ["Status", "Recommended action"]
    assert {"Supplier name", "ITC in 2B", "What to do before GSTR-3B", "itcavl", "rsn"} <= \
        set(download.columns)
    ims_run = run_reconciliation(G, "ims_vs_pr", None, "test")
    assert "Supplier name" not in shown_results(results_page(ims_run, [G], [], 1, 5)[0]).columns
