"""Businesses (GSTINs) and their settings: the Settings page's commands and queries.

Every query takes `gstins` (the businesses the current user may see); `None` means all,
which only the worker and admin paths use.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

import polars as pl

from core.db import connect, get_setting, put_setting, transaction
from core.frames import query_frame
from core.gstin import gstin_problem, state_name

SYNC_SOURCES = {
    "2a_vs_pr": "GSTR-2A vs Purchase Register",
    "ims_vs_pr": "IMS vs Purchase Register",
    "off": "Off (no recommendations)",
}
POLICIES = {"balanced": "Balanced (mismatch -> Pending)", "strict": "Strict (mismatch -> Reject)"}
DEFAULT_RECO_SETTINGS = {"tolerance": "1.00", "date_window": "10", "policy": "balanced"}
DEFAULT_GSP_URL = "http://127.0.0.1:8765"
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class SettingsError(ValueError):
    """A setting the user typed cannot be saved; the message says which and why."""


@dataclass(frozen=True)
class RecoSettings:
    tolerance: float
    date_window: int
    policy: str


def _scope_sql(gstins: list[str] | None, column: str = "gstin") -> tuple[str, list]:
    if gstins is None:
        return "TRUE", []
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))", [list(gstins)]


def list_businesses(gstins: list[str] | None = None) -> pl.DataFrame:
    """The businesses in scope, ordered by name."""
    where, params = _scope_sql(gstins)
    with connect() as con:
        return query_frame(con, f"SELECT gstin, name, state_code, enabled, fetch_time, sync_source, "
                             f"updated_at FROM businesses WHERE {where} ORDER BY name, gstin", params)


def normalise_fetch_time(value: str | dt.time) -> str:
    """'6:5', '06:05' or a time -> '06:05'; anything else raises SettingsError."""
    text = value.strftime("%H:%M") if isinstance(value, dt.time) else str(value).strip()
    if re.match(r"^\d:\d\d$", text):
        text = "0" + text
    if not TIME_RE.match(text):
        raise SettingsError(f"Daily fetch time '{value}' is not a time of day as HH:MM (24-hour)")
    return text


def save_business(gstin: str, name: str, actor: str, enabled: bool = True,
                  fetch_time: str = "06:00", sync_source: str = "ims_vs_pr") -> str:
    """Add a business, or rename/edit it when the GSTIN exists. Returns the GSTIN."""
    g = (gstin or "").strip().upper()
    problem = gstin_problem(g)
    if problem:
        raise SettingsError(problem)
    if not (name or "").strip():
        raise SettingsError(f"Business name for {g} is empty")
    if sync_source not in SYNC_SOURCES:
        raise SettingsError(f"Sync source '{sync_source}' is not one of {', '.join(SYNC_SOURCES)}")
    when = normalise_fetch_time(fetch_time)
    with connect() as con, transaction(con):
        con.execute(
            "INSERT INTO businesses (gstin, name, state_code, enabled, fetch_time, sync_source, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gstin) DO UPDATE SET name = excluded.name, "
            "enabled = excluded.enabled, fetch_time = excluded.fetch_time, "
            "sync_source = excluded.sync_source, updated_at = excluded.updated_at",
            [g, name.strip(), g[:2], enabled, when, sync_source, _utc_now()])
        _log_setting(con, actor, g, f"business {name.strip()} enabled={enabled} "
                                    f"fetch_time={when} sync_source={sync_source}")
    return g


def save_ims_settings(enabled_gstins: list[str], fetch_time: str | dt.time, sync_source: str,
                      actor: str, gstins: list[str] | None = None) -> int:
    """The product's IMS Settings "Submit": which businesses auto-fetch, when, and the sync source.

    Businesses in scope but not in `enabled_gstins` are switched off. Returns how many changed.
    """
    if sync_source not in SYNC_SOURCES:
        raise SettingsError(f"Sync Action From '{sync_source}' is not one of {', '.join(SYNC_SOURCES)}")
    when = normalise_fetch_time(fetch_time)
    scope = list_businesses(gstins)["gstin"].to_list()
    unknown = sorted(set(enabled_gstins) - set(scope))
    if unknown:
        raise SettingsError(f"Unknown business GSTIN(s): {', '.join(unknown)}")
    with connect() as con, transaction(con):
        for g in scope:
            con.execute("UPDATE businesses SET enabled = ?, fetch_time = ?, sync_source = ?, "
                        "updated_at = current_timestamp WHERE gstin = ?",
                        [g in enabled_gstins, when, sync_source, g])
        _log_setting(con, actor, None, f"IMS settings: enabled={','.join(sorted(enabled_gstins))} "
                                       f"fetch_time={when} sync_source={sync_source}")
    return len(scope)


def reco_settings() -> RecoSettings:
    with connect() as con:
        values = {k: get_setting(con, k, v) for k, v in DEFAULT_RECO_SETTINGS.items()}
    return RecoSettings(float(values["tolerance"]), int(values["date_window"]), values["policy"])


def save_reco_settings(tolerance: float, date_window: int, policy: str, actor: str) -> RecoSettings:
    if not 0 <= float(tolerance) <= 1000:
        raise SettingsError(f"Tolerance Rs {tolerance} must be between 0 and 1000 rupees")
    if not 0 <= int(date_window) <= 366:
        raise SettingsError(f"Date window {date_window} must be between 0 and 366 days")
    if policy not in POLICIES:
        raise SettingsError(f"Policy '{policy}' is not one of {', '.join(POLICIES)}")
    with connect() as con, transaction(con):
        put_setting(con, "tolerance", f"{float(tolerance):.2f}")
        put_setting(con, "date_window", str(int(date_window)))
        put_setting(con, "policy", policy)
        _log_setting(con, actor, None, f"tolerance={float(tolerance):.2f} "
                                       f"date_window={int(date_window)} policy={policy}")
    return reco_settings()


def gsp_url() -> str:
    """The environment wins (contracts.md), then the stored setting, then the sandbox default."""
    if os.environ.get("GSTN_API_URL"):
        return os.environ["GSTN_API_URL"]
    with connect() as con:
        return get_setting(con, "gsp_url", DEFAULT_GSP_URL)


def save_gsp_url(url: str, actor: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise SettingsError(f"GSP URL '{url}' must start with http:// or https:// and name a host")
    with connect() as con, transaction(con):
        put_setting(con, "gsp_url", url)
        _log_setting(con, actor, None, f"gsp_url={url}")
    return url


def credentials_source() -> str:
    """Where credentials come from, without ever revealing them."""
    if os.environ.get("GSTN_USERNAME"):
        return "environment (GSTN_USERNAME / GSTN_OTP)"
    if os.path.exists(".streamlit/secrets.toml"):
        return ".streamlit/secrets.toml"
    return "sandbox demo values (set GSTN_USERNAME and GSTN_OTP for a real GSP)"


def describe_gstin(gstin: str) -> str:
    return f"{gstin} ({state_name(gstin[:2]) or 'unknown state'})"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _log_setting(con, actor: str, rtin: str | None, note: str) -> None:
    con.execute("INSERT INTO action_log (actor, rtin, kind, note) VALUES (?, ?, 'settings', ?)",
                [actor, rtin, note])


def test_connection(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Can we reach the GSP at `url`? Uses the real client when core.fetch is installed."""
    import requests
    try:
        from core.fetch import GstnClient  # noqa: PLC0415 (optional until fetch lands)
    except ImportError:
        GstnClient = None
    try:
        if GstnClient is not None and hasattr(GstnClient, "authenticate"):
            client = GstnClient(base_url=url) if "base_url" in GstnClient.__init__.__code__.co_varnames \
                else GstnClient(url)
            client.authenticate()
            return True, f"Connected to {url} and authenticated."
        answer = requests.get(url.rstrip("/") + "/health", timeout=timeout)
        return answer.ok, f"{url} answered HTTP {answer.status_code}."
    except Exception as exc:  # any failure is the answer to "test connection"
        return False, f"Could not connect to {url}: {exc}"


def companies_by_batch() -> dict[int, list[str]]:
    """For each purchase batch, the businesses (company GSTINs) it holds documents of: a
    page shows and rolls back only batches that lie wholly within the user's businesses."""
    with connect() as con:
        rows = con.execute("SELECT batch_id, list(DISTINCT rtin ORDER BY rtin) FROM purchase_docs "
                           "GROUP BY batch_id").fetchall()
    return {batch_id: companies for batch_id, companies in rows}
