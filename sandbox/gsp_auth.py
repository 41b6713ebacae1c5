"""The sandbox's sessions: the demo login, and the per-GSTIN OTP flow a GSP runs
(OTPREQUEST, AUTHTOKEN, REFRESHTOKEN), with token expiry and each GSTIN's enabled API access
period (sandbox/README.md, "Session"). Times are monotonic seconds of this process.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from sandbox.demo import DEMO_OTP, DEMO_PORTAL_USERS, DEMO_USERNAME
from sandbox.state import PortalError

OTP_SECONDS = 600          # an OTP is good for 10 minutes
OTP_TRIES = 3              # wrong OTPs before it is spent
DEFAULT_ACCESS_HOURS = 30 * 24


@dataclass
class Token:
    expires: float
    gstin: str | None       # None: the demo login, good for every GSTIN
    username: str


@dataclass
class SentOtp:
    code: str
    username: str
    expires: float
    tries: int = 0


def _gstin(value) -> str:
    return str(value or "").strip().upper()


class Sessions:
    """Issued tokens, OTPs sent, and until when each GSTIN's API access is enabled."""

    def __init__(self, gstins: list[str]):
        self.lock = threading.Lock()
        self.tokens: dict[str, Token] = {}
        self.otps: dict[str, SentOtp] = {}
        start = time.monotonic()
        self.access: dict[str, float] = {g: start + DEFAULT_ACCESS_HOURS * 3600 for g in gstins}
        self.counts = {"OTPREQUEST": 0, "AUTHTOKEN": 0, "REFRESHTOKEN": 0, "LOGIN": 0}

    # ------------------------------------------------------------ issuing

    def _issue(self, ttl: float, gstin: str | None, username: str) -> str:
        token = secrets.token_hex(16)
        self.tokens[token] = Token(time.monotonic() + ttl, gstin, username)
        return token

    def demo_login(self, body: dict, ttl: float) -> dict:
        """The first version's login: the demo username and OTP, a token for every GSTIN."""
        if body.get("username") != DEMO_USERNAME or str(body.get("otp")) != DEMO_OTP:
            raise PortalError("AUTH4033", "Invalid username or OTP", 401)
        with self.lock:
            self.counts["LOGIN"] += 1
            return {"auth_token": self._issue(ttl, None, DEMO_USERNAME),
                    "expiry": _minutes(ttl)}

    def _access_open(self, gstin: str) -> bool:
        return self.access.get(gstin, 0.0) > time.monotonic()

    def _user_of(self, gstin: str, username: str) -> None:
        if gstin not in self.access:
            raise PortalError("RET11401", f"GSTIN {gstin or '(none)'} is not served here", 200)
        if username.lower() != DEMO_PORTAL_USERS.get(gstin, "").lower():
            raise PortalError("AUTH4033", f"Username '{username}' is not the portal user of "
                              f"{gstin}", 401)

    def request_otp(self, gstin: str, username: str) -> dict:
        """OTPREQUEST: 'sends' a fresh OTP (read it with GET /_control/otp)."""
        with self.lock:
            self.counts["OTPREQUEST"] += 1
            self._user_of(gstin, username)
            if not self._access_open(gstin):
                raise PortalError("AUTH4037", f"API access is not enabled for {gstin}: enable "
                                  "it on the GST portal first", 401)
            code = f"{secrets.randbelow(10 ** 6):06d}"
            self.otps[gstin] = SentOtp(code, username, time.monotonic() + OTP_SECONDS)
        return {"message": "OTP sent to the registered mobile number and e-mail"}

    def exchange_otp(self, gstin: str, username: str, otp: str, ttl: float) -> dict:
        """AUTHTOKEN: the OTP sent last for this GSTIN buys a token for this GSTIN."""
        with self.lock:
            self.counts["AUTHTOKEN"] += 1
            self._user_of(gstin, username)
            sent = self.otps.get(gstin)
            if sent is None or sent.expires <= time.monotonic():
                self.otps.pop(gstin, None)
                raise PortalError("AUTH4034", "No OTP is pending or it has expired: request a "
                                  "new one", 401)
            if not secrets.compare_digest(sent.code, str(otp or "").strip()):
                sent.tries += 1
                if sent.tries >= OTP_TRIES:
                    self.otps.pop(gstin, None)
                raise PortalError("AUTH4033", "Invalid OTP", 401)
            del self.otps[gstin]
            if not self._access_open(gstin):
                raise PortalError("AUTH4037", f"API access is not enabled for {gstin}", 401)
            return {"auth_token": self._issue(ttl, gstin, username), "expiry": _minutes(ttl)}

    def refresh(self, gstin: str, username: str, token: str, ttl: float) -> dict:
        """REFRESHTOKEN: a token of this GSTIN that has not expired buys a fresh one, while
        the enabled period lasts. The old token stays good until its own expiry."""
        with self.lock:
            self.counts["REFRESHTOKEN"] += 1
            self._user_of(gstin, username)
            held = self.tokens.get(token or "")
            if held is None or held.gstin != gstin:
                raise PortalError("AUTH4033", "Invalid session: log in with a new OTP", 401)
            if not self._access_open(gstin):
                raise PortalError("AUTH4038", f"The API access period of {gstin} has ended: "
                                  "enable API access on the GST portal and log in with a "
                                  "new OTP", 401)
            if held.expires <= time.monotonic():
                raise PortalError("AUTH4038", "Session expired: log in with a new OTP", 401)
            return {"auth_token": self._issue(ttl, gstin, username), "expiry": _minutes(ttl)}

    # ------------------------------------------------------------ checking

    def check(self, token: str | None, gstin: str) -> None:
        """An API call's token: known, not expired, for this GSTIN, within its access period."""
        gstin = _gstin(gstin)
        with self.lock:
            held = self.tokens.get(token or "")
            if held is None:
                raise PortalError("AUTH4033", "Invalid session: log in again", 401)
            if held.gstin is not None and gstin and held.gstin != gstin:
                raise PortalError("AUTH4033", f"This session is for {held.gstin}, not {gstin}",
                                  401)
            if gstin in self.access and not self._access_open(gstin):
                raise PortalError("AUTH4038", f"The API access period of {gstin} has ended", 401)
            if time.monotonic() >= held.expires:
                raise PortalError("AUTH4038", "Session expired: log in again", 401)

    # ------------------------------------------------------------ test controls

    def expire_all(self) -> None:
        with self.lock:
            for held in self.tokens.values():
                held.expires = 0.0

    def set_access(self, gstin: str, hours: float) -> dict:
        """Enable API access for `hours` from now; 0 (or less) ends it now."""
        gstin = _gstin(gstin)
        with self.lock:
            if gstin not in self.access:
                raise PortalError("RET11401", f"GSTIN {gstin or '(none)'} is not served here",
                                  404)
            self.access[gstin] = time.monotonic() + max(float(hours), 0.0) * 3600
        return self.listing()[gstin]

    def sent_otp(self, gstin: str) -> dict:
        """The OTP 'sent' last for a GSTIN (tests read it here: the SMS of the sandbox)."""
        gstin = _gstin(gstin)
        with self.lock:
            sent = self.otps.get(gstin)
            if sent is None or sent.expires <= time.monotonic():
                raise PortalError("NOT_FOUND", f"No OTP is pending for {gstin}", 404)
            return {"gstin": gstin, "username": sent.username, "otp": sent.code}

    def listing(self) -> dict:
        now = time.monotonic()
        return {g: {"access_open": end > now, "access_hours_left": round(max(end - now, 0) / 3600,
                                                                          4),
                    "username": DEMO_PORTAL_USERS.get(g),
                    "live_tokens": sum(1 for t in self.tokens.values()
                                       if t.gstin == g and t.expires > now)}
                for g, end in self.access.items()}


def _minutes(ttl: float) -> float | int:
    """Token lifetime in minutes as GSTN gives it (a whole number unless the test asked for
    seconds)."""
    minutes = ttl / 60
    return int(minutes) if minutes == int(minutes) else round(minutes, 4)


def authenticate(sessions: Sessions, body: dict, header_gstin: str | None, ttl: float) -> dict:
    """POST /authenticate: `action` OTPREQUEST / AUTHTOKEN / REFRESHTOKEN for one GSTIN
    (body `gstin` or header `gstin`), or the demo login when there is no `action`."""
    action = str(body.get("action") or "").upper()
    if not action:
        return sessions.demo_login(body, ttl)
    gstin = _gstin(body.get("gstin") or header_gstin)
    username = str(body.get("username") or "")
    if action == "OTPREQUEST":
        return sessions.request_otp(gstin, username)
    if action == "AUTHTOKEN":
        return sessions.exchange_otp(gstin, username, str(body.get("otp") or ""), ttl)
    if action == "REFRESHTOKEN":
        return sessions.refresh(gstin, username, str(body.get("auth_token") or ""), ttl)
    raise PortalError("RET400", f"Unknown authenticate action '{action}'", 400)
