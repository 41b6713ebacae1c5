"""The signed session token a browser keeps (cookie `ims_session`), and the key that signs it.

A token is `v1.<session id>.<expiry, unix seconds>.<HMAC-SHA256 of the rest, url-safe>`; it
names one row of `app_sessions` (core/auth/sessions.py), which says whether the session still
holds. Without the key nobody can make a token, and a changed byte breaks the signature.

The key (docs/security.md), first found of:
1. the environment variable `IMS_SESSION_KEY` (at least 32 characters);
2. `key` under `[session]` in `.streamlit/secrets.toml`;
3. `session.key` beside the store (`data/session.key` by default): generated once, 256 random
   bits, written with permissions 0600. It is never written to the store.
Changing the key ends every session at once (every token stops verifying).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from core.clock import unix_now
from core.store import configured_key, db_path, read_or_make_key

MIN_KEY_CHARS = 32
_keys: dict[str, bytes] = {}


class SessionKeyError(RuntimeError):
    """The configured session key is unusable (too short, or its file unreadable)."""


def key_file() -> Path:
    """Where a generated key lives: beside the store."""
    return Path(db_path()).resolve().with_name("session.key")


def _configured_key() -> str | None:
    return configured_key("IMS_SESSION_KEY", "session", MIN_KEY_CHARS, SessionKeyError)[0]


def _stored_key(path: Path) -> str:
    """Read the generated key, making it first (0600, exclusive create) when missing."""
    return read_or_make_key(path, MIN_KEY_CHARS, SessionKeyError(
        f"{path} holds no usable session key; delete it (every session ends) and start the "
        "app again"))


def session_key() -> bytes:
    """The key that signs session tokens (read once per store and process)."""
    configured = _configured_key()
    if configured:
        return configured.encode()
    where = str(key_file())
    if where not in _keys:
        _keys[where] = _stored_key(key_file()).encode()
    return _keys[where]


def _signature(body: str) -> str:
    digest = hmac.new(session_key(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_session(session_id: str, expires_unix: int) -> str:
    """The token for one session row, valid until `expires_unix` at the latest."""
    body = f"v1.{session_id}.{int(expires_unix)}"
    return f"{body}.{_signature(body)}"


def verified_session_id(token: str | None, now_unix: float | None = None) -> str | None:
    """The session id a token names when its signature is right and it has not expired."""
    if not token or len(token) > 300:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit():
        return None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _signature(body)):
        return None
    if int(parts[2]) <= (unix_now() if now_unix is None else now_unix):
        return None
    return parts[1]
