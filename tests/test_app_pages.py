"""Every page through Streamlit's AppTest, against a real DuckDB file."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from streamlit.testing.v1 import AppTest

from app.ui import STILL_RUNNING_CUE
from tests.fixtures import BUSINESSES, ROOT, SAMPLES, opened_actions_editor, rows, seed_demo

PAGES = ["dashboard", "ims_invoices", "approvals", "reconciliation", "purchase_register",
         "settings"]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_empty_store(db_file, page):
    at = open_page(page)
    texts = [i.value for i in at.info]
    if page != "settings":
        assert any("No business yet" in t for t in texts)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_demo_data(db_file, page):
    seed_demo()
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]
    assert not any("No business yet" in i.value for i in at.info)


def test_settings_submit_persists_and_worker_next_tick_uses_it(db_file):
    from core.clock import ManualClock, business_tz
    from core.schedule.scheduler import Worker
    seed_demo()
    first, second = BUSINESSES[0][0], BUSINESSES[1][0]
    at = open_page("settings")
    at.multiselect[0].set_value([first])
    at.time_input[0].set_value(dt.time(7, 30))
    at.selectbox[0].set_value("2a_vs_pr")
    next(b for b in at.button if b.label == "Submit").click()
    at.run()
    assert not at.exception
    # created just now, after today's 07:30: no catch-up fetch, so nothing more is said
    assert [s.value for s in at.success] == ["IMS settings saved. The worker uses them from its next minute."]
    preview = at.table[0].value
    next_fetch = str(preview.loc[preview["Business"].str.contains(first), "Next fetch"].iloc[0])
    assert "07:30" in next_fetch
    # The worker reads the settings from the store on its next tick.
    day = dt.datetime.now(business_tz()).date() + dt.timedelta(days=2)
    tick = Worker(clock=ManualClock(dt.datetime.combine(day, dt.time(7, 31), business_tz())), jobs={})
    due = [(j.job, j.gstin, j.slot.strftime("%H:%M")) for j in tick.due()]
    assert ("fetch", first, "07:30") in [(j[0].split("_")[0], j[1], j[2]) for j in due]
    assert all(j[1] != second for j in due)


def test_settings_turns_approval_before_upload_on_for_a_business(db_file):
    from core.ims.approval import approval_businesses
    seed_demo()
    first = BUSINESSES[0][0]
    rows("UPDATE ims_records SET user_action = 'A' WHERE record_id = (SELECT min(record_id) "
         "FROM ims_records WHERE rtin = ? AND coalesce(portal_action, 'N') = 'N')", [first])
    at = open_page("settings")
    chooser = next(m for m in at.multiselect if m.label.startswith("Businesses whose actions"))
    chooser.set_value([first])
    next(b for b in at.button if b.label == "Save approval setting").click()
    at.run()
    assert not at.exception
    assert approval_businesses([b for b, _ in BUSINESSES]) == [first]
    assert "1 record(s) changed state" in " ".join(s.value for s in at.success)
    assert rows("SELECT count(*) FROM ims_records WHERE approval_state = 'proposed'") == [(1,)]


def test_add_business_validates_gstin(db_file):
    at = open_page("settings")
    at.text_input[0].set_value("27AAPFU0939F1ZO")
    at.text_input[1].set_value("Typo Ltd")
    next(b for b in at.button if b.label == "Save business").click()
    at.run()
    assert "check character O, expected V" in at.error[0].value
    assert rows("SELECT count(*) FROM businesses") == [(0,)]
    at.text_input[0].set_value("27aapfu0939f1zv")
    next(b for b in at.button if b.label == "Save business").click()
    at.run()
    assert rows("SELECT gstin, name, state_code FROM businesses") == [("27AAPFU0939F1ZV", "Typo Ltd", "27")]


def editor(at: AppTest):
    return opened_actions_editor(at)


def test_grid_edit_saved_lands_in_records_and_action_log(db_file):
    seed_demo()
    at = open_page("ims_invoices")
    # the editor, its buttons and the sheet's uploader are drawn only once opened
    assert not at.data_editor and not at.file_uploader
    assert "Save changes" not in [b.label for b in at.button]
    grid = editor(at)
    first_doc, third_doc = grid.value["doc_no"].iloc[0], grid.value["doc_no"].iloc[2]
    at.session_state[grid.key] = {"edited_rows": {0: {"user_action": "Accept", "supplier_remark": "ok by AP"},
                                                  2: {"user_action": "Pending"}},
                                  "added_rows": [], "deleted_rows": []}
    next(b for b in at.button if b.label == "Save changes").click()
    at.run()
    assert not at.exception
    saved = rows("SELECT doc_no, user_action, user_supplier_remark, user_action_by FROM ims_records "
                 "WHERE user_action IS NOT NULL ORDER BY doc_no")
    assert sorted(saved) == sorted([(first_doc, "A", "ok by AP", "local"), (third_doc, "P", None, "local")])
    log = rows("SELECT r.doc_no, l.kind, l.old_value, l.new_value, l.actor FROM action_log l "
               "JOIN ims_records r USING (record_id) ORDER BY r.doc_no")
    assert sorted(log) == sorted([(first_doc, "user_action", None, "A", "local"),
                                  (third_doc, "user_action", None, "P", "local")])
    assert any("2 record(s) saved" in s.value for s in at.success)
    assert bucket_label(at, "to_upload") == "To upload (2)"
    for page in ("dashboard", "ims_invoices"):     # the editor stays open on the next visit
        at.switch_page(f"pages/{page}.py")
        at.run()
    assert at.data_editor and "Save changes" in [b.label for b in at.button]


def test_bulk_action_on_selected_rows(db_file):
    seed_demo()
    at = open_page("ims_invoices")
    grid = editor(at)
    docs = list(grid.value["doc_no"].iloc[[3, 4]])
    at.session_state[grid.key] = {"edited_rows": {3: {"select": True}, 4: {"select": True}},
                                  "added_rows": [], "deleted_rows": []}
    at.selectbox(key="bulk_action").set_value("P")
    next(b for b in at.button if b.label == "Apply to selected rows").click()
    at.run()
    assert not at.exception
    changed = rows("SELECT doc_no, user_action FROM ims_records WHERE user_action IS NOT NULL")
    blocked = rows("SELECT doc_no FROM ims_records WHERE list_contains(?, doc_no) AND ispendactblocked = 'Y'",
                   [docs])
    assert sorted(changed) == sorted((d, "P") for d in docs if (d,) not in blocked)
    assert rows("SELECT count(*) FROM action_log WHERE kind = 'user_action'") == [(len(changed),)]


def bucket_label(at: AppTest, bucket: str) -> str:
    """The bucket control's label for `bucket`, with its count."""
    from core.ims.view import BUCKETS
    return next(o for o in at.segmented_control[0].options if o.startswith(BUCKETS[bucket][0] + " ("))


