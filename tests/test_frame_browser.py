"""The app frame, Dashboard, Reconciliation charts, Settings and Users as a person sees them at
1440 px (issue 14), in Debian's chromium against `streamlit run app/serve.py`: no table cell
clipped, the GSP session said in words, a chart naming suppliers beside their GSTINs, a bar
click opening the documents behind it, the Add-user form keeping what was typed after a
refusal, a fresh server's login page without Streamlit's raw page list, and the store's path
shown to admins only. Screenshots go to tests/screenshots/frame_*.png. Run with
`pytest -m browser`."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from core import auth
from core.clock import utc_now
from core.labels import STATUS_ORDER
from core.store.database import connect
from tests.fixtures import BUSINESSES, ROOT, running_app, seed_demo, settle, store_env

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
PW = "correct horse battery"
(G1, NAME1), (G2, NAME2) = BUSINESSES
WIDE = {"width": 1440, "height": 3200}   # 1440 px wide; tall enough for a whole page
CLIPPED_CELLS = """() => {
    const out = [];
    for (const table of document.querySelectorAll('[data-testid="stTable"]')) {
        const box = table.querySelector('table').parentElement;
        if (box.scrollWidth > box.clientWidth + 1) out.push('table wider than its box');
        for (const cell of table.querySelectorAll('th, td')) {
            if (cell.scrollWidth > cell.clientWidth + 1 || cell.scrollHeight > cell.clientHeight + 1)
                out.push(cell.innerText);
        }
    }
    return out;
}"""


def gsp_session(con, gstin: str, expires: dt.datetime) -> None:
    """A GSP session row as core/portal/sessions.py keeps it (no token needed to describe it)."""
    now = utc_now().replace(tzinfo=None)
    con.execute("INSERT INTO gsp_sessions (gstin, username, access_ends_at, state, "
                "token_issued_at, token_expires_at, connected_at, updated_at) VALUES "
                "(?, 'acme.gst', ?, 'connected', ?, ?, ?, ?)",
                [gstin, now + dt.timedelta(days=20), expires - dt.timedelta(hours=6), expires,
                 now - dt.timedelta(days=1), now])


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[str]:
    """The demo store with an admin and an analyst; G1's GSP session expired yesterday, G2's
    holds until tomorrow."""
    db = str(tmp_path_factory.mktemp("frame") / "ims.duckdb")
    with store_env(db):
        seed_demo(n_per_business=60)
        auth.create_user("boss@example.com", PW, "admin")
        auth.create_user("ana@example.com", PW, "analyst", [G1])
        now = utc_now().replace(tzinfo=None)
        with connect() as con:
            gsp_session(con, G1, now - dt.timedelta(days=1))
            gsp_session(con, G2, now + dt.timedelta(days=1))
        with running_app(db, "app/serve.py") as url:
            yield url


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport=WIDE)
    pg = context.new_page()
    yield pg
    context.close()


def log_in(page, url: str, email: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PW)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for(timeout=45000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"frame_{name}.png"), full_page=True)


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def test_dashboard_tables_are_not_clipped_and_say_the_gsp_session_in_words(page, app):
    log_in(page, app, "boss@example.com")
    page.get_by_text("Job health").wait_for(timeout=45000)
    settle(page)
    assert page.locator('[data-testid="stTable"]').count() >= 2
    assert page.evaluate(CLIPPED_CELLS) == []
    job_health = page.locator('[data-testid="stTable"]').filter(has_text="GSP session")
    text = job_health.inner_text()
    assert "Needs a new OTP: the GSP session expired on" in text       # G1, in words
    assert "Session active until" in text and "IST" in text           # G2
    assert "IMS fetch failed on" in text and "HTTP 503 from GSP" in text   # the whole error
    records = page.locator('[data-testid="stTable"]').filter(has_text="Recommended: accept")
    assert f"{NAME1} · {G1}" in records.inner_text()
    assert "Store:" in sidebar_text(page)                              # an admin sees the path
    shoot(page, "1_dashboard_1440")


def bars_of(page, title: str):
    chart = page.locator(".js-plotly-plot").filter(has_text=title)
    chart.scroll_into_view_if_needed()
    return chart, chart.locator("g.point path")


def open_tab(page, name: str) -> None:
    """Open a tab of the page's charts and wait for its charts."""
    page.get_by_role("tab", name=name).click()
    page.locator(".js-plotly-plot").filter(has_text=name.split(" ")[0]).first \
        .wait_for(timeout=30000)
    settle(page)


