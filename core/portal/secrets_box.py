"""Encryption at rest for the secrets the store must keep: the GSP session tokens
(docs/security.md, "GSP sessions").

`seal(text)` -> an opaque string (Fernet: AES-128-CBC plus HMAC-SHA256, with a timestamp),
`unseal(sealed)` -> the text, or `SecretKeyError` when the key in effect is not the one it was
sealed with. The key, first found of:
1. the environment variable `IMS_SECRET_KEY` (at least 32 characters);
2. `key` under `[secrets]` in `.streamlit/secrets.toml`;
3. `secret.key` beside the store (`data/secret.key` by default): generated once, 256 random
   bits, permissions 0600. It is never written to the store, so a copy of the store file alone
   gives no token away.
The Fernet key is derived from the key text with HKDF-SHA256. Another key (a changed
`IMS_SECRET_KEY`, a deleted, truncated or damaged `secret.key`) makes the stored tokens
unreadable but never deletes them: the calls of those GSTINs are skipped with words, and the
right key brings the tokens back (core/portal/sessions.py `held_token`).
"""
from __future__ import annotations

import base64
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.store import configured_key, db_path, read_or_make_key

MIN_KEY_CHARS = 32
KEY_PURPOSE = b"ims-reco-sync: GSP session tokens at rest"
_boxes: dict[str, Fernet] = {}


class SecretKeyError(RuntimeError):
    """The key is unusable, or a sealed value was sealed with another key."""


def key_file() -> Path:
    """Where a generated key lives: beside the store."""
    return Path(db_path()).resolve().with_name("secret.key")


def _configured_key() -> tuple[str | None, str]:
    return configured_key("IMS_SECRET_KEY", "secrets", MIN_KEY_CHARS, SecretKeyError)


def _generated_key(path: Path) -> str:
    """Read the generated key, making it first (0600, exclusive create) when missing."""
    return read_or_make_key(path, MIN_KEY_CHARS, SecretKeyError(
        "the secret key file beside the store cannot be used (it is not a readable file of at "
        f"least {MIN_KEY_CHARS} characters: damaged, cut short or replaced)"))


def key_source() -> str:
    """Where the key in effect comes from, in words (never the key)."""
    configured, where = _configured_key()
    return where if configured else f"{key_file()} (generated; set IMS_SECRET_KEY to choose one)"


def _box() -> Fernet:
    configured, _ = _configured_key()
    text = configured or _generated_key(key_file())
    if text not in _boxes:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=KEY_PURPOSE).derive(text.encode())
        _boxes.clear()
        _boxes[text] = Fernet(base64.urlsafe_b64encode(derived))
    return _boxes[text]


def seal(text: str) -> str:
    """`text` encrypted and authenticated with the key in effect."""
    return _box().encrypt(text.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    """The text `seal` was given; SecretKeyError when it was sealed with another key."""
    try:
        return _box().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError, UnicodeError):
        raise SecretKeyError("it was sealed with another secret key (the secret key changed, "
                             "or its file was deleted and made anew)") from None