def test_filters_and_paging(db_file):
    seed_demo(n_per_business=70)
    at = open_page("ims_invoices")
    total = rows("SELECT count(*) FROM ims_records WHERE coalesce(portal_action, 'N') = 'N'")[0][0]
    assert bucket_label(at, "no_action") == f"No action ({total})"
    page1 = list(editor(at).value["doc_no"])
    assert len(page1) == 50 and at.pagination[0].num_pages == 2
    at.pagination[0].set_value(2)
    at.run()
    page2 = list(editor(at).value["doc_no"])
    assert len(page2) == total - 50 and not set(page1) & set(page2)
    at.multiselect(key="f_section").set_value(["b2bcn"])
    at.text_input(key="f_doc").set_value("inv-27")
    at.run()
    expected = rows("SELECT doc_no FROM ims_records WHERE section = 'b2bcn' AND doc_no LIKE 'INV-27%' "
                    "AND coalesce(portal_action, 'N') = 'N'")
    assert sorted(editor(at).value["doc_no"]) == sorted(r[0] for r in expected)
    assert bucket_label(at, "no_action") == f"No action ({len(expected)})"
    at.text_input(key="f_doc").set_value("x' OR '1'='1")
    at.run()
    assert not at.exception and bucket_label(at, "no_action") == "No action (0)"


