"""The month's calendar with fixed dates (docs/month-close.md): GSTR-2B and GSTR-3B dates for
monthly and quarterly filers in both state groups, a late previous GSTR-3B, the pending limits
of credit notes and invoices, overrides, and the one business day (core/clock.py)."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from core import clock
from core.calendar.deadlines import (
    GSTR2B,
    GSTR3B,
    QUARTERLY,
    Calendar,
    Filing,
    days_text,
    period_label,
    section_16_4_limit,
    step,
    tax_period,
)
from core.calendar.store import business_calendar, set_frequency, set_override
from core.store.database import connect
from tests.fixtures import BOTH_ENGINES, ROOT, add_business, rows

D = dt.date
MONTHLY_MH = Calendar("monthly", "27")
QUARTERLY_MH = Calendar("quarterly", "27")      # Maharashtra: the 22nd group
QUARTERLY_UP = Calendar("quarterly", "09")      # Uttar Pradesh: the 24th group
QUARTERLY_LADAKH = Calendar("quarterly", "38")  # Ladakh: the 24th group (rule 61)


def test_monthly_filer_2b_on_the_14th_and_3b_on_the_20th():
    today = D(2025, 12, 1)
    assert (MONTHLY_MH.next_2b(today).period, MONTHLY_MH.next_2b(today).day) == \
        ("112025", D(2025, 12, 14))
    assert (MONTHLY_MH.next_3b(today).period, MONTHLY_MH.next_3b(today).day) == \
        ("112025", D(2025, 12, 20))
    # after the 14th the next 2B is December's; GSTR-3B of November stays next until filed
    assert MONTHLY_MH.next_2b(D(2025, 12, 15)).day == D(2026, 1, 14)
    assert MONTHLY_MH.next_3b(D(2025, 12, 15)).day == D(2025, 12, 20)
    filed = Calendar("monthly", "27", filings={"112025": Filing(True, D(2025, 12, 18))})
    assert (filed.next_3b(D(2025, 12, 19)).period, filed.next_3b(D(2025, 12, 19)).day) == \
        ("122025", D(2026, 1, 20))
    # the same dates whatever the state for a monthly filer
    assert Calendar("monthly", "09").gstr3b_due("112025").day == D(2025, 12, 20)


@pytest.mark.parametrize("calendar, due", [(QUARTERLY_MH, D(2026, 1, 22)),
                                           (QUARTERLY_LADAKH, D(2026, 1, 24)),
                                           (QUARTERLY_UP, D(2026, 1, 24)),
                                           (Calendar("quarterly", "07"), D(2026, 1, 24))])
def test_quarterly_filer_by_state_group(calendar, due):
    today = D(2025, 12, 1)
    assert calendar.next_3b(today).day == due                # Jul-Sep not asked, long past
    b3 = calendar.gstr3b_due("112025")                      # any month names its quarter
    assert (b3.period, b3.label, b3.day) == ("122025", "Oct-Dec 2025", due)
    b2 = calendar.next_2b(today)
    assert (b2.period, b2.day) == ("122025", D(2026, 1, 14))  # the 14th after the quarter


def test_quarterly_next_3b_moves_on_once_the_last_quarter_is_filed():
    filed = Calendar("quarterly", "27", filings={"092025": Filing(True, D(2025, 10, 20))})
    assert filed.next_3b(D(2025, 12, 1)).day == D(2026, 1, 22)
    unknown_but_past = Calendar("quarterly", "27")
    assert unknown_but_past.next_3b(D(2025, 10, 23)).day == D(2026, 1, 22)
    assert unknown_but_past.next_3b(D(2025, 10, 21)).day == D(2025, 10, 22)


def test_late_previous_gstr3b_means_no_2b_on_the_14th():
    late = Calendar("monthly", "27", filings={"102025": Filing(False)})
    before = late.gstr2b_date("112025", D(2025, 12, 10))
    assert before.day == D(2025, 12, 14) and "only if the GSTR-3B of Oct 2025" in before.note
    waiting = late.gstr2b_date("112025", D(2025, 12, 16))
    assert waiting.day is None and waiting.note == \
        "waits for the GSTR-3B of Oct 2025 (not filed yet)"
    assert late.next_2b(D(2025, 12, 16)).period == "112025"     # still the one to come
    filed_late = Calendar("monthly", "27", filings={"102025": Filing(True, D(2025, 12, 18))})
    generated = filed_late.gstr2b_date("112025", D(2025, 12, 19))
    assert generated.day == D(2025, 12, 18) and generated.note.startswith("late")
    on_time = Calendar("monthly", "27", filings={"102025": Filing(True, D(2025, 11, 20))})
    assert on_time.gstr2b_date("112025", D(2025, 12, 19)).day == D(2025, 12, 14)
    quarterly = Calendar("quarterly", "27", filings={"092025": Filing(False)})
    assert quarterly.gstr2b_date("122025", D(2026, 1, 15)).day is None


def test_credit_note_pending_limit_monthly_and_quarterly():
    # docs example: first in the Oct-2025 2B, pending until the Nov-2025 GSTR-3B due date
    assert MONTHLY_MH.credit_note_limit("102025") == D(2025, 12, 20)
    assert MONTHLY_MH.credit_note_limit("122025") == D(2026, 2, 20)
    # quarterly: the next quarter's GSTR-3B due date, by state group
    assert QUARTERLY_MH.credit_note_limit("112025") == D(2026, 4, 22)
    assert QUARTERLY_UP.credit_note_limit("102025") == D(2026, 4, 24)
    assert QUARTERLY_MH.credit_note_limit("022026") == D(2026, 7, 22)


def test_section_16_4_limit_is_30_november_after_the_financial_year():
    assert section_16_4_limit("2025-26") == D(2026, 11, 30)
    assert section_16_4_limit("2024-25") == D(2025, 11, 30)


def test_overrides_replace_a_computed_date():
    extended = Calendar("monthly", "27", overrides={("112025", GSTR3B): D(2025, 12, 27),
                                                    ("112025", GSTR2B): D(2025, 12, 15)})
    due = extended.gstr3b_due("112025")
    assert (due.day, due.overridden, due.note) == \
        (D(2025, 12, 27), True, "overridden; computed 20 Dec 2025")
    assert extended.gstr2b_date("112025", D(2025, 12, 1)).day == D(2025, 12, 15)
    # the credit-note limit follows the overridden due date of the next period
    assert extended.credit_note_limit("102025") == D(2025, 12, 27)


def test_periods_and_words():
    assert tax_period("112025", QUARTERLY) == "122025"
    assert step("122025", QUARTERLY, 1) == "032026" and step("012026", "monthly", -1) == "122025"
    assert period_label("122025", QUARTERLY) == "Oct-Dec 2025"
    assert days_text(D(2025, 12, 20), D(2025, 12, 15)) == "20 Dec 2025 (in 5 days)"
    assert days_text(D(2025, 12, 15), D(2025, 12, 15)) == "15 Dec 2025 (today)"
    assert days_text(D(2025, 12, 12), D(2025, 12, 15)) == "12 Dec 2025 (3 days ago)"


@BOTH_ENGINES
def test_frequency_and_overrides_are_stored_per_business(db_file):
    add_business("27AAPFU0939F1ZV", "Acme")
    set_frequency("27AAPFU0939F1ZV", "quarterly", "ana")
    assert set_override("27AAPFU0939F1ZV", "112025", GSTR3B, "2026-01-31", "ana") == "122025"
    with connect() as con:
        calendar = business_calendar(con, "27AAPFU0939F1ZV")
    assert calendar.gstr3b_due("102025").day == D(2026, 1, 31)
    set_override("27AAPFU0939F1ZV", "122025", GSTR3B, "", "ana")     # back to computed
    with connect() as con:
        assert business_calendar(con, "27AAPFU0939F1ZV").gstr3b_due("122025").day == \
            D(2026, 1, 22)
    assert rows("SELECT count(*) FROM action_log WHERE actor = 'ana' AND kind = 'settings'") \
        == [(3,)]
    for bad in (("monthy", "Filing frequency 'monthy'"),):
        with pytest.raises(ValueError, match=bad[1]):
            set_frequency("27AAPFU0939F1ZV", bad[0], "ana")
    with pytest.raises(ValueError, match="not MMYYYY"):
        set_override("27AAPFU0939F1ZV", "13-2025", GSTR3B, "2026-01-31", "ana")
    with pytest.raises(ValueError, match="not YYYY-MM-DD"):
        set_override("27AAPFU0939F1ZV", "122025", GSTR3B, "31/01/2026", "ana")
    assert rows("SELECT count(*) FROM calendar_overrides") == [(0,)]


def test_one_business_day_from_env_or_the_clock_file(tmp_path, monkeypatch):
    monkeypatch.delenv(clock.TODAY_ENV, raising=False)
    path = tmp_path / "today.txt"
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(path))
    assert clock.today() == dt.datetime.now(clock.business_tz()).date()   # not written yet
    clock.set_today(D(2025, 12, 16))
    assert clock.today() == D(2025, 12, 16)
    monkeypatch.setenv(clock.TODAY_ENV, "2025-11-12")                     # the fixed day wins
    assert clock.today() == D(2025, 11, 12)
    monkeypatch.setenv(clock.TODAY_ENV, "12/11/2025")
    with pytest.raises(clock.ClockError, match="IMS_TODAY says '12/11/2025'"):
        clock.today()


def test_a_later_filed_return_means_the_earlier_ones_are_filed():
    calendar = Calendar("monthly", "27", filings={"092025": Filing(False),
                                                  "102025": Filing(True, D(2025, 11, 20))})
    assert calendar.filing("092025") == Filing(True)
    assert calendar.filing("112025") is None
    assert calendar.gstr2b_date("102025", D(2025, 11, 20)).day == D(2025, 11, 14)


def test_an_overdue_older_return_is_the_next_gstr3b():
    overdue = Calendar("monthly", "27", filings={"102025": Filing(False)})
    due = overdue.next_3b(D(2025, 12, 16))
    assert (due.label, days_text(due.day, D(2025, 12, 16))) == \
        ("Oct 2025", "20 Nov 2025 (26 days ago)")


def worker(*argv: str, today: str = "2025-12-16") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "worker.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "IMS_TODAY": today})


@pytest.mark.slow     # runs worker.py: out of the fast loop
def test_operator_commands_set_and_print_the_calendar(db_file):
    add_business("29AAGCB7383J1Z4", "Bengal Tools")
    done = worker("businesses", "set-frequency", "29AAGCB7383J1Z4", "quarterly")
    assert done.returncode == 0 and "files GSTR-3B quarterly" in done.stdout
    done = worker("businesses", "set-date", "29AAGCB7383J1Z4", "112025", "gstr3b", "2026-01-31")
    assert done.returncode == 0 and "122025: GSTR-3B due on 2026-01-31" in done.stdout
    shown = worker("calendar")
    assert shown.returncode == 0, shown.stderr
    assert "today 16 Dec 2025" in shown.stdout
    assert "Oct-Dec 2025  14 Jan 2026" in shown.stdout and "31 Jan 2026 *" in shown.stdout
    assert "next GSTR-3B (Oct-Dec 2025) due: 31 Jan 2026 (in 46 days)" in shown.stdout
    bad = worker("businesses", "set-frequency", "29AAGCB7383J1Z4", "weekly")
    assert bad.returncode == 2 and "invalid choice: 'weekly'" in bad.stderr
    bad = worker("calendar", today="16-12-2025")
    assert bad.returncode == 2 and "IMS_TODAY says '16-12-2025'" in bad.stderr
