"""The Purchase Register import as a GST analyst meets it (issue 14), in Debian's chromium
against the real app: a file with errors shows the faulty field's own value and the line's
document number, says why Import is off, imports the valid lines alone after a confirmation
with counts and rupees, and gives the rejected lines back as CSV; the Batches table is not
clipped at 1440 px and its height fits its rows. Screenshots: tests/screenshots/purchase_*.png.
Run with `pytest -m browser`."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import auth
from core.business.registry import save_business
from core.purchase import import_purchase_file, rollback_batch
from tests.fixtures import (
    COMPANY,
    KAVERI,
    ROOT,
    line,
    rows,
    running_app,
    settle,
    store_env,
    text_with,
    write_csv,
)

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
PW = "correct horse battery"
BAD_GSTIN = "27AAPFU0939F1ZO"


def faulty_file(folder: Path) -> Path:
    """Eight lines: documents A (two lines), D and F are fine; B's second line has no number
    for its amount, C's first line an impossible date, E a wrong supplier GSTIN."""
    return write_csv(folder, "october_books.csv", [
        line(doc_no="A-1", txval="100000"), line(doc_no="A-1", txval="25000.50", cgst="0",
                                                 sgst="0"),
        line(doc_no="B-1", txval="2000"), line(doc_no="B-1", txval="12x"),
        line(doc_no="C-1", date="31/02/2025"), line(doc_no="C-1", txval="3000"),
        line(doc_no="D-1", txval="1000", stin=KAVERI, name="Kaveri Components", cgst="0",
             sgst="0", igst="180"),
        line(doc_no="E-1", stin=BAD_GSTIN),
    ])


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A business, an analyst granted it, two earlier batches (one rolled back) and the app."""
    work = tmp_path_factory.mktemp("purchase_browser")
    db = str(work / "ims.duckdb")
    with store_env(db):
        save_business(COMPANY, "Western Agro Industries", "test")
        auth.create_user("boss@example.com", PW, "admin")
        auth.create_user("ana@example.com", PW, "analyst", [COMPANY])
        first = write_csv(work, "purchase_register_september_2025_all_branches.csv",
                          [line(doc_no=f"S-{i}") for i in range(1, 4)])
        rollback_batch(import_purchase_file(first, actor="ana@example.com").batch_id, "ana")
        second = write_csv(work, "purchase_register_september_2025_revised.csv",
                           [line(doc_no=f"R-{i}") for i in range(1, 6)])
        assert import_purchase_file(second, actor="ana@example.com").ok
        with running_app(db) as url:
            yield url, faulty_file(work)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 1800},
                                   accept_downloads=True)
    yield context.new_page()
    context.close()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"purchase_{name}.png"), full_page=True)


def open_purchase_register(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill("ana@example.com")
    page.get_by_role("textbox", name="Password").fill(PW)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for(timeout=30000)
    page.get_by_role("link", name="Purchase Register").click()
    page.get_by_role("heading", name="Batches").wait_for(timeout=45000)
    settle(page)


def grid_fits(page, index: int, *parts: str) -> dict:
    """The grid's own scroller: does it scroll sideways (clipped columns) or leave rows out?
    Read once the grid holds `parts` (it fills its cells a moment after the run that drew it
    ends)."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(index)
    text_with(grid, *parts)
    return grid.evaluate(
        """el => { const s = el.querySelector('.dvn-scroller') || el;
                   return {sideways: s.scrollWidth - s.clientWidth,
                           down: s.scrollHeight - s.clientHeight,
                           text: el.textContent}; }""")


def table_fits(page) -> dict:
    """The static Batches table: is any of it beyond its box (sideways or down), and where
    does each heading end against the box's right edge?"""
    return page.locator('[data-testid="stTable"]').first.evaluate(
        """el => { const box = el.getBoundingClientRect();
                   const heads = [...el.querySelectorAll('th')].map(
                       th => [th.textContent.trim(), th.getBoundingClientRect().right]);
                   const s = [el, ...el.querySelectorAll('*')].filter(
                       e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX
                            !== 'visible').map(e => e.scrollWidth - e.clientWidth);
                   return {right: box.right, heads: heads, sideways: s,
                           text: el.innerText}; }""")


def test_the_batches_table_is_not_clipped_at_1440_px(page, app):
    url, _ = app
    open_purchase_register(page, url)
    page.locator('[data-testid="stTable"] th').first.wait_for(timeout=30000)
    settle(page)
    shoot(page, "1_batches_1440")
    fit = table_fits(page)
    assert not fit["sideways"], fit                       # nothing scrolls out of view
    heads = dict(fit["heads"])
    assert "Rolled back" in heads and len(heads) == 12, fit
    assert all(right <= fit["right"] + 1 for right in heads.values()), fit
    text = fit["text"].replace("\u200b", "")               # the places a name may wrap
    assert "purchase_register_september_2025_all_branches.csv" in text   # whole, not cut
    assert text.count("IST") == 3 and "ana@example.com" in text


