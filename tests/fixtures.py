"""Builders shared by the tests (the pytest fixtures that use them are in conftest.py).

- paths and the sample files (`tests/data/samples/`);
- the store: `rows`, `add_business`, `store_env`, and `seed_demo` (a demo data set in SQL);
- processes: the sandbox (`start_sandbox`) and the Streamlit app (`running_app`);
- pages: the lazy sections of a page opened in an AppTest (`opened_sections`,
  `opened_actions_editor`), IMS Invoices' editor in a browser (`open_actions_editor`), the
  charts of every chart tab (`charts_of_every_tab`);
- purchase-register lines and files for the importer tests;
- portal and books frames for the reconciliation engine, and the samples' expected table.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
import requests

from core import auth
from core.documents import fy_of
from core.gstin import make_gstin
from core.reco import reconcile
from core.store.database import connect, let_go_of_idle_files, transaction

ROOT = Path(__file__).resolve().parents[1]
# A test that runs on both engines: the DuckDB file and a fresh PostgreSQL database (conftest's
# `store_engine`); the representative subset of a module whose other tests stay on one.
BOTH_ENGINES = pytest.mark.usefixtures("store_engine")
SAMPLES = ROOT / "tests" / "data" / "samples"
STANDARD_SAMPLE = SAMPLES / "purchase_register_sample.csv"
TALLY_SAMPLE = SAMPLES / "purchase_register_tally_layout.csv"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, url: str, what: str, seconds: float = 60) -> None:
    """Poll `url` until it answers 200; a process that exits or a timeout is an error."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---------------------------------------------------------------- the store


def rows(sql: str, params: list | None = None) -> list[tuple]:
    """Run one query on the store at IMS_DB_PATH and return its rows."""
    with connect() as con:
        return con.execute(sql, params or []).fetchall()


def add_business(gstin: str, name: str | None = None, **columns) -> None:
    """One row of `businesses`; other columns (enabled, fetch_time, created_at...) by keyword."""
    values = {"gstin": gstin, "name": name or f"Business {gstin}", "state_code": gstin[:2],
              **columns}
    marks = ", ".join("?" for _ in values)
    with connect() as con:
        con.execute(f"INSERT INTO businesses ({', '.join(values)}) VALUES ({marks})",
                    list(values.values()))


