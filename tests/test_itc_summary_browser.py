"""The ITC Summary page in Debian's chromium (docs/month-close.md, "The ITC summary"): with the
GSTR-2B sample stored and the purchase-register sample imported, the Table 4 figures shown in
Indian grouping with every tax head in one table, a click on an amount opening the documents
behind it, and the Excel download
opened with openpyxl; a period without a 2B says when it comes. Screenshots go to
tests/screenshots/itc_*.png. Run with `pytest -m browser`."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator

import openpyxl
import pytest

from app.ims_grid import ROW_PX
from app.table4_grid import TABLE4_PX
from core.business.registry import save_business
from core.gstr2b.store import store_2b
from core.month_close import itc_summary, table4_rows
from core.portal.payload.gstr2b import flatten_2b
from core.purchase import import_purchase_file
from tests.fixtures import COMPANY, ROOT, SAMPLES, running_app, settle, store_env

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("itc") / "ims.duckdb")
    with store_env(db):
        save_business(COMPANY, "Western Works", "test")
        head, rows = flatten_2b(json.loads((SAMPLES / "gstr2b_sample.json").read_text()))
        store_2b(COMPANY, "102025", head, rows)
        assert import_purchase_file(SAMPLES / "purchase_register_sample.csv", actor="test").ok
        lines = [(r["row"], r["source"]) for r in table4_rows(itc_summary(COMPANY,
                                                                         "102025").figures)]
    with running_app(db, "app/serve.py", IMS_TODAY="2025-12-01") as url:   # as ./run.sh
        yield url, lines


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 2600},
                                   accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def table_cells(page, index: int) -> list[list[str]]:
    table = page.locator('[data-testid="stTable"] table').nth(index)
    table.locator("tbody tr").last.wait_for(timeout=30000)
    return [[c.strip() for c in row.locator("td").all_inner_texts()]
            for row in table.locator("tbody tr").all()]


def table4_grid(page):
    return page.locator('.st-key-itc_table4 [data-testid="stDataFrame"]')


def click_amount(page, line: int, head: int) -> None:
    """Click the amount of tax head `head` (0: IGST .. 3: Cess) on Table 4's `line` (0-based)."""
    grid = table4_grid(page)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    words, figure, amount = TABLE4_PX
    page.mouse.click(box["x"] + words + figure + amount * head + amount / 2,
                     box["y"] + ROW_PX * (line + 1) + ROW_PX / 2)
    settle(page)


def test_figures_drill_down_and_download(app, page):
    url, lines = app
    page.goto(f"{url}/itc_summary")
    page.get_by_text("Table 4, every tax head").first.wait_for(timeout=45000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "documents dated 01 Oct 2025 to 31 Oct 2025" in page.inner_text("body")
    assert "does not agree with its documents" not in page.inner_text("body")
    # every tax head in one table (issue 24, item 7): IGST .. Cess side by side, by row
    table4_grid(page).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "itc_table4.png"), full_page=True)
    shown = table4_grid(page).evaluate("el => el.textContent")
    for words in ("IGST", "CGST", "SGST", "Cess", "4(A)(5) All other ITC", "2B - books",
                  "8,100.00", "-3,060.00", "2,970.00"):
        assert words in shown, (words, shown[:400])
    fits = table4_grid(page).evaluate(
        "el => { const s = el.querySelector('.dvn-scroller') || el;"
        "        return s.scrollWidth - s.clientWidth; }")
    assert fits <= 1, fits                                    # no column out of view
    net = {r[0]: r[1:] for r in table_cells(page, 0)}
    assert net["GSTR-2B"][1] == "2,970.00" and net["Books"][1] == "4,410.00"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "itc_table4.png"), full_page=True)

    # a click on 4(A)(5)'s IGST difference opens the documents behind it
    click_amount(page, lines.index(("4A5", "difference")), 0)
    text = page.inner_text("body")
    assert ("4(A)(5) All other ITC, IGST, Difference (2B - books): 4 document line(s); they "
            "add up to -₹3,060.00.") in text
    click_amount(page, lines.index(("4C", "2b")), 1)          # and 4(C)'s CGST in the 2B
    assert "4(C) Net ITC available (A - B), CGST, GSTR-2B (its documents):" in \
        page.inner_text("body")
    assert "they add up to ₹2,970.00." in page.inner_text("body")
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "itc_drill_down.png"), full_page=True)

    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the ITC summary (Excel)").first.click()
    download = caught.value
    assert download.suggested_filename.startswith("itc-summary_27AAACW1234K1ZD_Oct2025_table4_")
    book = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()), read_only=True)
    assert book.sheetnames == ["Table 4", "Net ITC", "Documents", "About"]
    table = {r[0]: r for r in book["Table 4"].iter_rows(min_row=2, values_only=True)}
    header = next(book["Table 4"].iter_rows(max_row=1, values_only=True))
    column = header.index("IGST: GSTR-2B")
    docs = list(book["Documents"].iter_rows(values_only=True))
    igst, row_at, from_at = docs[0].index("IGST"), docs[0].index("Table 4 row"), \
        docs[0].index("From")
    in_4a5 = sum(d[igst] for d in docs[1:] if d[row_at] == "4(A)(5) All other ITC"
                 and d[from_at] == "GSTR-2B")
    assert table["4(A)(5) All other ITC"][column] == pytest.approx(in_4a5) == 8100.0
    assert "Kaveri Components" in {d[docs[0].index("Supplier")] for d in docs[1:]}


def test_a_period_without_2b_says_when_it_comes(app, page):
    page.goto(f"{app[0]}/itc_summary")
    page.get_by_text("Table 4, every tax head").first.wait_for(timeout=45000)
    settle(page)
    choose(page, "Tax period", "Nov 2025")
    assert "GSTR-2B for Nov 2025 is not fetched yet; it is generated on 14 Dec 2025." in \
        page.inner_text("body")
    page.screenshot(path=str(SHOTS / "itc_not_fetched.png"), full_page=True)
