"""What the store keeps of each business's calendar (docs/month-close.md): its filing
frequency, the dates overridden per period, and the GSTR-3B filings RETTRACK reported;
`business_calendar` puts them together as a `core.calendar.deadlines.Calendar`.

The Settings page and `python worker.py businesses set-frequency` / `calendar` change and
read them here. Bad input raises `SettingsError` with a message saying what and why.
"""
from __future__ import annotations

import datetime as dt

from core.business import SettingsError, checked_gstin, choose_businesses
from core.calendar.deadlines import (
    EVENTS,
    Calendar,
    Filing,
    PeriodError,
    checked_frequency,
    tax_period,
)
from core.clock import utc_now
from core.store import connect, transaction

FILED = "Filed"
RETURN = "GSTR3B"


def _log(con, actor: str, gstin: str, note: str) -> None:
    con.execute("INSERT INTO action_log (actor, rtin, kind, note) VALUES (?, ?, 'settings', ?)",
                [actor, gstin, note])


def _known(gstin: str) -> str:
    """A configured business's GSTIN, or SettingsError."""
    (b,) = choose_businesses([checked_gstin(gstin)])
    return b["gstin"]


# ---------------------------------------------------------------- frequency, overrides


def _checked_frequency(frequency: str) -> str:
    try:
        return checked_frequency(frequency)
    except PeriodError as exc:
        raise SettingsError(str(exc)) from None


def _write_frequency(con, gstin: str, frequency: str, actor: str) -> None:
    con.execute("UPDATE businesses SET filing_frequency = ?, updated_at = ? WHERE gstin = ?",
                [frequency, utc_now(), gstin])
    _log(con, actor, gstin, f"filing_frequency={frequency}")


def set_frequency(gstin: str, frequency: str, actor: str) -> str:
    """Monthly or quarterly (QRMP) filing for one business -> the frequency saved."""
    value, g = _checked_frequency(frequency), _known(gstin)
    with connect() as con, transaction(con):
        _write_frequency(con, g, value, actor)
    return value


def frequencies(gstins: list[str] | None = None) -> dict[str, str]:
    with connect(read_only=True) as con:
        rows = con.execute("SELECT gstin, coalesce(filing_frequency, 'monthly') FROM businesses "
                           "WHERE CAST(? AS VARCHAR[]) IS NULL OR list_contains(?::VARCHAR[], gstin)",
                           [gstins, gstins]).fetchall()
    return dict(rows)


def checked_override(period: str, event: str, day: dt.date | str | None,
                     frequency: str) -> tuple[str, dt.date | None]:
    """(the tax period the typed period names, the date or None) or SettingsError."""
    if event not in EVENTS:
        raise SettingsError(f"Calendar event '{event}' is not one of {', '.join(EVENTS)}")
    try:
        ret_period = tax_period(str(period or "").strip(), frequency)
    except PeriodError as exc:
        raise SettingsError(str(exc)) from None
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day.strip()) if day.strip() else None
        except ValueError:
            raise SettingsError(f"Date '{day}' is not YYYY-MM-DD") from None
    return ret_period, day


def _write_override(con, gstin: str, ret_period: str, event: str, day: dt.date | None,
                    actor: str) -> None:
    con.execute("DELETE FROM calendar_overrides WHERE gstin = ? AND ret_period = ? "
                "AND event = ?", [gstin, ret_period, event])
    if day is not None:
        con.execute("INSERT INTO calendar_overrides VALUES (?, ?, ?, ?, ?, ?)",
                    [gstin, ret_period, event, day, actor, utc_now()])
    _log(con, actor, gstin, f"calendar {event} {ret_period} = {day or 'computed'}")


def set_override(gstin: str, period: str, event: str, day: dt.date | str | None,
                 actor: str) -> str:
    """Set (a date) or drop (None / '') the override of one event of one period -> the period
    it applies to (a month of a quarterly filer names its quarter)."""
    g = _known(gstin)
    ret_period, day = checked_override(period, event, day, frequencies([g])[g])
    with connect() as con, transaction(con):
        _write_override(con, g, ret_period, event, day, actor)
    return ret_period


def save_calendar_settings(gstin: str, frequency: str, actor: str, period: str = "",
                           event: str = "", day: dt.date | str | None = None) -> str | None:
    """Settings' "Save calendar": the frequency and, when a period is given, one override
    (its period read with the new frequency); everything checked first, then one
    transaction -> the period the override applies to (None: no override asked)."""
    g, value = _known(gstin), _checked_frequency(frequency)
    wanted = checked_override(period, event, day, value) if str(period).strip() else None
    with connect() as con, transaction(con):
        _write_frequency(con, g, value, actor)
        if wanted:
            _write_override(con, g, wanted[0], event, wanted[1], actor)
    return wanted[0] if wanted else None


def overrides(gstins: list[str]) -> list[dict]:
    """Every override of these businesses, newest period first."""
    with connect(read_only=True) as con:
        cur = con.execute("SELECT gstin, ret_period, event, due_on, set_by, set_at "
                          "FROM calendar_overrides WHERE list_contains(?::VARCHAR[], gstin) "
                          "ORDER BY gstin, right(ret_period, 4) DESC, left(ret_period, 2) DESC, "
                          "event", [list(gstins)])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


# ---------------------------------------------------------------- filings


def store_filings(con, gstin: str, entries: list[dict], now: dt.datetime) -> int:
    """Upsert RETTRACK entries ({ret_period, status, filed_on, arn, mode}) -> how many."""
    for e in entries:
        con.execute("INSERT INTO return_filings VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (gstin, ret_period, rtntype) DO UPDATE SET "
                    "status = excluded.status, filed_on = excluded.filed_on, arn = excluded.arn, "
                    "mode = excluded.mode, fetched_at = excluded.fetched_at",
                    [gstin, e["ret_period"], RETURN, e["status"], e.get("filed_on"),
                     e.get("arn"), e.get("mode"), now])
    return len(entries)


def filings(con, gstin: str) -> dict[str, Filing]:
    rows = con.execute("SELECT ret_period, status, filed_on, arn FROM return_filings "
                       "WHERE gstin = ? AND rtntype = ?", [gstin, RETURN]).fetchall()
    return {p: Filing(status == FILED, filed_on, arn) for p, status, filed_on, arn in rows}


def business_calendar(con, gstin: str) -> Calendar:
    """The calendar of one business as the store holds it (frequency, state, overrides,
    filings)."""
    row = con.execute("SELECT coalesce(filing_frequency, 'monthly'), state_code FROM businesses "
                      "WHERE gstin = ?", [gstin]).fetchall()
    frequency, state = row[0] if row else ("monthly", gstin[:2])
    fixed = con.execute("SELECT ret_period, event, due_on FROM calendar_overrides "
                        "WHERE gstin = ?", [gstin]).fetchall()
    return Calendar(frequency, state, {(p, e): d for p, e, d in fixed}, filings(con, gstin))


def calendars(gstins: list[str]) -> dict[str, Calendar]:
    with connect(read_only=True) as con:
        return {g: business_calendar(con, g) for g in gstins}
