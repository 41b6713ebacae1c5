"""The daily digest's settings: the time it goes out (HH:MM in the business time zone, or
off) and how many days ahead a deadline is mentioned."""
from __future__ import annotations

import dataclasses

from core.business import SettingsError
from core.jobs import parse_fetch_time
from core.store import connect, get_setting, put_setting, transaction

TIME_KEY, DAYS_KEY = "digest_time", "digest_days_ahead"
OFF = "off"
DEFAULT_TIME, DEFAULT_DAYS = OFF, 7      # off until an admin sets a time


@dataclasses.dataclass(frozen=True)
class DigestSettings:
    time: str = OFF                 # HH:MM, or "off"
    days_ahead: int = DEFAULT_DAYS

    @property
    def on(self) -> bool:
        return self.time != OFF


def load_digest_settings(con) -> DigestSettings:
    days = get_setting(con, DAYS_KEY)
    return DigestSettings(get_setting(con, TIME_KEY) or DEFAULT_TIME,
                          int(days) if days and days.isdigit() else DEFAULT_DAYS)


def digest_settings() -> DigestSettings:
    with connect(read_only=True) as con:
        return load_digest_settings(con)


def save_digest_settings(time, days_ahead, actor: str) -> DigestSettings:
    """Check, then save both (SettingsError names the field)."""
    text = str(time).strip().lower() if time is not None else OFF
    if text != OFF:
        try:
            text = parse_fetch_time(time).strftime("%H:%M")
        except ValueError:
            raise SettingsError(f"Digest time '{time}' is not a time of day as HH:MM "
                                "(00:00-23:59), nor 'off'") from None
    try:
        days = int(str(days_ahead).strip())
    except ValueError:
        raise SettingsError(f"Digest days ahead '{days_ahead}' is not a whole number") from None
    if not 1 <= days <= 60:
        raise SettingsError(f"Digest days ahead must be between 1 and 60, not {days}")
    with connect() as con, transaction(con):
        put_setting(con, TIME_KEY, text)
        put_setting(con, DAYS_KEY, str(days))
        con.execute("INSERT INTO action_log (actor, kind, note) VALUES (?, 'settings', ?)",
                    [actor, f"{TIME_KEY}={text} {DAYS_KEY}={days}"])
    return DigestSettings(text, days)
