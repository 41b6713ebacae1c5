"""The fixtures every test module may ask for; the builders behind them are in fixtures.py.

- `db_file`: a fresh DuckDB file per test, with IMS_DB_PATH pointing at it;
- `store`: that file with the purchase samples' company as a business;
- `demo_store`: that file filled with the demo data set (`fixtures.seed_demo`);
- `sandbox`: the real sandbox over HTTP, fresh per test, GSTN_API_URL pointing at it;
- `chromium`: Debian's chromium driven by Playwright, one per module (browser tests).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COMPANY,
    add_business,
    seed_demo,
    start_sandbox,
    stop_sandbox,
)


@pytest.fixture
def db_file(tmp_path, monkeypatch) -> str:
    """A fresh store file; IMS_DB_PATH points at it for the code under test."""
    path = str(tmp_path / "ims.duckdb")
    monkeypatch.setenv("IMS_DB_PATH", path)
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


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium (no browser download); the module is skipped when it is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} "
                    "(./test.sh installs it: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
