"""The app's secret keys (the session signing key, the key that encrypts GSP tokens): the one
configured (an environment variable, else a table of `.streamlit/secrets.toml`), else one kept in
a file beside the store, made once (0600, exclusive create).
"""
from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

SECRETS_FILE = Path(__file__).resolve().parents[1] / ".streamlit" / "secrets.toml"


def read_or_make_key(path: Path, min_chars: int, unusable: Exception) -> str:
    """The key in `path`, made first when the file is missing; `unusable` is raised when the
    file holds no key of at least `min_chars` characters, or cannot be read as text at all (a
    folder in its place, no permission, binary garbage): never a traceback, never a new key
    over a damaged one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            key = path.read_text().strip()
        except (OSError, UnicodeError):
            raise unusable from None
        if len(key) < min_chars:
            raise unusable from None
        return key
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def configured_key(variable: str, table: str, min_chars: int,
                   too_short: type[Exception]) -> tuple[str | None, str]:
    """(key, where it comes from in words) from the environment variable `variable`, else
    `key` under `[table]` in .streamlit/secrets.toml; (None, "") when neither is set.
    `too_short` is raised (naming where) for a key under `min_chars` characters."""
    key, where = os.environ.get(variable), f"{variable} in the environment"
    if not key and SECRETS_FILE.exists():
        with SECRETS_FILE.open("rb") as f:
            key = tomllib.load(f).get(table, {}).get("key")
        where = f"[{table}] key in .streamlit/secrets.toml"
    if key and len(str(key)) < min_chars:
        raise too_short(f"The key ({where}) needs at least {min_chars} characters")
    return (str(key), where) if key else (None, "")
