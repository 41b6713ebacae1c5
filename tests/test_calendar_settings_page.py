"""Settings' "Return calendar" through Streamlit's AppTest against a real DuckDB file: the
filing frequency and a per-period override saved, a bad period refused with its reason and
nothing written."""
from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from tests.fixtures import BUSINESSES, ROOT, rows, seed_demo

GSTIN = min(g for g, _ in BUSINESSES)   # the first the page offers


def open_settings() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fill(at: AppTest, frequency: str, period: str, day: dt.date | None) -> None:
    next(r for r in at.radio if r.label == "Files GSTR-3B").set_value(frequency)
    next(s for s in at.selectbox if s.label == "Override a date of").set_value(period)
    next(s for s in at.selectbox if s.label == "Date").set_value("gstr3b")
    next(d for d in at.date_input if d.label.startswith("New date")).set_value(day)
    next(b for b in at.button if b.label == "Save calendar").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_frequency_and_an_override_saved_from_settings(db_file):
    seed_demo(n_per_business=10, with_jobs=False)
    at = open_settings()
    assert next(s for s in at.selectbox if s.label == "Business" and GSTIN in str(s.value))
    fill(at, "quarterly", "112025", dt.date(2026, 1, 31))
    assert "Calendar saved; the Dashboard counts from it." in [s.value for s in at.success]
    assert rows("SELECT filing_frequency FROM businesses WHERE gstin = ?", [GSTIN]) == \
        [("quarterly",)]
    assert rows("SELECT ret_period, event, due_on, set_by FROM calendar_overrides") == \
        [("122025", "gstr3b", dt.date(2026, 1, 31), "local")]   # November names its quarter
    assert any("31 Jan 2026" in str(df.value) for df in at.dataframe)


def test_the_period_is_chosen_in_words_and_no_override_writes_none(db_file):
    seed_demo(n_per_business=10, with_jobs=False)
    at = open_settings()
    chooser = next(s for s in at.selectbox if s.label == "Override a date of")
    assert chooser.value == "" and "No override" in chooser.options
    assert "Nov 2025" in chooser.options and not any(o.isdigit() for o in chooser.options)
    fill(at, "quarterly", "", dt.date(2025, 12, 27))
    assert rows("SELECT count(*) FROM calendar_overrides") == [(0,)]
    assert rows("SELECT filing_frequency FROM businesses WHERE gstin = ?", [GSTIN]) == \
        [("quarterly",)]
