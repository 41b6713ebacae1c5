"""IMS Invoices in Debian's chromium against the app as ./run.sh serves it (issues 13 and 14):
a click on a row of the records list opens THAT record beside its books counterpart (and the
address keeps it), the list and the actions editor are as tall as a 2-row result needs, and a
click on a column heading never leaves one page in its own order: the list's headings sort
every filtered record in the store, the editor's do not sort, and the list's column menu
offers no sort of its own. Screenshots go to
tests/screenshots/ims_*.png. Run with `pytest -m browser`."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from app.ims_grid import DOC_PX, MAX_ROWS_SHOWN, ROW_PX
from core import auth
from tests.fixtures import (
    BUSINESSES,
    ROOT,
    logged_in_page,
    open_actions_editor,
    rows,
    running_app,
    seed_demo,
    settle,
    store_env,
    text_with,
)

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
PW = "correct horse battery"
G = BUSINESSES[0][0]
NO_ACTION = (f"rtin = '{G}' AND removed_at IS NULL AND coalesce(portal_action, 'N') = 'N' "
             "AND coalesce(upload_state, '') NOT IN ('queued', 'sent')")
MARKER_PX = 33          # the list's row-selection column, left of the first data column


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[str]:
    """150 demo records a business (about 75 without action: two pages), two of them the
    only ones whose number holds 'PAIR', and an admin to log in as."""
    db = str(tmp_path_factory.mktemp("ims_rowclick") / "ims.duckdb")
    with store_env(db):
        seed_demo(n_per_business=150)
        pair = [r for (r,) in rows(f"SELECT record_id FROM ims_records WHERE {NO_ACTION} "
                                   "ORDER BY record_id LIMIT 2")]
        rows("UPDATE ims_records SET doc_no = 'PAIR-' || record_id || 'X', "
             "doc_no_key = 'PAIR-' || record_id || 'X' WHERE list_contains(?, record_id)",
             [pair])
        auth.create_user("boss@example.com", PW, "admin")
        with running_app(db, "app/serve.py") as url:
            yield url


@pytest.fixture(scope="module")
def page(chromium, app):
    with logged_in_page(chromium, app, "boss@example.com", PW, height=2000) as pg:
        yield pg


def visit(page, url: str, query: str) -> None:
    page.goto(f"{url}/ims_invoices?{query}")
    page.get_by_text("Download CSV").first.wait_for(timeout=45000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"ims_{name}.png"), full_page=True)


def records_list(page):
    """The read-only list (the first table; the editor sits in the form)."""
    return page.locator('[data-testid="stDataFrame"]').first


def editor(page):
    """The actions editor, its expander opened first when closed (drawn only while open; it
    stays open on the session's next visits)."""
    grid = page.locator('[data-testid="stForm"] [data-testid="stDataFrame"]')
    if not grid.count():
        open_actions_editor(page)
    return grid.first


def docs_shown(grid) -> list[str]:
    """The document numbers a table shows, top to bottom (its accessible text; a table drawn
    anew fills it a moment later)."""
    for _ in range(50):
        found = re.findall(r"INV-\d\d-\d{4}|PAIR-\d+X", grid.text_content() or "")
        if found:
            return found
        grid.page.wait_for_timeout(200)
    return []


def store_docs(order: str, limit: int = 50) -> list[str]:
    return [d for (d,) in rows(f"SELECT doc_no FROM ims_records WHERE {NO_ACTION} "
                               f"ORDER BY {order} NULLS LAST, record_id LIMIT {limit}")]


def click_row(page, grid, row: int) -> None:
    """Click the Document cell of the `row`-th data row (1-based)."""
    box = grid.bounding_box()
    page.mouse.click(box["x"] + MARKER_PX + 60, box["y"] + ROW_PX * row + ROW_PX / 2)
    settle(page)


def click_first_heading(page, grid, left: int) -> None:
    """Click the heading of the first data column (`left` pixels of other columns before it)."""
    box = grid.bounding_box()
    page.mouse.click(box["x"] + left + 25, box["y"] + ROW_PX / 2)
    settle(page)
    page.keyboard.press("Escape")        # a column menu, had the click opened one
    page.wait_for_timeout(300)


def opened_label(text: str) -> str:
    """'Record and its books counterpart · Supplier · debit note INV-1 · Oct 2025 · ...' -> the
    part naming the document ('debit note INV-1')."""
    head = text.split("\n", 1)[0]
    assert head.startswith("Record and its books counterpart · "), head
    return head.split(" · ")[2]


def test_a_row_click_opens_that_record_beside_its_books_counterpart(page, app):
    visit(page, app, f"business={G}")
    by_date = store_docs("doc_date DESC")
    view = page.locator(".st-key-record_view")
    assert by_date[0] in view.inner_text()          # before a click: the page's first record
    click_row(page, records_list(page), 4)
    text = view.inner_text()
    assert opened_label(text).endswith(f" {by_date[3]}"), text[:300]
    assert by_date[0] not in text
    compared = text_with(view.locator('[data-testid="stDataFrame"]').first,
                         "Books (purchase register)", by_date[3])
    assert "Books (purchase register)" in compared and by_date[3] in compared
    opened = rows("SELECT record_id FROM ims_records WHERE doc_no = ? AND rtin = ?",
                  [by_date[3], G])[0][0]
    assert f"record={opened}" in page.url
    shoot(page, "1_row_click_opens_record")
    click_row(page, records_list(page), 2)          # another row: that one now
    assert opened_label(view.inner_text()).endswith(f" {by_date[1]}")
    page.reload()                                   # the address keeps the record opened
    page.get_by_text("Download CSV").first.wait_for(timeout=45000)
    settle(page)
    assert opened_label(view.inner_text()).endswith(f" {by_date[1]}")


def test_the_grids_are_as_tall_as_a_two_row_result_needs(page, app):
    visit(page, app, f"business={G}&doc=PAIR")
    page.get_by_text("2 records · page 1 of 1").wait_for()
    listed, edited = records_list(page).bounding_box(), editor(page).bounding_box()
    assert ROW_PX * 3 <= listed["height"] <= ROW_PX * 3 + 10, listed    # heading + 2 rows
    assert ROW_PX * 4 <= edited["height"] <= ROW_PX * 4 + 10, edited    # + the empty row
    assert len(docs_shown(records_list(page))) == 2
    shoot(page, "2_two_rows_fit")
    visit(page, app, f"business={G}")
    tall = records_list(page).bounding_box()["height"]
    assert tall <= ROW_PX * (MAX_ROWS_SHOWN + 1) + 10       # 50 rows scroll, not stretch


def test_a_heading_click_sorts_every_filtered_record_never_one_page(page, app):
    visit(page, app, f"business={G}")
    total = rows(f"SELECT count(*) FROM ims_records WHERE {NO_ACTION}")[0][0]
    by_date, by_doc = store_docs("doc_date DESC"), store_docs("doc_no")
    assert total > 50 and by_doc[0] not in by_date          # the first by number is on page 2
    assert docs_shown(records_list(page))[:5] == by_date[:5]

    # the actions editor: a heading click leaves the order as the store gave it
    click_first_heading(page, editor(page), 75)             # past the ✓ column
    assert docs_shown(editor(page))[:5] == by_date[:5]
    assert "sorted by Date" in page.inner_text("body")
    shoot(page, "3_editor_heading_does_not_sort")

    # the list: a heading click sorts every filtered record in the store, both ways
    click_first_heading(page, records_list(page), MARKER_PX)
    page.get_by_text(f"sorted by Document (smallest / earliest first) over all {total:,} "
                     "filtered records").wait_for(timeout=15000)
    assert docs_shown(records_list(page))[:5] == by_doc[:5]
    assert docs_shown(editor(page))[:5] == by_doc[:5]       # the editor follows
    assert "sort=document" in page.url and "order=asc" in page.url   # words in the address
    shoot(page, "3_heading_sorts_the_store")
    click_first_heading(page, records_list(page), MARKER_PX)
    page.get_by_text("sorted by Document (largest / latest first)").wait_for(timeout=15000)
    assert docs_shown(records_list(page))[:5] == store_docs("doc_no DESC")[:5]

    # the heading's menu (⋮) offers no browser-side sort either
    box = records_list(page).bounding_box()
    page.mouse.move(box["x"] + MARKER_PX + DOC_PX / 2, box["y"] + ROW_PX / 2)
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + MARKER_PX + DOC_PX - 15, box["y"] + ROW_PX / 2)
    menu = page.get_by_role("menu", name="Dataframe column menu")
    menu.wait_for(timeout=10000)
    items = [m.inner_text() for m in menu.get_by_role("menuitem").all() if m.is_visible()]
    assert any("Hide column" in i for i in items), items          # the menu is open
    assert not any("Sort" in i for i in items), items
    shoot(page, "3_column_menu_without_sort")
    page.keyboard.press("Escape")
