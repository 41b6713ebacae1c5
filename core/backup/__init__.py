"""Backups of the store: snapshots, verification, restore, retention, and the daily backup job."""
from __future__ import annotations

from core.backup.job import BACKUP, backup_job, backup_now, backup_status, describe, due_backup
from core.backup.restore import restore_backup
from core.backup.retention import list_backups
from core.backup.settings import (
    BACKUP_KEYS,
    OFF,
    backup_settings,
    change_backup_setting,
    current_backup_settings,
    save_backup_settings,
)
from core.backup.snapshot import take_backup

__all__ = ["BACKUP", "BACKUP_KEYS", "OFF", "backup_job", "backup_now", "backup_settings", "backup_status", "change_backup_setting", "current_backup_settings", "describe", "due_backup", "list_backups", "restore_backup", "save_backup_settings", "take_backup"]
