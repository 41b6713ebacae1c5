"""The fixtures every test module may ask for; the builders behind them are in fixtures.py.

- `db_file`: a fresh DuckDB file per test (a copy of one migrated for the run, `migrated_store`;
  `@pytest.mark.new_store_file`: no file yet), with IMS_DB_PATH pointing at it; in a module that
  asks for both engines (`pytestmark = pytest.mark.usefixtures("store_engine")`), each test runs
  twice: on that file, and on a fresh PostgreSQL database (IMS_DB_URL; `db_file` is its URL);
  `IMS_TEST_ENGINE=postgres` puts every other module's store on PostgreSQL too;
- `pg_server`: a real PostgreSQL server (Debian's package) in a temporary folder, one per run;
  `pg_database`: a fresh database on it per test (tests/pg.py);
- `store`: that file with the purchase samples' company as a business;
- `demo_store`: that file filled with the demo data set (`fixtures.seed_demo`);
- `sandbox`: the real sandbox over HTTP, fresh per test, GSTN_API_URL pointing at it;
- `chromium`: Debian's chromium driven by Playwright, one for the run (browser tests, which
  run after every other test: see `pytest_collection_modifyitems`);
- `demo_app`: one app server (app/serve.py) on one demo store with an admin and an analyst,
  shared by the browser modules that can share it (`fixtures.shared_demo_app`); a module with
  its own store or environment keeps its own server.
"""
from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings
from playwright.sync_api import sync_playwright

from core.store import connect, let_go_of_idle_files
from tests.fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COMPANY,
    DemoApp,
    add_business,
    seed_demo,
    shared_demo_app,
    start_sandbox,
    stop_sandbox,
)
from tests.pg import create_database, drop_database, server_bin, start_server, stop_server

# `smtp_server`: a real SMTP server on 127.0.0.1 (aiosmtpd), tests/mailserver.py.
pytest_plugins = ["tests.mailserver"]

_database_numbers = itertools.count(1)
# `IMS_TEST_ENGINE=postgres ./test.sh tests/test_x.py` runs any module's stores on PostgreSQL
# (to see how far a module is ported; both-engines modules run on both whatever it says).
TEST_ENGINE = os.environ.get("IMS_TEST_ENGINE", "duckdb")


@pytest.fixture(scope="session")
def pg_server():
    """Debian's PostgreSQL server in a temporary folder for the whole run; skipped when its
    programs are missing."""
    if server_bin() is None:
        pytest.skip("PostgreSQL's server programs are not installed (/usr/lib/postgresql/*/bin; "
                    "./test.sh installs them: apt-get install postgresql)")
    server = start_server()
    yield server
    stop_server(server)

# Generated cases (hypothesis): the normal suite is deterministic, the same examples on every
# run and every machine (derandomize: drawn from a hash of each test, no saved database), so CI
# run twice on one commit gives one result. `IMS_FUZZ=long` is the separate random hunt
# (docs/reliability.md, "Fuzzing"); what it finds becomes an @example.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("long", derandomize=False, print_blob=True)
settings.load_profile("long" if os.environ.get("IMS_FUZZ") == "long" else "ci")


@pytest.fixture
def pg_database(pg_server) -> str:
    """A fresh, empty PostgreSQL database for one test; its URL. Dropped afterwards."""
    name = f"ims_test_{next(_database_numbers)}"
    url = create_database(pg_server, name)
    yield url
    let_go_of_idle_files()
    drop_database(pg_server, name)


@pytest.fixture(params=["duckdb", "postgres"])
def store_engine(request) -> str:
    """The engine a both-engines module's test runs on (see `db_file`)."""
    return request.param


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """A store file with every migration applied, made once for the run: each test's
    `db_file` starts as a copy of it (migrating a new file costs about 0.1 s of CPU and more
    of disk writes, for each of some 500 tests)."""
    path = tmp_path_factory.mktemp("migrated") / "ims.duckdb"
    with connect(str(path)) as con:
        con.execute("CHECKPOINT")
    let_go_of_idle_files()
    assert not Path(f"{path}.wal").exists()
    return path


