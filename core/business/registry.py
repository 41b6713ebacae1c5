"""Businesses (GSTINs) and their settings: the commands and queries behind the Settings page
and `python worker.py businesses` / `settings` (docs/interfaces.md).

Every query takes `gstins` (the businesses the current user may see); `None` means all,
which only the worker, the command line and admin paths use. Settings:

- per business: `enabled` (auto-fetch), `fetch_time` (daily, H:MM or HH:MM in IMS_TZ) and
  `sync_source` (`2a_vs_pr`, `ims_vs_pr`, `off`); the Settings page and `settings set` give
  every business the same fetch time and sync source;
- reconciliation rules, in the store's `settings` table: `tolerance` (rupees per amount
  field), `date_window` (days), `policy` (`balanced`, `strict`); `RECO_DEFAULTS` when unset.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl

from core.clock import utc_now
from core.gstin import gstin_problem, state_name
from core.jobs import parse_fetch_time
from core.store import connect, get_setting, put_setting, query_frame, transaction

URL_SETTING = "gsp_url"  # the GSP address saved on the Settings page (core/portal/gsp.py)

SYNC_SOURCES = {
    "2a_vs_pr": "GSTR-2A vs Purchase Register",
    "ims_vs_pr": "IMS vs Purchase Register",
    "off": "Off (no recommendations)",
}
POLICIES = {"balanced": "Balanced (mismatch -> Pending)",
            "strict": "Strict (mismatch -> Reject)"}
RECO_DEFAULTS = {"tolerance": "1.00", "date_window": "10", "policy": "balanced"}
SCHEDULE_DEFAULTS = {"fetch_time": "06:00", "sync_source": "ims_vs_pr"}
SETTING_KEYS = ("fetch_time", "sync_source", "tolerance", "date_window", "policy")
ADD_HINT = "python worker.py businesses add GSTIN --name NAME"
MAX_NAME_CHARS = 200


class SettingsError(ValueError):
    """A setting the user typed cannot be saved; the message says which and why."""


class UnknownBusiness(SettingsError):
    """A GSTIN that is not configured in `businesses`."""


@dataclass(frozen=True)
class RecoSettings:
    tolerance: float
    date_window: int
    policy: str


# ---------------------------------------------------------------- reading businesses


def _scope_sql(gstins: list[str] | None, column: str = "gstin") -> tuple[str, list]:
    if gstins is None:
        return "TRUE", []
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))", [list(gstins)]


def list_businesses(gstins: list[str] | None = None) -> pl.DataFrame:
    """The businesses in scope, ordered by name."""
    where, params = _scope_sql(gstins)
    with connect() as con:
        return query_frame(con, f"SELECT gstin, name, state_code, enabled, fetch_time, "
                                f"sync_source, updated_at FROM businesses WHERE {where} "
                                f"ORDER BY name, gstin", params)


def load_businesses(con, gstins: list[str] | None = None) -> list[dict]:
    """The businesses (all, or these GSTINs) as the schedule reads them, by GSTIN."""
    where, params = _scope_sql(gstins)
    rows = con.execute(f"SELECT gstin, name, enabled, fetch_time, sync_source, created_at "
                       f"FROM businesses WHERE {where} ORDER BY gstin", params).fetchall()
    # created_at defaults to current_timestamp: local time of the session's TimeZone
    store_tz = ZoneInfo(con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
    cols = ("gstin", "name", "enabled", "fetch_time", "sync_source", "created_at")
    return [{**dict(zip(cols, r)), "created_at": r[5].replace(tzinfo=store_tz) if r[5] else None}
            for r in rows]


def choose_businesses(gstins: list[str] | None) -> list[dict]:
    """The businesses a command works on: the GSTINs asked for (each must be configured,
    enabled or not), or every enabled business. The one place that chooses."""
    with connect() as con:
        known = load_businesses(con)
    if gstins is None:
        return [b for b in known if b["enabled"]]
    wanted = list(dict.fromkeys(g.strip().upper() for g in gstins))
    by_gstin = {b["gstin"]: b for b in known}
    missing = [g for g in wanted if g not in by_gstin]
    if missing:
        raise UnknownBusiness(
            f"unknown business GSTIN {', '.join(missing)} (configured: "
            f"{', '.join(by_gstin) or 'none'}). Add it with: {ADD_HINT}")
    return [by_gstin[g] for g in wanted]


def describe_gstin(gstin: str) -> str:
    return f"{gstin} ({state_name(gstin[:2]) or 'unknown state'})"


# ---------------------------------------------------------------- checking what was typed


def checked_gstin(value: str | None) -> str:
    """A GSTIN as typed -> upper case, or SettingsError saying what is wrong with it."""
    g = (value or "").strip().upper()
    problem = gstin_problem(g)
    if problem:
        raise SettingsError(problem)
    return g


def normalise_fetch_time(value: str | dt.time) -> str:
    """'6:05', '06:05' or a time -> '06:05'; anything else raises SettingsError."""
    try:
        return parse_fetch_time(value).strftime("%H:%M")
    except ValueError:
        raise SettingsError(f"Daily fetch time '{value}' is not a time of day as HH:MM "
                            "(24-hour, 00:00-23:59)") from None


def checked_sync_source(value: str) -> str:
    if value not in SYNC_SOURCES:
        raise SettingsError(f"Sync source '{value}' is not one of {', '.join(SYNC_SOURCES)}")
    return value


def checked_reco_settings(tolerance, date_window, policy: str) -> RecoSettings:
    try:
        tol = float(tolerance)
    except (TypeError, ValueError):
        raise SettingsError(f"Tolerance '{tolerance}' is not a number of rupees") from None
    try:
        window = int(str(date_window).strip())
    except ValueError:
        raise SettingsError(f"Date window '{date_window}' is not a whole number of days") from None
    if not 0 <= tol <= 1000:
        raise SettingsError(f"Tolerance Rs {tolerance} must be between 0 and 1000 rupees")
    if not 0 <= window <= 366:
        raise SettingsError(f"Date window {date_window} must be between 0 and 366 days")
    if policy not in POLICIES:
        raise SettingsError(f"The policy '{policy}' is not one of {', '.join(POLICIES)}")
    return RecoSettings(round(tol, 2), window, policy)


# ---------------------------------------------------------------- businesses


def _shared_schedule(con) -> dict:
    """What a new business gets: the fetch time and sync source of the first enabled
    business (what the Settings page shows), else the defaults."""
    rows = con.execute("SELECT fetch_time, sync_source FROM businesses "
                       "ORDER BY enabled DESC, name, gstin LIMIT 1").fetchall()
    return dict(zip(("fetch_time", "sync_source"), rows[0])) if rows else dict(SCHEDULE_DEFAULTS)


def save_business(gstin: str, name: str, actor: str, enabled: bool | None = None,
                  fetch_time: str | None = None, sync_source: str | None = None) -> str:
    """Add a business, or rename/edit it when the GSTIN exists -> the GSTIN. What is not
    given is kept (an existing business) or shared with the others (a new one)."""
    g = checked_gstin(gstin)
    if not (name or "").strip():
        raise SettingsError(f"Business name for {g} is empty")
    if len(name.strip()) > MAX_NAME_CHARS:
        raise SettingsError(f"Business name for {g} has {len(name.strip()):,} characters; "
                            f"at most {MAX_NAME_CHARS} (a legal name is far shorter)")
    with connect() as con, transaction(con):
        rows = con.execute("SELECT enabled, fetch_time, sync_source FROM businesses "
                           "WHERE gstin = ?", [g]).fetchall()
        current = dict(zip(("enabled", "fetch_time", "sync_source"), rows[0])) if rows \
            else {"enabled": True, **_shared_schedule(con)}
        on = current["enabled"] if enabled is None else bool(enabled)
        when = normalise_fetch_time(fetch_time or current["fetch_time"])
        source = checked_sync_source(sync_source or current["sync_source"])
        con.execute(
            "INSERT INTO businesses (gstin, name, state_code, enabled, fetch_time, sync_source, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gstin) DO UPDATE SET "
            "name = excluded.name, enabled = excluded.enabled, fetch_time = excluded.fetch_time, "
            "sync_source = excluded.sync_source, updated_at = excluded.updated_at",
            [g, name.strip(), g[:2], on, when, source, utc_now()])
        _log_setting(con, actor, g, f"business {name.strip()} enabled={on} "
                                    f"fetch_time={when} sync_source={source}")
    return g


def business_exists(gstin: str) -> bool:
    with connect() as con:
        return bool(con.execute("SELECT count(*) FROM businesses WHERE gstin = ?",
                                [gstin.strip().upper()]).fetchall()[0][0])


def set_business_enabled(gstin: str, enabled: bool, actor: str) -> str:
    """Switch one business's daily fetch on or off -> the GSTIN."""
    g = checked_gstin(gstin)
    (b,) = choose_businesses([g])
    return save_business(g, b["name"], actor, enabled=enabled)


