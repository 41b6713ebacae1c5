"""A secret key kept in a file beside the store, made once (0600, exclusive create).

Used where no key is configured (environment or `.streamlit/secrets.toml`): the session
signing key and the key that encrypts GSP tokens.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_make_key(path: Path, min_chars: int, unusable: Exception) -> str:
    """The key in `path`, made first when the file is missing; `unusable` is raised when the
    file holds no key of at least `min_chars` characters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < min_chars:
            raise unusable from None
        return key
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key
