"""The one error of backups and restores."""
from __future__ import annotations


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says what and where, in words."""