def save_ims_settings(enabled_gstins: list[str], fetch_time: str | dt.time, sync_source: str,
                      actor: str, gstins: list[str] | None = None) -> int:
    """The Settings page's IMS "Submit": which businesses auto-fetch, when, and the sync
    source. Businesses in scope but not in `enabled_gstins` are switched off. Returns how
    many businesses were saved."""
    if sync_source not in SYNC_SOURCES:
        raise SettingsError(f"Sync Action From '{sync_source}' is not one of "
                            f"{', '.join(SYNC_SOURCES)}")
    when = normalise_fetch_time(fetch_time)
    scope = list_businesses(gstins)["gstin"].to_list()
    unknown = sorted(set(enabled_gstins) - set(scope))
    if unknown:
        raise SettingsError(f"Unknown business GSTIN(s): {', '.join(unknown)}")
    with connect() as con, transaction(con):
        for g in scope:
            con.execute("UPDATE businesses SET enabled = ?, fetch_time = ?, sync_source = ?, "
                        "updated_at = ? WHERE gstin = ?",
                        [g in enabled_gstins, when, sync_source, utc_now(), g])
        _log_setting(con, actor, None, f"IMS settings: enabled={','.join(sorted(enabled_gstins))} "
                                       f"fetch_time={when} sync_source={sync_source}")
    return len(scope)