@contextmanager
def temporary_env(**values: str) -> Iterator[None]:
    """Environment variables set for a whole module (monkeypatch is per test), then restored."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def store_env(path: str) -> Iterator[str]:
    """IMS_DB_PATH set to `path` for a whole module, then restored."""
    with temporary_env(IMS_DB_PATH=path):
        yield path


# ---------------------------------------------------------------- generated cases

# The normal suite draws a few fixed examples per property (hypothesis, deterministic:
# conftest's "ci" profile); `IMS_FUZZ=long` is the separate random hunt, IMS_FUZZ_EXAMPLES
# random examples per property (default 5,000; docs/reliability.md, "Fuzzing").
LONG_FUZZ = os.environ.get("IMS_FUZZ") == "long"


def generated_examples(in_the_suite: int) -> int:
    """How many examples a property draws: `in_the_suite` in the normal suite, the long hunt's
    count with IMS_FUZZ=long."""
    return int(os.environ.get("IMS_FUZZ_EXAMPLES", "5000")) if LONG_FUZZ else in_the_suite


# ---------------------------------------------------------------- processes


class Sandbox:
    """A running `python -m sandbox` process on a free port."""

    def __init__(self, port: int, proc: subprocess.Popen):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = proc

    def control(self, name: str, **payload) -> dict:
        """POST /_control/<name>: fault injection, day advance, reset (sandbox/README.md)."""
        r = requests.post(f"{self.url}/_control/{name}", json=payload, timeout=30)
        r.raise_for_status()
        return r.json()

    def total(self, gstin: str) -> int:
        """How many IMS records the sandbox holds for `gstin` now."""
        r = requests.get(f"{self.url}/_control/state", params={"gstin": gstin}, timeout=10)
        return r.json()["businesses"][gstin]["total"]


def start_sandbox(seed: int = 7, scale: int = 300, extra: list[str] | None = None,
                  wait_s: float | None = None) -> Sandbox:
    port = free_port()
    cmd = [sys.executable, "-m", "sandbox", "--port", str(port), "--seed", str(seed),
           "--scale", str(scale), *(extra or [])]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # building the data takes about a second per 10,000 records on a busy machine
    wait_until_up(proc, f"http://127.0.0.1:{port}/health", "sandbox",
                  wait_s or 60 + scale / 5000)
    return Sandbox(port, proc)


def stop_sandbox(sb: Sandbox) -> None:
    stop(sb.proc)


def lazy_sections(at) -> set[str]:
    """The keys of the expanders the page draws only while open (those with a key: Streamlit
    gives them an id ending in it)."""
    return {e.proto.id.split("-", 2)[2] for e in at.expander if e.proto.id.startswith("$$ID-")}


def opened_sections(at, keys: tuple[str, ...] | None = None):
    """The AppTest `at` run again with these expanders open (as a person's click opens one:
    the page draws their content only while open); by default every lazy one the page shows,
    those inside opened ones too."""
    opened: set[str] = set()
    while wanted := set(keys or lazy_sections(at)) - opened:
        for key in wanted:
            at.session_state[key] = True
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        opened |= wanted
        if keys:
            break
    return at


# the pages whose charts sit in tabs, only the open tab's drawn: (the tabs' key, the tabs)
CHART_TABS = {"dashboard": ("dashboard_chart_tab", ("By portal action", "ITC by match status")),
              "reconciliation": ("reco_chart_tab", ("By status", "Top suppliers at risk",
                                                    "Reasons", "Trend by period"))}


def charts_of_every_tab(at, page: str) -> list:
    """The plotly charts `page` draws (AppTest elements), each chart tab opened in turn (the
    page is left on its last tab)."""
    key, tabs = CHART_TABS.get(page, (None, (None,)))
    shown = []
    for tab in tabs:
        if tab:
            at.session_state[key] = tab
            at.run()
            assert not at.exception, [e.value for e in at.exception]
        shown += list(at.get("plotly_chart"))
    return shown


def opened_actions_editor(at):
    """IMS Invoices' actions editor (its data editor), its expander opened first."""
    return opened_sections(at, ("edit_actions_open",)).data_editor[0]


