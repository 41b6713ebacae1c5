"""The month from the app (issue 24, item 3): the Dashboard's "Fetch now" fetches a business's
IMS, GSTR-2A and GSTR-2B from the real sandbox as recorded jobs and says what came, next to
the button; the ITC Summary offers the GSTR-2B's fetch in the page, never a shell command; an
auditor may not fetch. Streamlit's AppTest against a real DuckDB file and the sandbox over
HTTP, on the sandbox's day (12 Nov 2025)."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.business.registry import save_business
from sandbox.demo import DEMO_GSTINS
from tests.fixtures import ROOT, rows

PW = "correct horse battery"
G = DEMO_GSTINS[0]


@pytest.fixture
def people(db_file, sandbox, monkeypatch):
    monkeypatch.setenv("IMS_TODAY", "2025-11-12")      # the sandbox's day
    save_business(G, "Western Agro Industries Ltd (Maharashtra)", "test")
    auth.create_user("boss@example.com", PW, "admin")
    return {"analyst": auth.create_user("ana@example.com", PW, "analyst", [G]),
            "auditor": auth.create_user("audrey@example.com", PW, "auditor", [G])}


def open_as(user, page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
    at.session_state["auth_user_id"] = user.user_id
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "success",
                                               "warning", "error", "code")
                     for e in at.get(kind))


def test_fetch_now_on_the_dashboard_runs_recorded_jobs_and_says_what_came(people):
    at = open_as(people["analyst"], "dashboard")
    next(b for b in at.button if b.label == "Fetch now").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    jobs = dict(rows("SELECT job, count(*) FROM job_runs WHERE gstin = ? AND ok "
                     "AND triggered_by = 'ana@example.com' GROUP BY job", [G]))
    assert jobs == {"fetch_ims": 1, "fetch_2a": 1, "gstr2b": 1, "sync": 1}, jobs
    said = [s.value for s in at.success]
    assert len(said) == 1, said
    assert "IMS fetched: " in said[0] and "GSTR-2A fetched: " in said[0]
    assert "GSTR-2B of Sep 2025 fetched: version 1, generated on 14 Oct 2025" in said[0]
    assert "Recommendations refreshed" in said[0]
    assert rows("SELECT count(*) FROM ims_records WHERE rtin = ?", [G])[0][0] > 0


def test_the_itc_summary_fetches_its_gstr2b_in_the_page(people):
    at = open_as(people["analyst"], "itc_summary")
    assert "not fetched yet" in page_text(at)
    assert "worker.py" not in page_text(at) and "--period" not in page_text(at)
    button = next(b for b in at.button if b.label.startswith("Fetch the GSTR-2B of"))
    assert button.label == "Fetch the GSTR-2B of Sep 2025 now"
    button.click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "GSTR-2B version 1, generated on 14 Oct 2025" in page_text(at)
    grid = next(d for d in at.dataframe if "Document number" in d.value.columns).value
    figures = [v for c in ("IGST", "CGST", "SGST", "Cess") for v in grid[c].tolist()]
    assert figures and all(re.fullmatch(r"-?(\d{1,2},)?(\d\d,)*\d{1,3}\.\d\d", v)
                           for v in figures), figures[:10]   # Indian grouping, as text
    assert rows("SELECT count(*) FROM job_runs WHERE job = 'gstr2b' AND ok AND gstin = ?",
                [G])[0][0] == 1


def test_an_auditor_may_not_fetch(people):
    at = open_as(people["auditor"], "dashboard")
    assert next(b for b in at.button if b.label == "Fetch now").disabled
    at = open_as(people["auditor"], "itc_summary")
    assert next(b for b in at.button if b.label.startswith("Fetch the GSTR-2B")).disabled
