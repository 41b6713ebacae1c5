"""What the frame's pages say where a browser adds nothing (AppTest on a real store): a
business enabled again after its fetch time says why a fetch runs now; the GSP session of each
business in one sentence; the Dashboard's counts in Indian grouping; the Add-user form keeping
what was typed after a refusal and starting empty after a success."""
from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from core import auth
from core.clock import business_tz, utc_now
from core.portal.status import session_sentence
from core.store.database import connect
from tests.fixtures import BUSINESSES, ROOT, rows, seed_demo

(G1, NAME1), (G2, NAME2) = BUSINESSES


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_enabling_a_business_after_its_fetch_time_says_a_catch_up_fetch_runs(db_file):
    seed_demo(n_per_business=10)
    with connect() as con:   # an old business, switched off, whose fetch time passed today
        con.execute("UPDATE businesses SET enabled = false, fetch_time = '00:00', "
                    "created_at = created_at - INTERVAL 30 DAY WHERE gstin = ?", [G1])
    at = open_page("settings")
    preview = at.table[0].value
    assert "now" not in " ".join(preview["Next fetch"])          # off: nothing due
    # "Add or edit a business": the GSTIN typed again, auto-generate ticked
    next(t for t in at.text_input if t.label == "GSTIN").set_value(G1)
    next(t for t in at.text_input if t.label == "Name").set_value(NAME1)
    next(c for c in at.checkbox if c.label.startswith("Auto-generate IMS")).check()
    next(b for b in at.button if b.label == "Save business").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert rows("SELECT enabled FROM businesses WHERE gstin = ?", [G1]) == [(True,)]
    said = " ".join(s.value for s in at.success)
    zone = dt.datetime.now(business_tz()).strftime("%Z")
    assert (f"Fetch time 00:00 {zone} has passed today, so a catch-up fetch of {NAME1} ({G1}) "
            "will run within a minute") in said, said
    preview = at.table[0].value
    row = preview.loc[preview["Business"].str.contains(G1)].iloc[0]
    assert row["Next fetch"].startswith("now: a catch-up fetch") and row["Auto-generate"] == "on"
    assert any("catch-up fetch" in c.value for c in at.caption)


def test_the_gsp_session_in_one_sentence():
    now = utc_now().replace(tzinfo=None)
    row = {"state": "connected", "access_ends_at": now + dt.timedelta(days=10),
           "token_expires_at": now + dt.timedelta(hours=5), "otp_requested_at": None,
           "reason": None}
    assert session_sentence(row, now).startswith("Session active until ")
    assert session_sentence(row, now).endswith(" IST")          # a time with its zone
    expired = {**row, "token_expires_at": now - dt.timedelta(hours=1)}
    assert session_sentence(expired, now).startswith(
        "Needs a new OTP: the GSP session expired on ")
    ended = {**row, "access_ends_at": now - dt.timedelta(minutes=1)}
    assert session_sentence(ended, now).startswith("Needs a new OTP: API access ended on ")
    assert session_sentence(None, now, shared_login=True).startswith("Uses the shared GSP login")
    assert session_sentence(None, now) == "Needs an OTP: not connected to the GSP yet"


def test_dashboard_counts_in_indian_grouping(db_file):
    seed_demo(n_per_business=10)
    with connect() as con:     # a lakh and more records' worth of counts, made by copying
        con.execute("INSERT INTO ims_records SELECT * EXCLUDE (range) REPLACE ("
                    "nextval('ims_record_seq') AS record_id, doc_no_key || '-' || range AS "
                    "doc_no_key) FROM ims_records, range(12000) WHERE rtin = ?", [G1])
    at = open_page("dashboard")
    table = at.table[0].value
    acme = table.loc[table["Business"].str.contains(G1)].iloc[0]
    assert acme["Records"] == "1,20,010"


def test_add_user_keeps_the_typed_values_after_a_refusal_and_clears_after_a_success(db_file):
    boss = auth.create_user("boss@example.com", "correct horse battery", "admin")
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.session_state["auth_user_id"] = boss.user_id
    at.run()
    at.switch_page("pages/users.py").run()

    def field(label: str):
        return next(t for t in at.text_input if t.label.startswith(label))

    field("Email").set_value("new.person@example.com")
    field("Password").set_value("short")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert any("at least" in e.value for e in at.error)
    assert field("Email").value == "new.person@example.com" and field("Password").value == "short"
    field("Password").set_value("a long enough password")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert any("Added new.person@example.com" in s.value for s in at.success)
    assert field("Email").value == "" and field("Password").value == ""