@contextmanager
def running_app(db: str, entry: str = "app/main.py", log: Path | None = None,
                **env: str) -> Iterator[str]:
    """`streamlit run <entry>` on a free port against the store `db` (plus `env`); yields its
    URL. `app/serve.py` is what ./run.sh serves (with the session-cookie route). Its log (an
    incident's details) goes to the file `log`, else to a temporary file: never to a pipe
    nobody reads, which blocks the server once 64 KiB of log lines fill it."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", entry, "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1"]
    with (open(log, "wb") if log else tempfile.TemporaryFile()) as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "IMS_DB_PATH": db, **env},
                                stdout=subprocess.DEVNULL, stderr=sink)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(proc, f"{url}/_stcore/health", "streamlit")
        try:
            yield url
        finally:
            stop(proc)


# The demo app the browser modules share (conftest's `demo_app`): one server and one store
# for the run instead of one cold start (5-8 s) and one seeded store per module.
DEMO_PASSWORD = "correct horse battery"
DEMO_N_PER_BUSINESS = 20
# Variables a module sets around its own server: never inherited by the shared one.
PRIVATE_ENV = ("IMS_TODAY", "IMS_DB_URL", "GSTN_API_URL", "IMS_REQUIRE_LOGIN",
               "IMS_DB_BUSY_TIMEOUT", "IMS_DASHBOARD_REFRESH_S")


class DemoApp:
    """The shared demo app: its URL and its store file."""

    def __init__(self, url: str, db: str):
        self.url = url
        self.db = db


@contextmanager
def shared_demo_app(folder: Path) -> Iterator[DemoApp]:
    """`streamlit run app/serve.py` (as ./run.sh) on the demo store: DEMO_N_PER_BUSINESS
    records a business, its jobs, an admin boss@example.com and an analyst ana@example.com
    granted the first business (password DEMO_PASSWORD). A module using it changes only its own
    rows, or puts back what it changed (the app caches its queries on the store's data version:
    a write that version does not cover would not be seen)."""
    db = str(folder / "ims.duckdb")
    with store_env(db):
        seed_demo(n_per_business=DEMO_N_PER_BUSINESS)
        auth.create_user("boss@example.com", DEMO_PASSWORD, "admin")
        auth.create_user("ana@example.com", DEMO_PASSWORD, "analyst", [BUSINESSES[0][0]])
        let_go_of_idle_files()
    private = {name: os.environ.pop(name) for name in PRIVATE_ENV if name in os.environ}
    try:
        with running_app(db, "app/serve.py") as url:
            os.environ.update(private)
            private = {}
            yield DemoApp(url, db)
    finally:
        os.environ.update(private)


def wait_for_session_cookie(page, seconds: float = 60) -> None:
    """Browser tests on app/serve.py: after "Logged in as", wait until the browser holds the
    session cookie (a tiny iframe asks the server for it right after the login). A test that
    opens another address before then lands on the login form again (test_demo_day_browser
    waited 120 s for the Dashboard that way on a busy machine)."""
    deadline = time.monotonic() + seconds
    while not any(c["name"] == "ims_session" for c in page.context.cookies()):
        assert time.monotonic() < deadline, f"no session cookie {seconds:.0f} s after the login"
        page.wait_for_timeout(100)


@contextmanager
def logged_in_page(chromium, url: str, email: str, password: str, width: int = 1600,
                   height: int = 2000):
    """Browser tests: a page of a new context logged in as `email`, once its session cookie is
    set (so that a deep link stays logged in)."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.goto(url)
    pg.get_by_role("textbox", name="Email").fill(email)
    pg.get_by_role("textbox", name="Password").fill(password)
    pg.get_by_role("button", name="Log in").click()
    pg.get_by_text("Logged in as").wait_for(timeout=30000)
    wait_for_session_cookie(pg)
    try:
        yield pg
    finally:
        context.close()


# Streamlit's own marks on the page: the script's run state and the connection on its root
# element, the skeletons, the status widget and the faded elements of a run still going.
APP_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app !== null && app.dataset.testScriptState === "notRunning"
    && app.dataset.testConnectionState === "CONNECTED"
    && !document.querySelector(
      '[data-testid="stSkeleton"], [data-testid="stStatusWidget"], [data-stale="true"]');
}"""


def settle(page, seconds: float = 30) -> None:
    """Browser tests: wait until Streamlit has finished running the script and drawn its
    elements (and has taken away those of the run before: a table under a new key is a new
    element). The run an action asks for starts when the server answers (the page says
    "running"): up to 0.6 s is given for that; then the page must say "not running" with no
    busy element, and is given 0.3 s to draw."""
    for _ in range(12):
        if not page.evaluate(APP_IDLE):
            break                      # a run is going: wait for its end
        page.wait_for_timeout(50)
    page.wait_for_function(APP_IDLE, timeout=seconds * 1000, polling=100)
    page.wait_for_timeout(300)


def open_actions_editor(page) -> None:
    """Browser tests: open IMS Invoices' actions editor (drawn only once its expander is
    opened) and wait until its grid and buttons are drawn."""
    page.get_by_text("Edit actions of").first.click()
    page.get_by_role("button", name="Save changes").wait_for(timeout=60000)
    settle(page)


def text_with(locator, *parts: str, seconds: float = 30, pattern: str = "") -> str:
    """Browser tests: the text of `locator` once it holds every one of `parts` and a match of
    the regular expression `pattern` (with neither given: once it holds any text; a data grid
    fills its cells a moment after the run that drew it ends), or as it is after `seconds` for
    the test's own assertion to show."""
    text = ""
    for _ in range(int(seconds * 10)):
        text = locator.text_content() or "" if locator.count() else ""
        if (all(part in text for part in parts) and (not pattern or re.search(pattern, text))
                and (parts or pattern or text)):
            break
        locator.page.wait_for_timeout(100)
    return text


