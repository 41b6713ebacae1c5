"""GSP sessions per business: connect with an OTP, keep the token fresh, say what is wrong
(docs/portal-api.md, "Session"; docs/security.md, "GSP sessions").

API access works per GSTIN: the taxpayer enables it on the GST portal for a period (6 hours to
30 days); an OTP sent for the GSTIN's portal username buys a token that expires (typically
after 6 hours) and is refreshed, without a new OTP, until that period ends. Per business the
store keeps (table `gsp_sessions`) the username, the end of the access period, the token
sealed with `core.portal.secrets_box` and its expiry, and the state:

- `otp_sent`: an OTP was asked for and is waiting to be entered;
- `connected`: a token is held and refreshed ahead of its expiry by the worker;
- `refresh_failed`: the last refresh could not reach the GSP; the token still holds until its
  expiry and the worker tries again;
- `needs_otp`: the GSP refused the OTP or the token (only a new OTP helps);
- and, worked out when read: `access_ended` (the access period is over) and `needs_otp` again
  once a token has expired unrefreshed.

A business without a row here has no session of its own: its calls use the shared login
(`core.portal.gsp`, the bundled sandbox's demo login). So does one whose OTP was asked for but
never exchanged (abandoned, or a wrong OTP entered): until a token is held, a pending OTP
changes nothing for the worker, and `cancel_otp` takes the request back. OTPs are never kept,
tokens never leave this module in the clear except towards the GSP, and no message names
either.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

import requests

from core.business import SettingsError, business_exists, checked_gstin
from core.clock import utc_now
from core.portal.gsp import GspAdapter, GspConfig, GstnError, IssuedToken, ReauthenticationNeeded
from core.portal.secrets_box import SecretKeyError, seal, unseal
from core.store import connect, transaction
from core.timefmt import shown_time

log = logging.getLogger(__name__)

REFRESH_JOB = "gsp_refresh"
REFRESH_AHEAD = dt.timedelta(minutes=30)     # refresh this long before expiry (at most)
TIMEOUT = 15.0
ACCESS_PERIODS = {"6 hours": dt.timedelta(hours=6), "12 hours": dt.timedelta(hours=12),
                  "1 day": dt.timedelta(days=1), "7 days": dt.timedelta(days=7),
                  "15 days": dt.timedelta(days=15), "30 days": dt.timedelta(days=30)}
STATE_WORDS = {"otp_sent": "OTP sent, waiting to be entered", "connected": "Connected",
               "refresh_failed": "Refresh failed", "needs_otp": "Needs an OTP",
               "access_ended": "API access ended", "not_connected": "Not connected"}
COLUMNS = ("gstin, username, access_ends_at, state, reason, token_sealed, otp_context_sealed, "
           "token_issued_at, token_expires_at, otp_requested_at, connected_at, refreshed_at")


class NeedsOtp(ReauthenticationNeeded):
    """This GSTIN's own session cannot be used: connect it again with an OTP (Settings)."""


@dataclass(frozen=True)
class Held:
    """The token a GSTIN's calls carry now (a secret: never printed)."""

    token: str = field(repr=False)
    username: str
    expires_at: dt.datetime
    refresh_at: dt.datetime      # from then on a refresh is due


def when(moment: dt.datetime | None) -> str:
    """'01 Dec 2026, 18:00 IST' (the business time zone, named)."""
    return shown_time(moment, "unknown")


def _adapter(adapter: GspAdapter | None) -> GspAdapter:
    return adapter or GspAdapter(GspConfig.load())


# ---------------------------------------------------------------- reading the store


def load_session(gstin: str, con=None) -> dict | None:
    """The stored row of `gstin` (sealed values stay sealed), or None."""
    if con is None:
        with connect(read_only=True) as own:
            return load_session(gstin, own)
    cur = con.execute(f"SELECT {COLUMNS} FROM gsp_sessions WHERE gstin = ?", [gstin])
    rows = cur.fetchall()
    return dict(zip([d[0] for d in cur.description], rows[0])) if rows else None


def effective_state(row: dict | None, now: dt.datetime | None = None) -> str:
    """The state in effect now: the stored one, unless the access period ended or the token
    expired since (both worked out from the stored times)."""
    now = now or utc_now()
    if row is None:
        return "not_connected"
    if row["access_ends_at"] is not None and row["access_ends_at"] <= now:
        return "access_ended"
    if row["state"] in ("connected", "refresh_failed") and (
            row["token_expires_at"] is None or row["token_expires_at"] <= now):
        return "needs_otp"
    return row["state"]


