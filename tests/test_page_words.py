"""Every page, opened as admin, analyst and auditor over the demo store, speaks words: no label,
heading, metric, caption, option, help text, message (info, warning, error, success, toast),
chart legend or table cell is a store code (`missing_in_pr`, an upper-case `_`-separated token
such as `TAXABLE_VALUE`, a field name such as `ispendactblocked`, a period as `102025`, a date
as `2025-10-01`, an internal record id, a command-line flag), a literal `None` / `nan`, or a
time without its zone (core/labels.py, core/timefmt.py); the address a user copies carries
words (`status=missing-in-books`), and the old codes still open the page."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.gstr2b.store import store_2b
from core.ims.actions import save_user_actions
from core.ims.approval import return_actions, set_approval
from core.labels import REASONS, STATUSES
from core.portal.payload.gstr2b import flatten_2b
from core.store import connect
from tests.fixtures import (
    BUSINESSES,
    ROOT,
    SAMPLES,
    SUPPLIERS,
    charts_of_every_tab,
    opened_sections,
    seed_demo,
)
from tests.fixtures import rows as store_rows

PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]
PAGES = {"admin": ("dashboard", "ims_invoices", "approvals", "purchase_register",
                   "reconciliation", "itc_summary", "suppliers", "settings", "users"),
         "analyst": ("dashboard", "ims_invoices", "approvals", "purchase_register",
                     "reconciliation", "itc_summary"),
         "auditor": ("dashboard", "ims_invoices", "approvals", "purchase_register",
                     "reconciliation", "itc_summary", "suppliers")}
UPPER_CODE = re.compile(r"^[A-Z0-9]+(_[A-Z0-9]+)+$")
LOWER_CODE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
# the taxes' own names (IGST, CGST, SGST) are words as well as reason tokens
STORE_CODES = {s for s in STATUSES if "_" in s} | (set(REASONS) - {"IGST", "CGST", "SGST"})
RAW = {"None", "nan", "NaN", "NaT", "null", "<NA>"}
# in prose: store field names, request types, a period or date written as the store keeps it,
# an internal record id, a command-line flag (outside `code` spans, which are for operators)
FIELD_WORDS = re.compile(r"\b(ispendactblocked|isitcredreqblocked|rtnprd|ret_period|MMYYYY|"
                         r"RETTRACK|reqtyp)\b|\b(SAVE|RESET)\b|(?<![\w-])--[a-z]|"
                         r"\b[Rr]ecord \d+\b|\bportal record \d+\b|"
                         r"(?<![\d,.])(0[1-9]|1[0-2])20\d\d(?![\d,.])|\b\d{4}-\d{2}-\d{2}\b")
PERIOD_CODE = re.compile(r"^(0[1-9]|1[0-2])20\d\d$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( 00:00:00)?$")
TIME = re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?(\.\d+)?\b(?!\s*(:|[A-Z]{2,5}\b|[+-]\d{2}:?\d{2}))")


ONE_OF_MANY = re.compile(r"(?<![\d,.])1 (records|events|rows|documents|errors|lines|suppliers)\b")


def what_is_wrong(text: str) -> str | None:
    """Why a whole shown text is a code or a raw value (None: it reads fine)."""
    cell = str(text).strip()
    if cell in RAW:
        return "raw value"
    parts = [p.strip() for p in re.split(r"[;,]", cell) if p.strip()]
    if (parts and all(re.fullmatch(r"[A-Z0-9_]+", p) or LOWER_CODE.match(p) for p in parts)
            and any("_" in p for p in parts)):
        return "store code"
    if PERIOD_CODE.match(cell):
        return "period as a code"
    if ISO_DATE.match(cell):
        return "date as a code"
    if TIME.search(cell):
        return "time without its zone"
    return None


def words_in_prose(text: str) -> str | None:
    """A caption or heading: no store code anywhere in it (outside `code` spans)."""
    prose = re.sub(r"`[^`]*`", "", str(text))
    if found := FIELD_WORDS.search(prose):
        return f"code {found.group(0)}"
    if found := ONE_OF_MANY.search(prose):
        return f"a count and its noun disagree: {found.group(0)}"
    for word in re.findall(r"[A-Za-z0-9_]+", prose):
        if word in STORE_CODES or (UPPER_CODE.match(word) and word not in ("GSTR_2B",)):
            return f"store code {word}"
    return what_is_wrong(prose) if TIME.search(prose) else None


def chart_texts(spec: dict) -> list[str]:
    """The legend names, category values and titles of a plotly figure."""
    texts = []
    for trace in spec.get("data", []):
        texts.append(str(trace.get("name") or "x"))
        for axis in ("x", "y", "labels"):
            values = trace.get(axis)
            if isinstance(values, list):
                texts += [v for v in values if isinstance(v, str)]
    return texts


def shown_as_dates(config: dict, column: str) -> bool:
    """A date column the page formats itself ('D MMM YYYY', no time of day)."""
    kind = (config.get(column) or config.get(f"col:{column}") or {}).get("type_config") or {}
    return kind.get("type") == "date" and "MMM" in str(kind.get("format"))


def findings(at: AppTest, charts: list | None = None) -> list[tuple[str, str, str]]:
    """(where, text, why) for everything wrong on the page (its charts: `charts`, by default
    those it draws now)."""
    charts = at.get("plotly_chart") if charts is None else charts
    found = []

    def check(where: str, text, judge=what_is_wrong) -> None:
        why = judge(text) if text is not None else "raw value"
        if why:
            found.append((where, str(text), why))

    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning",
                 "error", "success", "toast"):
        for e in getattr(at, kind):
            check(kind, e.value, words_in_prose)
    for e in at.expander:
        check("expander label", e.label, words_in_prose)
    for m in at.metric:
        check("metric", m.label)
        check("metric", m.value)
        check("metric help", m.proto.help or "", words_in_prose)
    for kind in ("selectbox", "multiselect", "radio", "text_input", "button", "checkbox",
                 "number_input", "date_input", "time_input", "toggle", "text_area"):
        for w in getattr(at, kind):
            check(f"{kind} label", w.label, words_in_prose)
            check(f"{kind} help", getattr(w, "help", None) or "", words_in_prose)
            for option in getattr(w, "options", None) or []:
                check(f"{kind} option", option)
    for d in at.dataframe:
        blank_nulls = bool(d.proto.placeholder) or d.proto.HasField("placeholder")
        config = json.loads(d.proto.columns or "{}")
        frame = d.value
        shown = list(d.proto.column_order) or list(frame.columns)   # hidden columns left out
        for column in [c for c in frame.columns if c in shown]:
            heading = (config.get(column) or config.get(f"col:{column}") or {}).get("label")
            check("table heading", heading or column, words_in_prose)
            if shown_as_dates(config, column):   # the browser writes them '20 Sep 2025'
                continue
            for value in frame[column].tolist():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    if not blank_nulls:
                        found.append(("table cell", f"{column}: empty", "shown as None"))
                    continue
                if not isinstance(value, (int, float, bool)):
                    check(f"table cell {column}", value)
    for table in at.table:       # small tables that wrap (st.table): every heading and cell
        frame = table.value
        for column in frame.columns:
            check("table heading", column, words_in_prose)
            for value in frame[column].tolist():
                if not isinstance(value, (int, float, bool)):
                    check(f"table cell {column}", value)
    for chart in charts:
        for text in chart_texts(json.loads(chart.proto.spec)):
            check("chart", text)
    return found


@pytest.fixture
def people(db_file):
    seed_demo(n_per_business=30)
    head, rows = flatten_2b(json.loads((SAMPLES / "gstr2b_sample.json").read_text()))
    for gstin in (G1, G2):   # a stored 2B: the ITC Summary shows its tables
        store_2b(gstin, "102025", head, rows)
    with connect() as con:   # a supplier's GSTR-3B not filed, its registration cancelled
        for gstin in (G1, G2):
            con.execute("INSERT INTO supplier_returns VALUES (?, ?, '102025', 'Y', 'N', "
                        "DATE '2025-10-15', TIMESTAMP '2025-11-12 06:00:00')",
                        [gstin, SUPPLIERS[0]])
            con.execute("INSERT INTO gstr2a_docs (rtin, ret_period, section, stin, doc_type, "
                        "doc_no, doc_date, cfs, igst, fetched_at) VALUES (?, '102025', 'b2b', "
                        "?, 'INV', 'X-1', DATE '2025-10-02', 'Y', 1800, "
                        "TIMESTAMP '2025-11-12 06:00:00')", [gstin, SUPPLIERS[0]])
    people = {"admin": auth.create_user("boss@example.com", PW, "admin"),
              "analyst": auth.create_user("ana@example.com", PW, "analyst", [G1]),
              "auditor": auth.create_user("audrey@example.com", PW, "auditor", [G2])}
    for gstin in (G1, G2):   # approval on: proposals waiting, one returned with a comment
        set_approval(gstin, True, "cli")
        ids = [r[0] for r in store_rows("SELECT record_id FROM ims_records WHERE rtin = ? AND "
                                  "doc_type = 'INV' AND ispendactblocked = 'N' "
                                  "ORDER BY record_id LIMIT 3", [gstin])]
        save_user_actions([gstin], {i: {"action": "A"} for i in ids}, "ana@example.com")
        return_actions([gstin], ids[:1], "boss@example.com", "the books show another rate")
    return people


def open_as(user, page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=90)
    at.session_state["auth_user_id"] = user.user_id
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_judge_tells_codes_from_words():
    for bad in ("missing_in_pr", "TAXABLE_VALUE;CGST;SGST", "None", "nan",
                "2025-09-20 00:00:00", "12 Nov 2025, 11:30"):
        assert what_is_wrong(bad), bad
    for good in ("Missing in books", "Taxable value differs, CGST differs", "20 Sep 2025",
                 "12 Nov 2025, 11:30 IST", "12,34,567.00", "INV-27-0001", G1):
        assert what_is_wrong(good) is None, good
    assert words_in_prose("Reasons: TAXABLE_VALUE") and not words_in_prose("Run `python x`")
    assert words_in_prose("History of this record (1 events)")
    assert not words_in_prose("History of this record (1 event), 21 events, 1,001 events")


@pytest.mark.parametrize("who", ["admin", "analyst", "auditor"])
def test_every_page_speaks_words(people, who, db_file):
    problems = {}
    folder = str(Path(db_file).parent)
    for page in PAGES[who]:
        at = open_as(people[who], page)
        opened_sections(at)        # the words of the sections drawn only when opened, too
        if who != "admin":   # where the store and its backups live: admins only
            texts = [str(e.value) for kind in ("markdown", "caption", "warning", "info",
                                                "error", "success") for e in getattr(at, kind)]
            assert not [t for t in texts if folder in t], (page, folder)
        assert at.dataframe or at.table or page in ("settings", "users", "purchase_register"), \
            page
        charts = charts_of_every_tab(at, page)      # each chart tab opened in turn
        for where, text, why in findings(at, charts):   # one example of each kind of problem
            problems.setdefault(f"{page} · {where} · {why}", text)
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def test_the_address_a_user_copies_carries_words_and_old_links_still_open(people):
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=90)
    at.session_state["auth_user_id"] = people["admin"].user_id
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.query_params["status"] = "missing_in_pr"        # a link copied before words
    at.query_params["recommended"] = "R"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="f_status").value == ["missing_in_pr"]
    assert at.multiselect(key="f_rec").value == ["R"]
    address = {k: at.query_params[k] for k in at.query_params}
    flat = {k: (v[0] if isinstance(v, list) else v) for k, v in address.items()}
    assert flat["status"] == "missing-in-books" and flat["recommended"] == "reject", flat
    assert flat["bucket"] == "no-action", flat
    for name, value in flat.items():
        assert "_" not in value, (name, value)
    again = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=90)
    again.session_state["auth_user_id"] = people["admin"].user_id
    again.run()
    again.switch_page("pages/ims_invoices.py")
    again.query_params.update(flat)                    # the new link opens the same filters
    again.run()
    assert again.multiselect(key="f_status").value == ["missing_in_pr"]
    assert again.multiselect(key="f_rec").value == ["R"]


def test_the_month_close_and_import_messages_of_issue_24_speak_words():
    """Messages a page shows only in states the demo store lacks (issue 24, items 7 and 8):
    the 2B's late records, Table 4's figures, the refused negative invoice, Import again, the
    duplicates table and the OTP request's cancel."""
    import datetime as dt

    from core.gstr2b.store import HELD_WORDS, NOW_WORDS
    from core.month_close.excel import FIGURE_WORDS
    from core.portal.sessions import describe
    from core.purchase.documents import NEGATIVE_INVOICE
    from core.purchase.problems import (
        DUPLICATE_ACTION,
        DUPLICATE_OF,
        already_imported_words,
    )
    before = {"batch_id": 2, "file_name": "books.csv", "imported_by": "ana@example.com",
              "imported_at": dt.datetime(2025, 11, 12, 6, 30)}
    pending = {"state": "otp_sent", "otp_requested_at": before["imported_at"],
               "access_ends_at": dt.datetime(2099, 1, 1), "connected_at": None,
               "token_sealed": None, "token_expires_at": None, "reason": None}
    texts = [NEGATIVE_INVOICE, already_imported_words(before, "skip"),
             already_imported_words(before, "replace"), describe(pending),
             *(f"{n}; {h}" for n in NOW_WORDS.values() for h in HELD_WORDS.values()),
             *FIGURE_WORDS.values(), *DUPLICATE_OF.values(), *DUPLICATE_ACTION.values()]
    problems = {t: words_in_prose(t) or what_is_wrong(t) for t in texts}
    assert not {t: p for t, p in problems.items() if p}, problems
    assert "12 Nov 2025, 12:00 IST" in texts[1] and "Until then" in texts[3]