def write_2b_docs_as_books(path, gstin: str, docs: list[dict]) -> None:
    """A purchase register (template `standard`) holding these flattened GSTR-2B documents
    (core.portal.gstr2b.flatten_2b: paise) as they are; credit notes negative."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["company_gstin", "supplier_gstin", "supplier_name", "doc_type", "doc_no",
                    "doc_date", "place_of_supply", "reverse_charge", "taxable_value", "igst",
                    "cgst", "sgst", "cess", "doc_value"])
        for d in docs:
            sign = -1 if d["doc_type"] == "CRN" else 1
            w.writerow([gstin, d["stin"], d["trdnm"], d["doc_type"], d["doc_no"],
                        d["doc_date"].isoformat(), d["pos"], d["rcm"],
                        *[sign * v / 100 for v in (d["txval"], d["igst"], d["cgst"], d["sgst"],
                                                   d["cess"], d["val"] or d["txval"])]])


# ---------------------------------------------------------------- the demo store (SQL)
# Two businesses, `n` IMS records each across sections, portal actions, match statuses and
# recommendations; a purchase batch whose documents are the counterparts of the matched
# records; one reconciliation run per business; and finished fetch/sync job runs.

BUSINESSES = [("27AAPFU0939F1ZV", "Acme Fabrics Pvt Ltd"), ("29AAGCB7383J1Z4", "Bengal Tools Ltd")]
SUPPLIERS = [make_gstin(s, p) for s, p in
             [("27", "AABCS5678L"), ("29", "AAFCK4321M"), ("24", "AAQCA8719H"),
              ("33", "GSPTN0791G")]]
SECTIONS = ["b2b", "b2b", "b2b", "b2bcn", "b2bdn", "b2ba", "impg"]
STATUSES = ["exact", "exact", "partial", "mismatch", "probable", "missing_in_pr", "duplicate",
            None]
ACTION_FOR = {"exact": "A", "partial": "A", "mismatch": "P", "probable": "P",
              "missing_in_pr": "P", "duplicate": "R", None: None}
PORTAL_ACTIONS = ["N", "N", "N", "A", "R", "P"]


def ims_rows(rtin: str, n: int, run_id: int) -> list[tuple]:
    out = []
    for i in range(n):
        section = SECTIONS[i % len(SECTIONS)]
        status = STATUSES[i % len(STATUSES)]
        day = dt.date(2025, 9 + (i % 2), 1 + i % 28)
        doc_type = {"b2bcn": "CRN", "b2bdn": "DBN", "impg": "BOE"}.get(section, "INV")
        txval = 1000 + 37 * i
        igst = round(txval * 0.18, 2)
        rec = ACTION_FOR[status]
        if doc_type == "BOE" and rec == "R":
            rec = "P"
        doc_no = f"INV-{rtin[:2]}-{i:04d}"
        out.append((rtin, section, SUPPLIERS[i % len(SUPPLIERS)], doc_type, doc_no, doc_no, day,
                    fy_of(day), f"{day.month:02d}{day.year}", txval + igst, txval, igst, 0, 0, 0,
                    "R1", "Not Filed" if i % 11 == 0 else "Filed",
                    PORTAL_ACTIONS[i % len(PORTAL_ACTIONS)], "Y" if i % 13 == 0 else "N",
                    status, "DOC_NO" if status == "partial" else None, rec,
                    run_id if status else None))
    return out


def seed_demo(n_per_business: int = 60, with_jobs: bool = True) -> None:
    """Fill the store at IMS_DB_PATH with the demo data set."""
    now = dt.datetime(2025, 11, 12, 6, 0)
    with connect() as con, transaction(con):
        for gstin, name in BUSINESSES:
            con.execute("INSERT INTO businesses (gstin, name, state_code, fetch_time, "
                        "sync_source) VALUES (?, ?, ?, '06:00', 'ims_vs_pr')",
                        [gstin, name, gstin[:2]])
        batch_id = con.execute(
            "INSERT INTO purchase_batches (file_name, sha256, template, line_count, doc_count, "
            "invalid_count, duplicate_count, warning_count, imported_by) "
            "VALUES ('demo.csv', 'x', 'standard', 0, 0, 0, 0, 0, 'demo') "
            "RETURNING batch_id").fetchall()[0][0]
        for gstin, _ in BUSINESSES:
            run_id = con.execute("SELECT nextval('reco_run_seq')").fetchall()[0][0]
            con.executemany(
                "INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, "
                "doc_date, fy, rtnprd, val, txval, igst, cgst, sgst, cess, srcform, srcfilstatus, "
                "portal_action, ispendactblocked, match_status, reasons, recommended_action, "
                "reco_run_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, current_timestamp)",
                ims_rows(gstin, n_per_business, run_id))
            _seed_books_and_reco(con, gstin, run_id, batch_id, now)
            if with_jobs:
                _seed_jobs(con, gstin, now)
        docs = con.execute("SELECT count(*) FROM purchase_docs WHERE batch_id = ?",
                           [batch_id]).fetchall()[0][0]
        con.execute("UPDATE purchase_batches SET line_count = ?, doc_count = ? "
                    "WHERE batch_id = ?", [docs, docs, batch_id])


def _seed_books_and_reco(con, gstin: str, run_id: int, batch_id: int, now: dt.datetime) -> None:
    """Books counterparts for matched records (mismatches 10% lower) and a reco run."""
    con.execute("""
        INSERT INTO purchase_docs (batch_id, rtin, stin, supplier_name, doc_type, doc_no,
               doc_no_key, doc_date, fy, pos, rcm, txval, igst, cgst, sgst, cess, doc_value,
               line_no, line_count)
        SELECT ?, rtin, stin, 'Supplier ' || right(stin, 4), doc_type, doc_no, doc_no_key,
               doc_date, fy, '27', 'N',
               CASE WHEN match_status = 'mismatch' THEN txval * 0.9 ELSE txval END,
               igst, cgst, sgst, cess, val, record_id::INTEGER, 1
        FROM ims_records
        WHERE rtin = ? AND match_status IN ('exact', 'partial', 'mismatch', 'probable')
        ORDER BY record_id""", [batch_id, gstin])
    con.execute("""UPDATE ims_records SET counterpart_doc_id = p.doc_id, synced_at = ?
                   FROM purchase_docs p
                   WHERE p.line_no = ims_records.record_id AND ims_records.rtin = ?""",
                [now, gstin])
    con.execute("INSERT INTO reco_runs (run_id, rtin, kind, periods, policy, tolerance, "
                "date_window, started_at, finished_at, counts, triggered_by) VALUES (?, ?, "
                "'ims_vs_pr', '', 'balanced', 1.00, 10, ?, ?, '{}', 'demo')",
                [run_id, gstin, now, now])
    con.execute("""
        INSERT INTO reco_results (run_id, portal_id, ims_record_id, pr_doc_id, match_status,
               match_pass, recommended_action, reasons, company_gstin, supplier_gstin, doc_type,
               rtnprd, portal_doc_no, portal_doc_date, pr_doc_no, pr_doc_date, pr_line,
               portal_txval, pr_txval, portal_tax, pr_tax, diff_txval, diff_tax)
        SELECT ?, r.record_id, r.record_id, p.doc_id, r.match_status, 'key',
               r.recommended_action, r.reasons, r.rtin, r.stin, r.doc_type, r.rtnprd, r.doc_no,
               r.doc_date, p.doc_no, p.doc_date, p.line_no, r.txval, p.txval, r.igst, p.igst,
               r.txval - p.txval, r.igst - p.igst
        FROM ims_records r LEFT JOIN purchase_docs p ON p.doc_id = r.counterpart_doc_id
        WHERE r.rtin = ? AND r.match_status IS NOT NULL""", [run_id, gstin])


def _seed_jobs(con, gstin: str, now: dt.datetime) -> None:
    for job, minutes, ok, error in [("fetch_ims", 0, True, None), ("sync", 5, True, None),
                                    ("fetch_ims", -1440, False, "HTTP 503 from GSP")]:
        started = now + dt.timedelta(minutes=minutes)
        con.execute("INSERT INTO job_runs (job, gstin, slot, started_at, finished_at, ok, error, "
                    "counts, triggered_by) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', 'schedule')",
                    [job, gstin, started, started, started + dt.timedelta(seconds=20), ok,
                     error])


# ---------------------------------------------------------------- purchase-register files

COMPANY = "27AAACW1234K1ZD"
HEADER = ("company_gstin,supplier_gstin,supplier_name,doc_type,doc_no,doc_date,place_of_supply,"
          "reverse_charge,taxable_value,igst,cgst,sgst,cess,doc_value")
SAHYADRI = "27AABCS5678L1ZQ"
KAVERI = "29AAFCK4321M1ZA"


def line(doc_no="INV-1", date="2025-10-03", txval="1000", igst="0", cgst="90", sgst="90",
         cess="0", value="", stin=SAHYADRI, doc_type="INV", name="Sahyadri Steel", pos="27",
         rcm="N", company=COMPANY, sep=",") -> str:
    return sep.join([company, stin, name, doc_type, doc_no, date, pos, rcm, txval, igst, cgst,
                     sgst, cess, value])


def write_csv(tmp_path: Path, name: str, lines: list[str], header: str = HEADER,
              encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def many_lines(count: int, prefix: str = "SI") -> list[str]:
    return [line(doc_no=f"{prefix}-{i}", txval=str(1000 + i)) for i in range(1, count + 1)]


# ---------------------------------------------------------------- reconciliation frames

RTIN = COMPANY
S1 = "27AABCS5678L1ZQ"   # Sahyadri Steel (intra-state)
S2 = "29AAFCK4321M1ZA"   # Kaveri Components (inter-state)
S3 = "24AAGPR9876N2ZO"   # Rann Polymers, Gujarat
S3_MH = "27AAGPR9876N1ZJ"  # same PAN, Maharashtra

PORTAL_SCHEMA = {
    "portal_id": pl.Int64, "rtin": pl.Utf8, "stin": pl.Utf8, "doc_type": pl.Utf8,
    "doc_no": pl.Utf8, "doc_date": pl.Date, "orig_doc_no": pl.Utf8, "orig_doc_date": pl.Date,
    "pos": pl.Utf8, "rcm": pl.Utf8, "txval": pl.Int64, "igst": pl.Int64, "cgst": pl.Int64,
    "sgst": pl.Int64, "cess": pl.Int64, "srcfilstatus": pl.Utf8, "ispendactblocked": pl.Utf8,
    "section": pl.Utf8, "rtnprd": pl.Utf8,
}
BOOKS_SCHEMA = {
    "pr_id": pl.Int64, "rtin": pl.Utf8, "stin": pl.Utf8, "doc_type": pl.Utf8,
    "doc_no": pl.Utf8, "doc_date": pl.Date, "pos": pl.Utf8, "rcm": pl.Utf8, "txval": pl.Int64,
    "igst": pl.Int64, "cgst": pl.Int64, "sgst": pl.Int64, "cess": pl.Int64,
    "no_tax": pl.Boolean, "line_no": pl.Int64,
}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _amounts(kw: dict) -> dict:
    """Default: Rs 10,000 taxable with 18% IGST, in paise."""
    txval = kw.pop("txval", 1_000_000)
    return {"txval": txval, "igst": kw.pop("igst", txval * 18 // 100), "cgst": kw.pop("cgst", 0),
            "sgst": kw.pop("sgst", 0), "cess": kw.pop("cess", 0)}


def portal_row(portal_id: int, doc_no: str, date: str = "2025-10-10", **kw) -> dict:
    row = {"portal_id": portal_id, "rtin": RTIN, "stin": kw.pop("stin", S2),
           "doc_type": kw.pop("doc_type", "INV"), "doc_no": doc_no, "doc_date": day(date),
           "orig_doc_no": kw.pop("orig_doc_no", None),
           "orig_doc_date": day(kw.pop("orig_doc_date")) if "orig_doc_date" in kw else None,
           "pos": kw.pop("pos", "27"), "rcm": kw.pop("rcm", None), **_amounts(kw),
           "srcfilstatus": kw.pop("srcfilstatus", "Filed"),
           "ispendactblocked": kw.pop("ispendactblocked", "N"),
           "section": kw.pop("section", "b2b"), "rtnprd": kw.pop("rtnprd", "102025")}
    assert not kw, f"unknown fields {kw}"
    return row


def books_row(pr_id: int, doc_no: str, date: str = "2025-10-10", **kw) -> dict:
    row = {"pr_id": pr_id, "rtin": RTIN, "stin": kw.pop("stin", S2),
           "doc_type": kw.pop("doc_type", "INV"), "doc_no": doc_no, "doc_date": day(date),
           "pos": kw.pop("pos", "27"), "rcm": kw.pop("rcm", "N"), **_amounts(kw),
           "no_tax": kw.pop("no_tax", False), "line_no": kw.pop("line_no", pr_id)}
    assert not kw, f"unknown fields {kw}"
    return row


def portal_frame(portal_rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(portal_rows, schema=PORTAL_SCHEMA)


def books_frame(books_rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(books_rows, schema=BOOKS_SCHEMA)


def reconcile_rows(portal_rows: list[dict], books_rows: list[dict], **opts) -> pl.DataFrame:
    return reconcile(portal_frame(portal_rows), books_frame(books_rows), **opts)


def row_of(result: pl.DataFrame, portal_id: int | None = None,
           pr_id: int | None = None) -> dict:
    if portal_id is not None:
        found = result.filter(pl.col("portal_id") == portal_id)
    else:
        found = result.filter(pl.col("pr_id") == pr_id)
    assert found.height == 1, found
    return found.row(0, named=True)


def _intra(amount: int, tax: int) -> dict:
    """Intra-state amounts in paise: CGST and SGST of `tax` each, no IGST."""
    return {"txval": amount, "igst": 0, "cgst": tax, "sgst": tax}


# The files in tests/data/samples/ as frames (amounts in paise).
SAMPLE_PORTAL = [
    portal_row(1, "SI/2025-26/0101", "2025-10-03", stin=S1, **_intra(1_000_000, 90_000)),
    portal_row(2, "si-102", "2025-10-05", stin=S1, **_intra(2_500_000, 225_000)),
    portal_row(3, "SI/2025-26/0103", "2025-10-06", stin=S1, **_intra(1_200_050, 108_005)),
    portal_row(4, "KA-7781", "2025-10-08", txval=5_000_000, igst=900_000),
    portal_row(5, "KA-7790", "2025-10-09", txval=800_000, igst=144_000,
               srcfilstatus="Not Filed"),
    portal_row(6, "GJ/555", "2025-10-10", stin=S3, txval=3_000_000, igst=540_000),
    portal_row(7, "GJ/555", "2025-10-10", stin=S3, txval=3_000_000, igst=540_000),
    portal_row(8, "GJ/560", "2025-10-12", stin=S3, txval=700_000, igst=126_000,
               ispendactblocked="Y"),
    portal_row(9, "KA-7795", "2025-10-15", txval=900_000, igst=162_000),
    portal_row(10, "CN/25-26/007", "2025-10-20", stin=S1, doc_type="CRN", section="b2bcn",
               **_intra(200_000, 18_000)),
]
SAMPLE_BOOKS = [
    books_row(1, "SI/2025-26/0101", "2025-10-03", stin=S1, **_intra(1_000_000, 90_000)),
    books_row(2, "SI/2025-26/0102", "2025-10-05", stin=S1, **_intra(2_500_000, 225_000)),
    books_row(3, "SI/2025-26/0103", "2025-10-06", stin=S1, **_intra(1_200_000, 108_000)),
    books_row(4, "KA-7781", "2025-10-08", txval=4_500_000, igst=810_000),
    books_row(5, "KA-7790", "2025-10-09", txval=800_000, igst=144_000),
    books_row(6, "KA-7759", "2025-10-15", txval=900_000, igst=162_000),
    books_row(7, "CN/25-26/007", "2025-10-20", stin=S1, doc_type="CRN",
              **_intra(200_000, 18_000)),
    books_row(8, "RP-88", "2025-10-11", stin=S3_MH, **_intra(400_000, 36_000)),
]
# portal doc no -> (books doc no, status, reasons, action), as tests/data/samples/README.md
SAMPLE_EXPECTED = [
    ("SI/2025-26/0101", "SI/2025-26/0101", "exact", "", "A"),
    ("si-102", "SI/2025-26/0102", "partial", "DOC_NO", "A"),
    ("SI/2025-26/0103", "SI/2025-26/0103", "exact", "ROUNDING", "A"),
    ("KA-7781", "KA-7781", "mismatch", "TAXABLE_VALUE;IGST", "P"),
    ("KA-7790", "KA-7790", "exact", "NOT_FILED", "P"),
    ("GJ/555", None, "missing_in_pr", "", "P"),
    ("GJ/555", None, "duplicate", "", "R"),
    ("GJ/560", None, "missing_in_pr", "PENDING_BLOCKED", "R"),
    ("KA-7795", "KA-7759", "probable", "DOC_NO", "P"),
    ("CN/25-26/007", "CN/25-26/007", "exact", "", "A"),
    (None, "RP-88", "missing_in_portal", "", None),
]


# Waits its turn like any process of ours (core.store), then holds the file.
HOLD_SCRIPT = ("import sys, time\n"
               "from core.store import connect\n"
               "with connect(sys.argv[1], busy_timeout=60):\n"
               "    print('held', flush=True)\n"
               "    time.sleep(120)\n")


@contextmanager
def store_held_by_another_process(path: str) -> Iterator[subprocess.Popen]:
    """Another process (as the worker would) holds the store file until the block ends.
    This process first lets go of the file it may still hold open (core.store lingers)."""
    let_go_of_idle_files()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SCRIPT, path], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait(10)


def leaf_paths(doc, prefix=()) -> list:
    """Every path (keys and indexes) to a leaf of a JSON document; an empty dict or list is a
    leaf too."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in leaf_paths(v, (*prefix, k))] or [prefix]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in leaf_paths(v, (*prefix, i))] or [prefix]
    return [prefix]


def poke(doc, path, value):
    """Replace the value at `path` inside a JSON document; the value it replaced."""
    node = doc
    for step in path[:-1]:
        node = node[step]
    old, node[path[-1]] = node[path[-1]], value
    return old
