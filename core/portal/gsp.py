"""Where the GSP is and how to log in to it (docs/portal-api.md, docs/interfaces.md).

The URL, first found wins, and `GspConfig.url_source` says which one is in effect:
1. the environment, `GSTN_API_URL`;
2. `.streamlit/secrets.toml`, `[gsp] url`;
3. the URL saved on the Settings page (the store's `gsp_url` setting);
4. the default, `http://127.0.0.1:8765` (the bundled sandbox).

Credentials come from `GSTN_USERNAME` / `GSTN_OTP`, else from `[gsp] username` / `otp`. With
neither, a loopback URL (127.0.0.1, localhost, ::1: the bundled sandbox on this machine)
logs in with the login the sandbox publishes (`LOOPBACK_USERNAME`, `LOOPBACK_OTP`), so `./run.sh` and the tests
work out of the box; any other URL without credentials is refused at login, in words.
Secrets never go to logs, the database or a page.

`GspAdapter` is the seam for a real GSP (its login call, the per-GSTIN OTP steps, headers,
answer envelope). Per-GSTIN sessions (an OTP per GSTIN, refreshed tokens): `core.portal.sessions`.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from core.business import URL_SETTING
from core.json_decode import decode_json
from core.store import connect, get_setting

DEFAULT_URL = "http://127.0.0.1:8765"
# The login the bundled sandbox publishes for its demo (sandbox/README.md); tried only on a
# loopback URL with no credentials given. The product never imports the sandbox: a test checks
# that these two values equal the sandbox's own.
LOOPBACK_USERNAME = "demo"
LOOPBACK_OTP = "575757"
SECRETS_PATH = ".streamlit/secrets.toml"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class GstnError(RuntimeError):
    """The portal answered with an error envelope, or could not be reached in time."""

    def __init__(self, message: str, error_cd: str | None = None,
                 http_status: int | None = None, details: dict | None = None):
        super().__init__(message)
        self.error_cd = error_cd
        self.http_status = http_status
        self.details = details or {}


class ReauthenticationNeeded(GstnError):
    """The GSP session expired and a fresh login did not help: re-authenticate with the GSP
    (new OTP / API access enabled on the portal), then run the fetch again."""


class SessionRefused(ReauthenticationNeeded):
    """The GSP refused an OTP step (unknown username, wrong or expired OTP, a token it no
    longer refreshes, API access not enabled): only a new OTP helps."""


@dataclass(frozen=True)
class IssuedToken:
    """What AUTHTOKEN / REFRESHTOKEN gave: the token (a secret) and its lifetime."""

    token: str = field(repr=False)
    minutes: float = 360.0


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


def saved_url() -> str | None:
    """The URL saved on the Settings page, if any."""
    with connect() as con:
        return get_setting(con, URL_SETTING)


def _secrets_section(path: str | Path) -> dict:
    path = Path(path)
    return dict(tomllib.loads(path.read_text()).get("gsp", {})) if path.is_file() else {}


@dataclass
class GspConfig:
    """Where the GSP is and how to log in."""

    url: str = DEFAULT_URL
    username: str = ""
    otp: str = field(default="", repr=False)
    extra: dict = field(default_factory=dict, repr=False)  # other [gsp] keys, for adapters
    url_source: str = "default (the bundled sandbox)"
    credentials_source: str = "none configured"

    @classmethod
    def load(cls, secrets_path: str | Path = SECRETS_PATH,
             url: str | None = None) -> GspConfig:
        """The configuration in effect (see the module docstring); `url`, when given, is used
        instead of the configured URL (Settings' "Test connection" of a typed URL)."""
        section = _secrets_section(secrets_path)
        secret_url = section.pop("url", None)
        username, otp = section.pop("username", None), section.pop("otp", None)
        if url:
            found, source = url, "the URL being tested"
        elif os.environ.get("GSTN_API_URL"):
            found, source = os.environ["GSTN_API_URL"], "environment GSTN_API_URL"
        elif secret_url:
            found, source = str(secret_url), f"{secrets_path} [gsp] url"
        elif saved := saved_url():
            found, source = saved, "the Settings page"
        else:
            found, source = DEFAULT_URL, "default (the bundled sandbox)"
        found = found.strip().rstrip("/")
        if os.environ.get("GSTN_USERNAME"):
            user, secret = os.environ["GSTN_USERNAME"], os.environ.get("GSTN_OTP", "")
            creds = "environment (GSTN_USERNAME / GSTN_OTP)"
        elif username:
            user, secret, creds = str(username), str(otp or ""), f"{secrets_path} [gsp]"
        elif is_loopback(found):
            user, secret, creds = LOOPBACK_USERNAME, LOOPBACK_OTP, "the bundled sandbox's demo login"
        else:
            user, secret, creds = "", "", "none configured"
        return cls(url=found, username=user, otp=secret, extra=section, url_source=source,
                   credentials_source=creds)


def read_envelope(resp: requests.Response) -> dict:
    """The answer's JSON object, or GstnError saying what came instead."""
    return envelope_of(resp.status_code, resp.content)


def envelope_of(status: int, content: bytes) -> dict:
    """The JSON object of an answer's bytes, or GstnError saying what came instead."""
    try:
        body = decode_json(content)
    except ValueError:
        text = content[:200].decode("utf-8", errors="replace")
        raise GstnError(f"The GSP answered HTTP {status} with something that is not "
                        f"JSON: {text!r}", http_status=status) from None
    if not isinstance(body, dict):
        raise GstnError(f"The GSP answered HTTP {status} with JSON that is not an object")
    return body


class GspAdapter:
    """The seam for a real GSP: how to log in, which headers each call carries, and how to
    read the answer envelope. The default speaks the bundled sandbox's dialect.

    To use a real GSP, subclass and override:
    - `request_otp(http, gstin, username, timeout) -> dict`: OTPREQUEST for one GSTIN; what
      it returns (e.g. a GSP's transaction id) is kept sealed and handed to `exchange_otp`.
    - `exchange_otp(http, gstin, username, otp, context, timeout) -> IssuedToken`: AUTHTOKEN.
    - `refresh(http, gstin, username, token, timeout) -> IssuedToken`: REFRESHTOKEN.
      The three raise `SessionRefused` when the GSP says no (then only a new OTP helps).
    - `login(session, timeout) -> token`: the one shared login of the first version (used
      only for GSTINs without a session of their own; the bundled sandbox's demo login).
    - `headers(token, gstin, username) -> dict`: what the GSP wants on every call (auth
      token, gstin, username, state-cd, ip-usr, its client id/secret from `config.extra`).
    - `unwrap(body) -> dict`: turn the GSP's envelope into GSTN's `{"status_cd", "data" |
      "error"}` (decrypting if the GSP does not).
    Then pass it: `GstnClient(adapter=MyGsp(GspConfig.load()))`.
    """

    auth_path = "/authenticate"
    # a supplier's filing status (its GSTR-1 and GSTR-3B per period, registration cancelled):
    # where a GSP offers it, a subclass sets its path and parameters (docs/suppliers.md)
    supplier_returns_path = "/commonapi/v1.0/returns"

    def supplier_returns_params(self, gstin: str, stin: str, fy: str) -> dict:
        return {"action": "RETTRACK", "gstin": gstin, "ctin": stin, "fy": fy}

    def __init__(self, config: GspConfig):
        self.config = config

    def login(self, session: requests.Session, timeout: float) -> str:
        if not self.config.username:
            raise ReauthenticationNeeded(
                f"Re-authenticate with the GSP: no credentials are configured for "
                f"{self.config.url}. Set GSTN_USERNAME and GSTN_OTP, or [gsp] username and "
                f"otp in {SECRETS_PATH}.")
        resp = session.post(self.config.url + self.auth_path, timeout=timeout,
                            json={"username": self.config.username, "otp": self.config.otp})
        body = self.unwrap(read_envelope(resp))
        if str(body.get("status_cd")) != "1":
            error = body.get("error") or {}
            raise ReauthenticationNeeded(
                f"Re-authenticate with the GSP: it refused the login for user "
                f"'{self.config.username}': {error.get('message', 'no reason given')} "
                f"({error.get('error_cd', resp.status_code)}); check the username and OTP.",
                error.get("error_cd"), resp.status_code)
        data = body.get("data") or {}
        token = data.get("auth_token") or data.get("token") or body.get("auth_token")
        if not token:
            raise GstnError("The GSP login answer carried no auth token")
        return str(token)

    def headers(self, token: str, gstin: str | None, username: str | None = None) -> dict:
        h = {"auth-token": token, "Authorization": f"Bearer {token}",
             "username": username or self.config.username}
        if gstin:
            h["gstin"] = gstin
        return h

    # -- the per-GSTIN OTP steps (GSTN's `action`s on the auth endpoint)

    def _auth_step(self, http: requests.Session, body: dict, what: str,
                   timeout: float) -> dict:
        """POST one auth action -> the answer (envelope unwrapped); SessionRefused in words
        when the GSP says no. Neither the OTP nor a token ever goes into a message."""
        resp = http.post(self.config.url + self.auth_path, json=body, timeout=timeout,
                         headers={"gstin": body["gstin"], "username": body["username"]})
        answer = self.unwrap(read_envelope(resp))
        if str(answer.get("status_cd")) != "1":
            error = answer.get("error") or {}
            code = str(error.get("error_cd") or answer.get("error_cd") or resp.status_code)
            raise SessionRefused(f"The GSP refused to {what} for {body['gstin']} (user "
                                 f"'{body['username']}'): "
                                 f"{error.get('message') or 'no reason given'} ({code})", code,
                                 resp.status_code)
        return answer

    @staticmethod
    def _issued(answer: dict) -> IssuedToken:
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        token = data.get("auth_token") or answer.get("auth_token")
        if not token:
            raise GstnError("The GSP's answer carried no auth token")
        minutes = data.get("expiry", answer.get("expiry", 360))
        try:
            minutes = float(minutes)
        except (TypeError, ValueError):
            minutes = 360.0
        return IssuedToken(str(token), minutes if minutes > 0 else 360.0)

    def request_otp(self, http: requests.Session, gstin: str, username: str,
                    timeout: float) -> dict:
        self._auth_step(http, {"action": "OTPREQUEST", "gstin": gstin, "username": username},
                        "send an OTP", timeout)
        return {}

    def exchange_otp(self, http: requests.Session, gstin: str, username: str, otp: str,
                     context: dict, timeout: float) -> IssuedToken:
        return self._issued(self._auth_step(
            http, {"action": "AUTHTOKEN", "gstin": gstin, "username": username, "otp": otp,
                   **context}, "accept the OTP", timeout))

    def refresh(self, http: requests.Session, gstin: str, username: str, token: str,
                timeout: float) -> IssuedToken:
        return self._issued(self._auth_step(
            http, {"action": "REFRESHTOKEN", "gstin": gstin, "username": username,
                   "auth_token": token}, "refresh the session", timeout))

    def unwrap(self, body: dict) -> dict:
        return body


def url_in_effect() -> str:
    """Which URL the client uses and where it comes from, in words (the Settings page)."""
    config = GspConfig.load()
    note = f"In effect: {config.url} (from {config.url_source})."
    saved = saved_url()
    if saved and config.url_source != "the Settings page":
        note += (f" The URL saved here ({saved}) is used only when neither GSTN_API_URL nor "
                 f"{SECRETS_PATH} sets one.")
    return note