# ---------------------------------------------------------------- reconciliation rules


def read_reco_settings(con) -> RecoSettings:
    """The rules in effect (read on every sync, so changes apply at once)."""
    values = {k: get_setting(con, k, v) for k, v in RECO_DEFAULTS.items()}
    try:
        return checked_reco_settings(values["tolerance"], values["date_window"], values["policy"])
    except SettingsError as exc:
        raise SettingsError(f"The stored reconciliation rules are not usable: {exc}") from None


def reco_settings() -> RecoSettings:
    with connect() as con:
        return read_reco_settings(con)


def save_reco_settings(tolerance: float, date_window: int, policy: str,
                       actor: str) -> RecoSettings:
    rules = checked_reco_settings(tolerance, date_window, policy)
    with connect() as con, transaction(con):
        put_setting(con, "tolerance", f"{rules.tolerance:.2f}")
        put_setting(con, "date_window", str(rules.date_window))
        put_setting(con, "policy", rules.policy)
        _log_setting(con, actor, None, f"tolerance={rules.tolerance:.2f} "
                                       f"date_window={rules.date_window} policy={rules.policy}")
    return reco_settings()


# ---------------------------------------------------------------- one setting at a time (CLI)


def current_settings() -> dict[str, str]:
    """The five settings as text; a per-business value the businesses do not share is
    shown per business ('27...=06:00, 29...=07:00'), none yet as '(no business yet)'."""
    rules = reco_settings()
    out = {}
    businesses = list_businesses().sort("gstin").to_dicts()
    for key in ("fetch_time", "sync_source"):
        values = {b["gstin"]: b[key] for b in businesses}
        distinct = set(values.values())
        out[key] = (distinct.pop() if len(distinct) == 1 else
                    ", ".join(f"{g}={v}" for g, v in values.items()) or "(no business yet)")
    out.update(tolerance=f"{rules.tolerance:.2f}", date_window=str(rules.date_window),
               policy=rules.policy)
    return out


def change_setting(key: str, value: str, actor: str) -> str:
    """Set one setting (`SETTING_KEYS`) -> the value saved. The schedule settings apply to
    every business, as the Settings page's Submit does; the others to every sync."""
    if key not in SETTING_KEYS:
        raise SettingsError(f"Unknown setting '{key}': one of {', '.join(SETTING_KEYS)}")
    if key in ("fetch_time", "sync_source"):
        saved = normalise_fetch_time(value) if key == "fetch_time" else checked_sync_source(value)
        businesses = list_businesses().to_dicts()
        if not businesses:
            raise SettingsError(f"No business yet, so no {key} to set. Add one first: {ADD_HINT}")
        first = next((b for b in businesses if b["enabled"]), businesses[0])
        schedule = {"fetch_time": first["fetch_time"], "sync_source": first["sync_source"],
                    key: saved}
        save_ims_settings([b["gstin"] for b in businesses if b["enabled"]],
                          schedule["fetch_time"], schedule["sync_source"], actor)
        return saved
    rules = {**dataclasses.asdict(reco_settings()), key: value}
    saved = save_reco_settings(rules["tolerance"], rules["date_window"], rules["policy"], actor)
    return {"tolerance": f"{saved.tolerance:.2f}", "date_window": str(saved.date_window),
            "policy": saved.policy}[key]


# ---------------------------------------------------------------- the GSP URL, other queries


def save_gsp_url(url: str, actor: str) -> str:
    """The Settings page's GSP URL (used when neither GSTN_API_URL nor secrets set one)."""
    url = (url or "").strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise SettingsError(f"GSP URL '{url}' must start with http:// or https:// and name a host")
    with connect() as con, transaction(con):
        put_setting(con, URL_SETTING, url)
        _log_setting(con, actor, None, f"gsp_url={url}")
    return url


def _log_setting(con, actor: str, rtin: str | None, note: str) -> None:
    con.execute("INSERT INTO action_log (actor, rtin, kind, note) VALUES (?, ?, 'settings', ?)",
                [actor, rtin, note])


def companies_by_batch() -> dict[int, list[str]]:
    """For each purchase batch, the businesses (company GSTINs) it holds documents of: a
    page shows and rolls back only batches that lie wholly within the user's businesses."""
    with connect() as con:
        rows = con.execute("SELECT batch_id, list(DISTINCT rtin ORDER BY rtin) FROM purchase_docs "
                           "GROUP BY batch_id").fetchall()
    return {batch_id: companies for batch_id, companies in rows}