@pytest.fixture
def db_file(request, tmp_path, monkeypatch) -> str:
    """A fresh store file (a copy of `migrated_store`; a test marked `new_store_file` gets no
    file at all, as a new install does); IMS_DB_PATH points at it for the code under test. On
    the postgres run of a both-engines module: a fresh PostgreSQL database instead, IMS_DB_URL
    its URL."""
    engine = (request.getfixturevalue("store_engine")
              if "store_engine" in request.fixturenames else TEST_ENGINE)
    path = str(tmp_path / "ims.duckdb")
    monkeypatch.setenv("IMS_DB_PATH", path)
    if engine == "postgres":
        url = request.getfixturevalue("pg_database")
        monkeypatch.setenv("IMS_DB_URL", url)
        return url
    monkeypatch.delenv("IMS_DB_URL", raising=False)
    if request.node.get_closest_marker("new_store_file") is None:
        shutil.copyfile(request.getfixturevalue("migrated_store"), path)
    return path


@pytest.fixture
def store(db_file) -> str:
    """A fresh store holding one business: the company of the purchase-register samples."""
    add_business(COMPANY, "Western Works")
    return db_file


@pytest.fixture
def demo_store(db_file) -> str:
    """A fresh store with the demo businesses, records, books and reconciliation (no jobs)."""
    seed_demo(n_per_business=20, with_jobs=False)
    return db_file


@pytest.fixture
def sandbox(monkeypatch):
    """A fresh sandbox per test (state changes never leak between tests)."""
    sb = start_sandbox()
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium (no browser download), one for the run (each test opens its own
    contexts); the browser tests are skipped when it is missing. Playwright's sync API keeps
    an event loop running in this thread while it lives: the browser tests run last, after
    every test that may call `asyncio.run` here (docs/tests.md)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} "
                    "(./test.sh installs it: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory) -> DemoApp:
    """The demo app the browser modules share, started once for the run (see the docstring of
    `fixtures.shared_demo_app` for what a module using it may change)."""
    with shared_demo_app(tmp_path_factory.mktemp("demo_app")) as app:
        yield app


# Modules that start servers or processes, or run long generated cases: marked `slow`, so the
# fast loop (`./test.sh -m "not browser and not slow"`, about a minute) leaves them out.
SLOW_MODULES = {
    "test_worker_cli", "test_gsp_sessions", "test_kill", "test_upload_itc", "test_fetch",
    "test_itc_summary", "test_worker", "test_faults", "test_gstr2b_flow", "test_upload",
    "test_reco_properties", "test_filed_period", "test_fuzz", "test_docs", "test_app_pages",
    "test_auth_login", "test_backup_live", "test_page_words", "test_backup_retention",
    "test_auth_pages", "test_gstr2b", "test_reco_nearest", "test_hostile_secrets",
    "test_hostile_uploads", "test_sandbox", "test_sandbox_generate", "test_sandbox_portal_rules",
    "test_sync", "test_sync_itc", "test_store_threads", "test_auth_errors", "test_lint",
    "test_scheduler", "test_backup", "test_gsp_connect", "test_hostile", "test_reco_accuracy",
    "test_store_engines", "test_store_copy", "test_job_claims", "test_auth_two_servers",
    "test_auth", "test_screens", "test_reco_cli", "test_auth_ui", "test_itc_table4",
    "test_backup_forged", "test_command_line", "test_fetch_now_pages", "test_small_items",
    "test_reco_portal_rules", "test_purchase_cli", "test_purchase_import", "test_two_sessions",
    "test_portal_columns", "test_auth_scope", "test_save_feedback", "test_links_keep_choices",
    "test_sync_amendments", "test_gsp_slow", "test_gsp_key_damage", "test_team_mode",
    "test_team_acceptance", "test_sync_on_server",
}


def pytest_configure(config):
    # here, not in pyproject.toml: a change there makes ./test.sh reinstall the project
    config.addinivalue_line(
        "markers", "new_store_file: `db_file` is a path with no file yet, as on a new install "
                   "(not a copy of the migrated store)")


# Slow modules run by ./test.sh in the browser tests' pytest process, before them, so that
# both processes of a whole run end together (docs/tests.md): about 3 minutes of waiting on
# processes, servers and token lifetimes.
BESIDE_BROWSER_MODULES = {
    "test_kill", "test_gsp_sessions", "test_gstr2b_flow", "test_gsp_slow", "test_backup_live",
    "test_team_acceptance", "test_backup_retention", "test_worker_cli"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if module in BESIDE_BROWSER_MODULES:
            item.add_marker(pytest.mark.beside_browser)
    # the browser tests last, in file order: the run's one chromium (and the event loop of
    # Playwright's sync API) starts after every other test has run
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
