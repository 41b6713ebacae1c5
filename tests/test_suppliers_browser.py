"""The Suppliers page in Debian's chromium (docs/suppliers.md): over the demo store the worklist
shows each supplier by name with its ITC at stake, the statement downloads as Excel whose rows
are the supplier's worklist rows, and "Send statements to every supplier with open items" mails
the suppliers that have a contact e-mail through a real SMTP server (aiosmtpd, started here).
Screenshots: tests/screenshots/suppliers_*.png. Run with `pytest -m browser`."""
from __future__ import annotations

import io
from collections.abc import Iterator

import openpyxl
import polars as pl
import pytest

from core.mail import save_smtp_settings
from core.store import connect
from core.suppliers import save_supplier, statement_frame, worklist
from tests.fixtures import BUSINESSES, ROOT, running_app, seed_demo, settle, store_env
from tests.mailserver import MailServer

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
G = BUSINESSES[0][0]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    db = str(tmp_path_factory.mktemp("suppliers") / "ims.duckdb")
    mail = MailServer()
    mail.start()
    with store_env(db):
        seed_demo(n_per_business=20, with_jobs=False)
        items = worklist(G)
        stins = items["stin"].unique(maintain_order=True).to_list()
        save_supplier(G, {"supplier_gstin": stins[0], "trade_name": "Ganga Polymers",
                          "emails": "accounts@ganga.test"}, "test")
        with connect() as con:
            save_smtp_settings(con, mail.settings)
    with running_app(db, IMS_TODAY="2025-11-20") as url:
        yield {"url": url, "items": items, "first": stins[0], "mail": mail,
               "others": len(stins) - 1}
    mail.stop()


def test_worklist_statement_and_bulk_send(world, chromium):
    context = chromium.new_context(viewport={"width": 1500, "height": 2200},
                                   accept_downloads=True)
    page = context.new_page()
    page.goto(f"{world['url']}/suppliers")
    page.get_by_text("Suppliers with something to fix").first.wait_for(timeout=60000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "suppliers_worklist.png"), full_page=True)
    # the supplier chosen, by the master's name beside its GSTIN
    assert page.get_by_text(f"Ganga Polymers · {world['first']}").count() >= 1

    with page.expect_download() as caught:
        page.get_by_role("button", name="Download statement (Excel)").click()
    download = caught.value
    assert download.suggested_filename == f"statement_{world['first']}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    expected = statement_frame(world["items"].filter(pl.col("stin") == world["first"]))
    assert list(rows[0]) == expected.columns
    assert [r[3] for r in rows[1:]] == expected["Document number"].to_list()
    assert [r[6] for r in rows[1:]] == expected["What to fix"].to_list()

    page.get_by_text("The e-mail the supplier gets").click()
    settle(page)
    page.screenshot(path=str(SHOTS / "suppliers_statement_mail.png"), full_page=True)

    page.get_by_role("button", name="Send statements to every supplier with open items").click()
    settle(page)
    page.get_by_text("statements sent; the rest say why below").wait_for(timeout=30000)
    body = page.inner_text("body")
    assert f"1 of {world['others'] + 1} statements sent" in body
    assert "has no contact e-mail in the supplier master" in body
    [msg] = world["mail"].messages
    assert msg.envelope_to == ["accounts@ganga.test"]
    assert "Ganga Polymers" in str(msg["Subject"])
    page.screenshot(path=str(SHOTS / "suppliers_bulk_send.png"), full_page=True)
    context.close()