def describe(row: dict | None, now: dt.datetime | None = None) -> str:
    """The state of one session in words (no secret in it)."""
    now = now or utc_now()
    state = effective_state(row, now)
    if row is None:
        return "Not connected: request an OTP for the GSTIN's portal username."
    access = f"API access until {when(row['access_ends_at'])}"
    if state == "access_ended":
        return (f"API access ended on {when(row['access_ends_at'])}: enable API access on the "
                "GST portal again, then connect with a new OTP.")
    if state == "connected":
        return (f"Connected; token valid until {when(row['token_expires_at'])} (refreshed "
                f"automatically); {access}.")
    if state == "refresh_failed":
        return (f"Refresh failed ({row['reason']}); the worker tries again; token valid until "
                f"{when(row['token_expires_at'])}; {access}.")
    if state == "otp_sent":
        return (f"OTP sent at {when(row['otp_requested_at'])}: enter it to connect, or cancel "
                f"the request; {access}."
                + (" Until then its calls use the shared login." if never_connected(row)
                   else ""))
    if row["state"] in ("connected", "refresh_failed"):
        return (f"Needs an OTP: the token expired at {when(row['token_expires_at'])} without "
                "being refreshed (is the worker running?). Connect again with a new OTP.")
    return f"Needs an OTP: {row['reason'] or 'connect with a new OTP'}."


def never_connected(row: dict | None) -> bool:
    """No session of its own yet: no row, or an OTP asked for (pending, abandoned or refused)
    that never bought a token. Its calls use the shared login."""
    return row is None or (row["connected_at"] is None and not row["token_sealed"])


def can_call_portal(gstin: str) -> bool:
    """False when `gstin` has a session of its own that cannot be used now (the worker then
    leaves its uploads queued instead of failing every minute)."""
    row = load_session(gstin)
    return never_connected(row) or effective_state(row) in ("connected", "refresh_failed")


# ---------------------------------------------------------------- writing the store


def _save(gstin: str, values: dict, actor: str | None = None) -> None:
    values = {**values, "updated_at": utc_now(), "updated_by": actor}
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in values)
    with connect() as con, transaction(con):
        con.execute(f"INSERT INTO gsp_sessions (gstin, {cols}) VALUES (?, {marks}) "
                    f"ON CONFLICT (gstin) DO UPDATE SET {updates}", [gstin, *values.values()])


def _refused(gstin: str, reason: str, actor: str | None = None) -> None:
    """The session can no longer be used: drop the token, keep the reason."""
    _save(gstin, {"state": "needs_otp", "reason": reason, "token_sealed": None}, actor)


def _store_token(gstin: str, issued: IssuedToken, now: dt.datetime, values: dict,
                 actor: str | None) -> dt.datetime:
    expires = now + dt.timedelta(minutes=issued.minutes)
    _save(gstin, {**values, "state": "connected", "reason": None,
                  "token_sealed": seal(issued.token), "token_issued_at": now,
                  "token_expires_at": expires}, actor)
    return expires


# ---------------------------------------------------------------- connecting with an OTP


def _checked_request(gstin: str, username: str, access_ends_at: dt.datetime,
                     now: dt.datetime) -> tuple[str, str]:
    gstin = checked_gstin(gstin)
    if not business_exists(gstin):
        raise SettingsError(f"{gstin} is not a business here yet; add it first.")
    username = (username or "").strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise SettingsError("Enter the GSTIN's GST portal username (no spaces, at most 100 "
                            "characters).")
    if access_ends_at <= now or access_ends_at - now > dt.timedelta(days=31):
        raise SettingsError("The API access period must end in the future, at most 30 days "
                            "from now (the GST portal allows 6 hours to 30 days).")
    return gstin, username


def request_otp(gstin: str, username: str, access_ends_at: dt.datetime, actor: str,
                adapter: GspAdapter | None = None, now: dt.datetime | None = None) -> str:
    """Ask the GSP to send an OTP for `gstin`'s portal user; remember the username and the
    end of the access period -> what happened, in words. SettingsError for bad input;
    SessionRefused / GstnError when the GSP says no or cannot be reached."""
    now = now or utc_now()
    gstin, username = _checked_request(gstin, username, access_ends_at, now)
    adapter = _adapter(adapter)
    try:
        context = adapter.request_otp(requests.Session(), gstin, username, TIMEOUT)
    except requests.RequestException as exc:
        raise GstnError(f"The GSP at {adapter.config.url} could not be reached to send an "
                        f"OTP ({type(exc).__name__}); try again.") from None
    row = load_session(gstin)
    keep = row is not None and effective_state(row, now) in ("connected", "refresh_failed")
    _save(gstin, {"username": username, "access_ends_at": access_ends_at,
                  "otp_requested_at": now, "otp_context_sealed": seal(json.dumps(context)),
                  **({} if keep else {"state": "otp_sent", "reason": None})}, actor)
    log.info("GSP session %s: one-time code requested by %s", gstin, actor)
    return (f"The GSP sent an OTP to the mobile number and e-mail registered for {gstin} "
            f"(user '{username}'). Enter it below to connect.")


