"""The keyed signature that proves a backup is ours (docs/backups.md, "Signed backups").

A backup's manifest carries an HMAC-SHA256 over everything else in it (which names every table
file's SHA-256). The key is kept apart from the backups: `IMS_BACKUP_KEY` in the environment,
else the `[backup] key` of .streamlit/secrets.toml, else the file `backup.key` beside the store
file (made once, 0600). Anyone can recompute a plain SHA-256; without the key nobody can make a
manifest that verifies, so a changed table file, a swapped password hash or an edited manifest
is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from core.backup.errors import BackupError
from core.store import configured_key, db_path, read_or_make_key

KEY_VARIABLE = "IMS_BACKUP_KEY"
KEY_TABLE = "backup"
KEY_FILE = "backup.key"
MIN_KEY_CHARS = 32
SIGNATURE = "signature"


def key_path(store_path: str | None = None) -> Path:
    """The backup key file: beside the store file (never inside a backup folder)."""
    return Path(store_path or db_path()).resolve().with_name(KEY_FILE)


def backup_key(store_path: str | None = None, make: bool = True) -> tuple[bytes, str]:
    """(the key, where it is in words). `make`: create the key file when there is none (when
    signing); a check never makes one (a new key would verify nothing)."""
    key, where = configured_key(KEY_VARIABLE, KEY_TABLE, MIN_KEY_CHARS, BackupError)
    if key:
        return key.encode(), where
    path = key_path(store_path)
    if not make and not path.exists():
        raise BackupError(
            f"There is no backup key at {path} (nor {KEY_VARIABLE} in the environment), so no "
            "backup can be checked: put back the backup.key that signed the backups (keep a "
            "copy of it apart from the backups), or set IMS_BACKUP_KEY to it")
    unusable = BackupError(f"The backup key file {path} holds no usable key (at least "
                           f"{MIN_KEY_CHARS} characters): put back the backup.key that signed "
                           "the backups")
    try:
        return read_or_make_key(path, MIN_KEY_CHARS, unusable).encode(), str(path)
    except OSError as exc:
        raise BackupError(f"The backup key file {path} cannot be read: "
                          f"{exc.strerror or exc}") from exc


def _body(manifest: dict) -> bytes:
    return json.dumps({k: v for k, v in manifest.items() if k != SIGNATURE},
                      sort_keys=True).encode()


def signature_of(manifest: dict, key: bytes) -> str:
    return hmac.new(key, _body(manifest), hashlib.sha256).hexdigest()


def sign(manifest: dict, key: bytes) -> dict:
    manifest[SIGNATURE] = signature_of(manifest, key)
    return manifest


def signed_by(manifest: dict, key: bytes) -> bool:
    given = manifest.get(SIGNATURE)
    return isinstance(given, str) and hmac.compare_digest(given, signature_of(manifest, key))
