"""The Dashboard's deadline panel in Debian's chromium (docs/month-close.md): one business
monthly in Maharashtra whose October GSTR-3B is not filed (so November's 2B waits), one
quarterly in Karnataka with a due date overridden; the business day fixed with IMS_TODAY.
The panel's dates, the value silence will accept (Indian grouping), the last GSTR-3B, and the
pending records listed in the expander, oldest expiry first. Screenshot:
tests/screenshots/deadline_panel.png."""
from __future__ import annotations

import datetime as dt

import pytest

from app.deadlines_ui import short_rupees
from core.calendar.deadlines import GSTR3B
from core.calendar.panel import deadline_panel
from core.calendar.store import set_frequency, set_override, store_filings
from core.store.database import connect, transaction
from tests.fixtures import (
    BUSINESSES,
    ROOT,
    running_app,
    seed_demo,
    settle,
    store_env,
    temporary_env,
)

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
TODAY = dt.date(2025, 12, 16)
MONTHLY, QUARTERLY = BUSINESSES[0][0], BUSINESSES[1][0]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("deadlines") / "ims.duckdb")
    with temporary_env(IMS_TODAY=TODAY.isoformat()), store_env(db):
        seed_demo(n_per_business=60, with_jobs=True)
        set_frequency(QUARTERLY, "quarterly", "test")
        set_override(QUARTERLY, "122025", GSTR3B, "2026-01-31", "test")
        with connect() as con, transaction(con):
            store_filings(con, MONTHLY, [{"ret_period": "102025", "status": "Not Filed"}],
                          dt.datetime(2025, 12, 16, 1))
        with running_app(db) as url:
            yield url


def test_the_deadline_panel_shows_each_business_calendar(chromium, app_url):
    expected = {p["gstin"]: p for p in deadline_panel([MONTHLY, QUARTERLY], TODAY)}
    page = chromium.new_context(viewport={"width": 1500, "height": 2200}).new_page()
    page.goto(app_url)
    page.get_by_role("heading", name="Deadlines").wait_for(timeout=30000)
    page.get_by_text("Job health").first.wait_for(timeout=30000)
    settle(page)
    text = page.locator("body").inner_text()
    # monthly, Maharashtra, October's GSTR-3B not filed: November's 2B waits for it
    assert "GSTR-2B of Nov 2025" in text and "Waiting" in text
    assert "GSTR-3B of Oct 2025 due" in text and "20 Nov 2025 (26 days ago)" in text
    assert "files GSTR-3B monthly" in text and "quarterly (QRMP), due on the 22nd" in text
    assert "Last GSTR-3B filed" in text and "None found" in text   # October known not filed
    # quarterly, Karnataka, its Oct-Dec due date overridden to 31 Jan 2026
    assert "GSTR-2B of Oct-Dec 2025" in text and "14 Jan 2026 (in 29 days)" in text
    assert "GSTR-3B of Oct-Dec 2025 due" in text and "31 Jan 2026 (in 46 days)" in text
    for panel in expected.values():
        silence = short_rupees(panel["no_action"]["tax"])   # '₹14.36 lakh': never cut
        assert silence in text and len(silence) <= 14, silence
        assert f"{panel['no_action']['count']:,} record(s) with no action" in text
    pending = expected[MONTHLY]["pending"]
    assert pending and [r["expires"] for r in pending] == sorted(r["expires"] for r in pending)
    page.get_by_text("Pending:").first.click()
    settle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=15000)
    assert page.locator('[data-testid="stException"]').count() == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "deadline_panel.png"), full_page=True)