def connect_with_otp(gstin: str, otp: str, actor: str, adapter: GspAdapter | None = None,
                     now: dt.datetime | None = None) -> str:
    """Exchange the OTP for a token and keep it sealed -> what happened, in words."""
    now = now or utc_now()
    gstin = checked_gstin(gstin)
    row = load_session(gstin)
    if row is None or row["otp_requested_at"] is None:
        raise SettingsError(f"Request an OTP for {gstin} first.")
    code = (otp or "").strip()
    if not code.isalnum() or not 4 <= len(code) <= 10:
        raise SettingsError("The OTP is the 6-digit code the GSP sent; enter it as received.")
    adapter = _adapter(adapter)
    try:
        context = json.loads(unseal(row["otp_context_sealed"])) if row[
            "otp_context_sealed"] else {}
    except SecretKeyError:
        context = {}
    try:
        issued = adapter.exchange_otp(requests.Session(), gstin, row["username"], code, context,
                                      TIMEOUT)
    except requests.RequestException as exc:
        raise GstnError(f"The GSP at {adapter.config.url} could not be reached to check the "
                        f"OTP ({type(exc).__name__}); try again.") from None
    expires = _store_token(gstin, issued, now, {"otp_requested_at": None,
                                                "otp_context_sealed": None,
                                                "connected_at": now, "refreshed_at": None},
                           actor)
    log.info("GSP session %s connected by %s; valid until %s", gstin, actor, when(expires))
    return (f"Connected {gstin}: the token is valid until {when(expires)} and the worker "
            f"refreshes it until API access ends on {when(row['access_ends_at'])}.")


def cancel_otp(gstin: str, actor: str) -> str:
    """Take back a pending OTP request -> what happened, in words. A GSTIN never connected goes
    back to the shared login (its row removed); a connected one keeps its session as it was."""
    gstin = checked_gstin(gstin)
    row = load_session(gstin)
    if row is None or row["otp_requested_at"] is None:
        raise SettingsError(f"No OTP request is pending for {gstin}.")
    if never_connected(row):
        with connect() as con, transaction(con):
            con.execute("DELETE FROM gsp_sessions WHERE gstin = ?", [gstin])
        log.info("GSP session %s: OTP request cancelled by %s", gstin, actor)
        return (f"OTP request for {gstin} cancelled: its calls use the shared login again, as "
                "before.")
    state = row["state"] if row["state"] != "otp_sent" else (
        "connected" if row["token_sealed"] else "needs_otp")
    _save(gstin, {"otp_requested_at": None, "otp_context_sealed": None, "state": state}, actor)
    log.info("GSP session %s: OTP request cancelled by %s", gstin, actor)
    return f"OTP request for {gstin} cancelled; its session is as it was: " + describe(
        load_session(gstin))


# ---------------------------------------------------------------- refreshing


def refresh_at(row: dict) -> dt.datetime:
    """When a refresh falls due: REFRESH_AHEAD (or half the token's lifetime) before expiry."""
    issued = row["token_issued_at"] or row["token_expires_at"]
    return row["token_expires_at"] - min(REFRESH_AHEAD, (row["token_expires_at"] - issued) / 2)


def refresh_due(row: dict, now: dt.datetime) -> bool:
    return (effective_state(row, now) in ("connected", "refresh_failed")
            and now >= refresh_at(row))


def sessions_due_for_refresh(now: dt.datetime | None = None) -> list[str]:
    """GSTINs whose token the worker should refresh now."""
    now = now or utc_now()
    with connect(read_only=True) as con:
        cur = con.execute(f"SELECT {COLUMNS} FROM gsp_sessions WHERE token_sealed IS NOT NULL "
                          "ORDER BY gstin")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return [r["gstin"] for r in rows if refresh_due(r, now)]


