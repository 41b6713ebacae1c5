"""IMS Invoices under load (issue 29, many sessions): a page run never writes a download.

Every download (Excel and both CSVs) is built when it is clicked (Streamlit's deferred
download), not on every run of the page: a workbook cost about 1.2 s of the one shared
interpreter per run for 2,569 records, and a CSV made with the page was fetched by the browser
on every view (about 300 KB for the default view's two). tests/test_screens_browser.py clicks
a CSV twice and gets it both times."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.fixtures import ROOT, seed_demo


def test_every_download_is_built_on_the_click(db_file):
    seed_demo()
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert set(buttons) >= {"Download CSV", "Download Excel", "Download all records (CSV)"}
    for label, button in buttons.items():
        assert button.HasField("deferred_file_id"), label
        assert not button.url, label      # no file sent with the page