def test_a_file_with_errors_imports_its_valid_lines_alone(page, app):
    url, path = app
    open_purchase_register(page, url)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("Import is off").wait_for(timeout=45000)
    settle(page)
    problems = grid_fits(page, 0, "31/02/2025", "12x", BAD_GSTIN)["text"]
    for value in ("31/02/2025", "12x", BAD_GSTIN):          # the faulty field's own value
        assert value in problems, problems
    assert "Document" in problems and "B-1" in problems
    body = page.locator("body").inner_text()
    assert ("Import is off: 3 lines have errors. Fix them in the file and upload again, or "
            "import the 3 valid lines alone.") in body
    assert "2 other lines of their documents are left out with them" in body
    assert page.get_by_role("button", name="Import", exact=True).is_disabled()
    shoot(page, "2_errors_and_why_import_is_off")

    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name="Download the 5 rejected lines (CSV)").click()
    assert info.value.suggested_filename == "october_books_rejected.csv"
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rejected = list(csv.DictReader(io.StringIO(text)))
    assert [r["doc_no"] for r in rejected] == ["B-1", "B-1", "C-1", "C-1", "E-1"]
    assert list(rejected[0])[-1] == "Problem" and "taxable_value" in rejected[0]
    assert rejected[1]["Problem"] == "Taxable value: '12x' is not a number"

    page.get_by_role("button", name="Import the 3 valid lines").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("2 documents").wait_for(timeout=30000)
    words = dialog.inner_text()
    # Indian grouping; A-1's untaxed line is not taxable value (docs/reconciliation.md)
    assert "3 lines as 2 documents: taxable ₹1,01,000.00" in words, words
    assert "document value ₹1,26,360.50" in words, words
    assert "3 lines with errors" in words and "2 other lines" in words
    assert rows("SELECT count(*) FROM purchase_docs WHERE doc_no IN ('A-1', 'D-1')") == [(0,)]
    shoot(page, "3_confirm_valid_lines")
    dialog.get_by_role("button", name="Yes, import 3 valid lines").click()
    page.get_by_text("documents imported").first.wait_for(timeout=45000)
    settle(page)
    shoot(page, "4_valid_lines_imported")
    assert rows("SELECT doc_no FROM purchase_docs WHERE batch_id = 3 ORDER BY doc_no") == [
        ("A-1",), ("D-1",)]
    assert rows("SELECT count(*) FROM purchase_docs WHERE doc_no IN ('B-1', 'C-1', 'E-1')"
                ) == [(0,)]
    assert rows("SELECT count(*) FROM purchase_docs WHERE batch_id = 2") == [(5,)]


def test_net_amounts_file_lines_and_import_again(page, app):
    """Issue 24, item 8: an invoice netting below zero is refused on its line of the file (the
    header is line 1); the confirmations say net rupees (Rs 35,000 for a file netting so, not
    the 45,000 of its absolute values); a file already imported offers "Import again", its
    earlier batch's time in the business zone."""
    url, path = app
    work = path.parent
    net = write_csv(work, "november_books.csv", [
        line(doc_no="N-1", txval="30000", cgst="2700", sgst="2700"),
        line(doc_no="N-1", txval="10000", cgst="900", sgst="900"),
        line(doc_no="N-2", doc_type="CRN", txval="-5000", cgst="-450", sgst="-450"),
        line(doc_no="N-3", txval="-2000", cgst="-180", sgst="-180")])
    open_purchase_register(page, url)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(net))
    page.get_by_text("Import is off").wait_for(timeout=45000)
    settle(page)
    problems = grid_fits(page, 0, "Line of the file", "N-3")["text"]
    assert "Line of the file" in problems and "add up to a negative amount" in problems
    assert "-2000.00" in problems and "N-3" in problems
    assert "counting its header as line 1" in page.locator("body").inner_text()
    page.get_by_role("button", name="Import the 3 valid lines").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("2 documents").wait_for(timeout=30000)
    words = dialog.inner_text()
    assert "taxable ₹35,000.00" in words and "tax ₹6,300.00" in words, words
    assert "(net: credit notes subtract)" in words, words
    shoot(page, "5_net_amounts")
    dialog.get_by_role("button", name="Yes, import 3 valid lines").click()
    page.get_by_text("documents imported").first.wait_for(timeout=45000)
    settle(page)
    (batch,) = rows("SELECT batch_id FROM purchase_batches WHERE file_name = 'november_books.csv'")
    page.get_by_role("combobox", name="Roll back batch").click()
    page.keyboard.type("november")
    page.get_by_role("option").filter(has_text="november_books.csv").click()
    settle(page)
    page.get_by_role("button", name="Roll back", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("removes").wait_for(timeout=30000)
    assert f"{batch[0]} · november_books.csv" in dialog.inner_text()
    assert "taxable ₹35,000.00" in dialog.inner_text(), dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    settle(page)

    again = work / "purchase_register_september_2025_revised.csv"    # batch 2, still live
    page.get_by_test_id("stRadioGroup").get_by_text("Replace them").click()
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(again))
    page.get_by_text("This very file was already imported as batch 2").wait_for(timeout=45000)
    settle(page)
    said = page.locator("body").inner_text()
    assert " IST by ana@example.com). Importing it again makes a new batch" in said
    assert "--force" not in said
    page.get_by_role("button", name="Import again").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Yes, import again").wait_for(timeout=30000)
    shoot(page, "6_import_again")
    dialog.get_by_role("button", name="Yes, import again").click()
    page.get_by_text("5 documents imported, 5 replaced").wait_for(timeout=45000)
    assert rows("SELECT count(*) FROM purchase_batches WHERE file_name = "
                "'purchase_register_september_2025_revised.csv'") == [(2,)]