def refresh_session(gstin: str, adapter: GspAdapter | None = None,
                    now: dt.datetime | None = None) -> dict:
    """REFRESHTOKEN for one GSTIN -> {gstin, valid_until}. A refusal leaves `needs_otp`
    (NeedsOtp raised); an unreachable GSP leaves `refresh_failed` (GstnError raised)."""
    now = now or utc_now()
    held = held_token(gstin, now)
    if held is None:
        raise NeedsOtp(f"{gstin} has no GSP session of its own to refresh.")
    adapter = _adapter(adapter)
    try:
        issued = adapter.refresh(requests.Session(), gstin, held.username, held.token, TIMEOUT)
    except ReauthenticationNeeded as exc:
        _refused(gstin, f"the GSP refused to refresh the session: {exc}")
        raise NeedsOtp(f"{gstin} needs an OTP: the GSP refused to refresh its session "
                       f"({exc}).", exc.error_cd) from None
    except (GstnError, requests.RequestException) as exc:
        reason = f"the GSP could not be reached at {when(now)}: {type(exc).__name__}"
        _save(gstin, {"state": "refresh_failed", "reason": reason})
        raise GstnError(f"{gstin}: refreshing the GSP session failed ({reason}); the token "
                        f"holds until {when(held.expires_at)} and the worker tries again."
                        ) from None
    expires = _store_token(gstin, issued, now, {"refreshed_at": now}, None)
    log.info("GSP session %s refreshed; valid until %s", gstin, when(expires))
    return {"gstin": gstin, "valid_until": expires.isoformat(timespec="seconds")}


def held_token(gstin: str, now: dt.datetime | None = None) -> Held | None:
    """The token `gstin`'s calls carry now; None when it has no session of its own;
    NeedsOtp when it has one that cannot be used."""
    now = now or utc_now()
    row = load_session(gstin)
    if never_connected(row):
        return None      # the shared login: a pending or refused first OTP changes nothing
    state = effective_state(row, now)
    if state not in ("connected", "refresh_failed") or not row["token_sealed"]:
        raise NeedsOtp(f"Skipped {gstin}: {describe(row, now)}")
    try:
        token = unseal(row["token_sealed"])
    except SecretKeyError as exc:
        # Kept, not dropped: the right key brings it back (issue 29.6). No path in the words:
        # they reach the Dashboard of people who cannot change the key.
        raise NeedsOtp(f"Skipped {gstin}: its GSP token is kept but cannot be read: {exc}. An "
                       "admin can put the right secret key back (Settings shows where it is "
                       "read from), and the token works again; or connect the GSTIN again "
                       "with a new OTP.") from None
    return Held(token, row["username"], row["token_expires_at"], refresh_at(row))


class GstinSessions:
    """The token source of `GstnClient`: per GSTIN its own session's token (None: the shared
    login), and what to do when the GSP refuses it mid-call."""

    def __init__(self, adapter: GspAdapter):
        self.adapter = adapter
        self.cache: dict[str, Held | None] = {}

    def token_for(self, gstin: str) -> Held | None:
        """The token for a call about `gstin`, refreshed first when due (a long fetch outlives
        a short token); a refresh that cannot reach the GSP leaves the token in use."""
        gstin = gstin.strip().upper()
        held = self.cache.get(gstin, False)
        if held is None or (held and held.refresh_at > utc_now()):
            return held
        held = self.cache[gstin] = held_token(gstin)
        if held is not None and held.refresh_at <= utc_now():
            try:
                refresh_session(gstin, self.adapter)
            except NeedsOtp:
                self.cache.pop(gstin, None)
                raise
            except GstnError as exc:
                log.info("%s", exc)
                return held
            held = self.cache[gstin] = held_token(gstin)
        return held

    def recover(self, gstin: str, refused: Held, code: str) -> Held:
        """The GSP refused `refused` (AUTH4033/AUTH4038): take a token another process
        refreshed meanwhile, else refresh now; NeedsOtp when neither works."""
        self.cache.pop(gstin, None)
        held = self.token_for(gstin)
        if held is not None and held.token != refused.token:
            return held
        try:
            refresh_session(gstin, self.adapter)
        except GstnError as exc:
            if not isinstance(exc, NeedsOtp):
                _refused(gstin, f"the GSP refused the session ({code}) and a refresh failed")
            raise NeedsOtp(f"{gstin} needs an OTP: the GSP refused its session ({code}) and "
                           "it could not be refreshed. Connect it again under Settings.",
                           code) from None
        self.cache.pop(gstin, None)
        return self.token_for(gstin)

    def give_up(self, gstin: str, code: str) -> NeedsOtp:
        """A fresh token was refused too: only a new OTP helps."""
        self.cache.pop(gstin, None)
        _refused(gstin, f"the GSP refused even a freshly refreshed session ({code})")
        return NeedsOtp(f"{gstin} needs an OTP: the GSP refused its session ({code}) even "
                        "after a refresh. Connect it again under Settings.", code)