def click_bar(page, bar) -> None:
    """Click a bar where a person would (Plotly's drag layer lies over the bars)."""
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_chart_names_suppliers_and_a_bar_click_opens_its_documents(page, app):
    log_in(page, app, "boss@example.com", "reconciliation")
    open_tab(page, "Top suppliers at risk")       # only the open tab's charts are drawn
    assert page.locator(".js-plotly-plot").count() == 1
    chart, _ = bars_of(page, "Top suppliers by value at risk")
    labels = chart.locator("g.ytick text").all_text_contents()
    assert labels and all(" · " in t and t.split(" · ")[0].strip() for t in labels), labels
    assert any(t.startswith("Supplier ") for t in labels), labels    # the books' names
    open_tab(page, "By status")
    chart, bars = bars_of(page, "Status by value")
    assert f"{NAME2} · {G2}" in chart.inner_text() or f"{NAME1} · {G1}" in chart.inner_text()
    legend = chart.locator("g.xtick text").all_text_contents()
    target = legend.index("Amounts differ")
    click_bar(page, bars.nth(target))
    page.get_by_text("Showing the documents behind the bar you clicked: Amounts differ") \
        .wait_for(timeout=30000)
    settle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    statuses = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Status")
    assert "Amounts differ" in statuses.inner_text()
    shown = grid.text_content() or ""
    assert "Amounts differ" in shown and "Matched" not in shown
    shoot(page, "2_reco_bar_click_drill_down")


def test_a_dashboard_bar_click_opens_the_ims_records_behind_it(page, app):
    log_in(page, app, "boss@example.com")
    open_tab(page, "ITC by match status")          # the Dashboard draws the open tab's chart
    chart, bars = bars_of(page, "ITC (tax")
    title = " ".join(chart.locator("g.g-gtitle text").all_text_contents())
    assert f"{NAME1} · {G1}" in title and "records as last fetched" in title, title
    assert "IST" in title
    legend = chart.locator("g.legend text.legendtext").all_text_contents()
    assert legend == sorted(legend, key=list(STATUS_ORDER).index), legend   # one order
    click_bar(page, bars.first)
    page.wait_for_url("**/ims_invoices?**", timeout=30000)
    settle(page)
    assert "business=" in page.url and re.search(r"status=(matched|exact)\b", page.url)
    page.get_by_text("Download CSV").first.wait_for(timeout=45000)
    status = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Match status")
    assert "Matched" in status.inner_text()                    # the filter the bar stood for
    shoot(page, "3_dashboard_bar_click_ims")


def test_add_user_keeps_what_was_typed_after_a_refusal(page, app):
    log_in(page, app, "boss@example.com", "users")
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add user")
    form.get_by_role("textbox", name="Email").fill("new.person@example.com")
    form.get_by_role("textbox", name="Password").fill("short")
    form.get_by_role("button", name="Add user").click()
    page.get_by_text(f"at least {auth.MIN_PASSWORD_LENGTH}").last.wait_for(timeout=30000)
    settle(page)
    assert page.locator('[data-testid="stAlertContentError"]').count() >= 1
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add user")
    assert form.get_by_role("textbox", name="Email").input_value() == "new.person@example.com"
    assert form.get_by_role("textbox", name="Password").input_value() == "short"
    assert page.evaluate(CLIPPED_CELLS) == []
    shoot(page, "4_add_user_kept_after_error")


def test_an_analyst_does_not_see_the_store_path(page, app):
    log_in(page, app, "ana@example.com")
    assert "Logged in as" in sidebar_text(page)
    assert "Store:" not in sidebar_text(page) and "ims.duckdb" not in page.content()
    shoot(page, "5_analyst_no_store_path")


def test_a_fresh_servers_first_session_shows_a_login_without_the_raw_page_list(chromium,
                                                                           tmp_path):
    db = str(tmp_path / "ims.duckdb")
    with store_env(db):
        auth.create_user("boss@example.com", PW, "admin")
    with running_app(db, "app/serve.py") as url:
        context = chromium.new_context(viewport=WIDE)
        page = context.new_page()
        try:
            page.goto(url)
            page.get_by_role("textbox", name="Email").wait_for(timeout=45000)
            settle(page)
            body = page.locator("body").inner_text()
            assert "ims_invoices" not in body and "purchase_register" not in body, body
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0
            shoot(page, "6_fresh_server_login")
            log_in(page, url, "boss@example.com")
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "IMS Invoices" in nav and "Purchase Register" in nav
        finally:
            context.close()


def test_a_fresh_installs_first_session_on_a_deep_link_gets_the_apps_own_navigation(
        chromium, tmp_path):
    """Set-up mode (no user yet), the server's very first session opens /itc_summary: with
    app/pages/ beside main.py, Streamlit would run that page file alone in its legacy pages/
    mode, with the file names as a page list (app/serve.py tells it otherwise)."""
    db = str(tmp_path / "ims.duckdb")   # a new store: no user yet
    with running_app(db, "app/serve.py") as url:
        context = chromium.new_context(viewport=WIDE)
        page = context.new_page()
        try:
            page.goto(f"{url}/itc_summary")
            page.get_by_role("heading", name="ITC Summary").wait_for(timeout=45000)
            settle(page)
            shoot(page, "7_fresh_install_deep_link")
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "ITC Summary" in nav and "Purchase Register" in nav, nav
            assert "itc summary" not in nav and "main" not in nav.split(), nav
            assert "Set-up mode" in page.locator("body").inner_text()   # main.py's frame ran
            assert "/itc_summary" in page.url
        finally:
            context.close()
