"""The ITC Summary page in Debian's chromium (docs/month-close.md, "The ITC summary"): with the
GSTR-2B sample stored and the purchase-register sample imported, the Table 4 figures shown in
Indian grouping, a drill-down to the documents behind a difference, and the Excel download
opened with openpyxl; a period without a 2B says when it comes. Screenshots go to
tests/screenshots/itc_*.png. Run with `pytest -m browser`."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator

import openpyxl
import pytest

from core.business.registry import save_business
from core.gstr2b.store import store_2b
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
    with running_app(db, IMS_TODAY="2025-12-01") as url:
        yield url


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1500, "height": 2600},
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


def test_figures_drill_down_and_download(app, page):
    page.goto(f"{app}/itc_summary")
    page.get_by_text("Table 4 · IGST").first.wait_for(timeout=45000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "documents dated 01 Oct 2025 to 31 Oct 2025" in page.inner_text("body")
    assert "does not agree with its documents" not in page.inner_text("body")
    rows = {r[0]: r[1:] for r in table_cells(page, 0)}    # row words -> 2B, summary, books, diff
    assert "4(A)(5) All other ITC" in rows, rows
    assert rows["4(A)(5) All other ITC"] == ["8,100.00", "8,100.00", "11,160.00", "-3,060.00"]
    assert rows["4(B)(1) Reversed: rules 38, 42, 43 and section 17(5)"][1] == "not stated"
    assert rows["4(D)(2) Ineligible ITC: section 16(4) and place-of-supply rules"][0] == \
        "1,620.00"
    page.get_by_test_id("stRadioGroup").get_by_text("CGST", exact=True).click()
    settle(page)
    rows = {r[0]: r[1:] for r in table_cells(page, 0)}
    assert rows["4(C) Net ITC available (A - B)"][0] == "2,970.00"
    net = {r[0]: r[1:] for r in table_cells(page, 1)}
    assert net["GSTR-2B"][1] == "2,970.00" and net["Books"][1] == "4,410.00"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "itc_table4.png"), full_page=True)

    page.get_by_test_id("stRadioGroup").get_by_text("IGST", exact=True).click()
    settle(page)
    choose(page, "Figure", "Difference (2B - books)")
    text = page.inner_text("body")
    assert ("4(A)(5) All other ITC, IGST, Difference (2B - books): 4 document line(s); they "
            "add up to ₹-3,060.00.") in text
    grid = page.locator('[data-testid="stDataFrame"]')
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
    page.goto(f"{app}/itc_summary")
    page.get_by_text("Table 4 · IGST").first.wait_for(timeout=45000)
    settle(page)
    choose(page, "Tax period", "Nov 2025")
    assert "GSTR-2B for Nov 2025 is not fetched yet; it is generated on 14 Dec 2025." in \
        page.inner_text("body")
    page.screenshot(path=str(SHOTS / "itc_not_fetched.png"), full_page=True)