def test_purchase_upload_import_and_rollback(db_file):
    from core.business.registry import save_business
    save_business("27AAACW1234K1ZD", "Sample Co", "test")
    at = open_page("purchase_register")
    data = (SAMPLES / "purchase_register_sample.csv").read_bytes()
    at.file_uploader[0].set_value(("purchase_register_sample.csv", data, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    assert not at.exception
    assert "batch 1" in at.success[0].value
    imported = rows("SELECT count(*) FROM purchase_docs WHERE batch_id = 1")[0][0]
    assert imported > 0
    at.run()
    next(b for b in at.button if b.label == "Roll back").click()
    at.run()
    assert rows("SELECT count(*) FROM purchase_docs") == [(imported,)]   # asked first
    assert any(f"removes **{imported:,} document(s)**" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == f"Yes, remove {imported:,} document(s)").click()
    at.run()
    assert rows("SELECT count(*) FROM purchase_docs") == [(0,)]
    assert rows("SELECT rolled_back_by FROM purchase_batches") == [("local",)]


def test_reconciliation_run_now_stores_a_run(db_file):
    seed_demo()
    at = open_page("reconciliation")
    before = rows("SELECT count(*) FROM reco_runs")[0][0]
    next(b for b in at.button if b.label == "Run now").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert rows("SELECT count(*) FROM reco_runs")[0][0] == before + 1
    # the open tab's two charts are sent, the other tabs' only when opened (lazy tabs)
    assert [c.key for c in at.get("plotly_chart")] == ["by_count", "by_value"]
    assert sorted(every_run_chart(at)) == ["by_count", "by_value", "reasons", "top_suppliers",
                                           "trend"]


def every_run_chart(at: AppTest) -> dict:
    """{key: the chart's plotly spec} of Reconciliation's run charts, each chart tab opened
    in turn (the page sends the open tab's charts only)."""
    import json
    charts = {}
    for tab in ("By status", "Top suppliers at risk", "Reasons", "Trend by period"):
        at.session_state["reco_chart_tab"] = tab
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        charts.update({c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")})
    return charts


def test_tally_layout_imports_for_the_chosen_company_among_several(db_file):
    from core.business.registry import save_business
    seed_demo()            # two businesses and a demo purchase batch already in the store
    save_business("27AAACW1234K1ZD", "Sample Co", "test")
    at = open_page("purchase_register")
    data = (SAMPLES / "purchase_register_tally_layout.csv").read_bytes()
    at.file_uploader[0].set_value(("tally.csv", data, "text/csv"))
    at.selectbox(key="pr_template").set_value("tally")
    at.run()
    assert any("no company GSTIN: choose the company above" in e.value for e in at.error)
    company = at.selectbox(key="pr_company")
    assert sorted(company.options[1:]) == ["Acme Fabrics Pvt Ltd · 27AAPFU0939F1ZV",
                                           "Bengal Tools Ltd · 29AAGCB7383J1Z4", "Sample Co · 27AAACW1234K1ZD"]
    company.set_value("27AAACW1234K1ZD")
    at.run()
    assert not at.error, [e.value for e in at.error]
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    batch = rows("SELECT max(batch_id) FROM purchase_batches")[0][0]
    assert batch == 2 and f"batch {batch}" in at.success[0].value
    assert rows("SELECT DISTINCT rtin FROM purchase_docs WHERE batch_id = ?", [batch]) == [("27AAACW1234K1ZD",)]
    assert rows("SELECT count(*) FROM purchase_docs WHERE batch_id = ?", [batch])[0][0] > 0


def test_upload_limit_matches_the_importers_cap(db_file):
    import tomllib

    from core.purchase.read import MAX_UPLOAD_BYTES
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    # The browser takes what an import needs (256 MB, issue 29.4); the importer itself reads up
    # to 1 GB from the command line.
    assert config["server"]["maxUploadSize"] == 256 and MAX_UPLOAD_BYTES == 1024 ** 3
    from core.business.registry import save_business
    save_business("27AAACW1234K1ZD", "Sample Co", "test")
    at = open_page("purchase_register")
    assert at.file_uploader[0].proto.max_upload_size_mb == 256


def test_reconciliation_shows_the_chosen_business_newest_run(db_file):
    from core.business.registry import save_business
    seed_demo()
    save_business("27AAACW1234K1ZD", "Sample Co", "test")      # no run yet, first by GSTIN
    first, second = BUSINESSES[0][0], BUSINESSES[1][0]
    newest = dict(rows("SELECT rtin, max(run_id) FROM reco_runs GROUP BY rtin"))
    assert newest[second] > newest[first]
    at = open_page("reconciliation")
    run = lambda: next(s for s in at.selectbox if s.label == "Run")
    assert at.selectbox(key="reco_business").value == second         # reconciled last
    assert run().value == newest[second]
    at.selectbox(key="reco_business").set_value(first)
    at.run()
    assert run().value == newest[first] and run().options == [(f"Run {newest[first]} · IMS vs Purchase "
                                                               "Register · all periods · 12 Nov 2025, 11:30 IST · 53 rows")]
    next(b for b in at.button if b.label == "Run now").click()
    at.run()
    again = rows("SELECT max(run_id) FROM reco_runs WHERE rtin = ?", [first])[0][0]
    assert again > newest[first] and run().value == again
    at.selectbox(key="reco_business").set_value("27AAACW1234K1ZD")
    at.run()
    assert not at.exception and not [s for s in at.selectbox if s.label == "Run"]
    assert any("No reconciliation of IMS vs Purchase Register · Sample Co · 27AAACW1234K1ZD · "
               "all periods has run yet" in i.value for i in at.info)



def test_dashboard_tells_whether_the_worker_runs_from_its_lock(db_file):
    from tests.test_core_views import hold_worker_lock, release
    seed_demo()                  # jobs from Nov 2025: older than 26 hours
    at = open_page("dashboard")
    assert any("The worker is not running; the last job ran 12 Nov 2025, 11:35 IST" in w.value for w in at.warning)
    proc = hold_worker_lock()
    try:
        at = open_page("dashboard")
    finally:
        release(proc)
    warnings = [w.value for w in at.warning]
    assert not any("not running" in w for w in warnings), warnings
    assert any("The worker is running but no job has run since 12 Nov 2025, 11:35 IST" in w for w in warnings)


def test_reconciliation_charts_read_as_periods_and_keep_status_colours(db_file):
    seed_demo()
    charts = every_run_chart(open_page("reconciliation"))
    trend = next(s for s in charts.values()
                 if s["layout"]["title"]["text"].startswith("Trend by period"))
    for spec in charts.values():     # every chart says whose figures and which run
        assert re.search(r"<sup>\w[^<]* · \d{2}[A-Z0-9]{13}</sup><br><sup>run \d+ of \d{2} "
                         r"\w{3} \d{4}, \d{2}:\d{2} IST</sup>",
                         spec["layout"]["title"]["text"]), spec["layout"]["title"]
    assert {x for trace in trend["data"] for x in trace["x"]} == {"Sep 2025", "Oct 2025"}
    assert trend["layout"]["xaxis"]["type"] == "category"
    pie = next(s for s in charts.values()
               if s["layout"]["title"]["text"].startswith("Status by count"))
    pie_colours = dict(zip(pie["data"][0]["labels"], pie["data"][0]["marker"]["colors"]))
    trend_colours = {t["name"]: t["marker"]["color"] for t in trend["data"]}
    assert pie_colours["Matched"] == trend_colours["Matched"]
    assert pie_colours["Amounts differ"] == trend_colours["Amounts differ"]
    from core.labels import STATUS_COLOURS, STATUS_ORDER
    assert all(STATUS_COLOURS[name] == colour for name, colour in trend_colours.items())
    names = [t["name"] for t in trend["data"]]   # one legend order on every chart
    assert names == sorted(names, key=STATUS_ORDER.index)


def test_the_running_cue_is_still_words_on_every_page(db_file):
    """Streamlit's running man changes picture five times a second while a page waits for the
    server (the browser redraws it all along: docs/reliability.md); the app frame, which runs
    before every page and the login, hides it and says "Working ..." instead."""
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    styles = [h.proto.body for h in at.get("html")]
    assert STILL_RUNNING_CUE in styles
    assert "stStatusWidgetRunningManIcon" in STILL_RUNNING_CUE and "Working" in STILL_RUNNING_CUE
