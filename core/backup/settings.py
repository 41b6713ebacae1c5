"""The backup settings (Settings page, `python worker.py settings`): when the worker backs the
store up each day, where the backups go, how many it keeps (docs/backups.md).

- `backup_time`: HH:MM in IMS_TZ, or `off` (default 02:00);
- `backup_folder`: a folder; a relative one is taken beside the store file (default
  `backups`, so `data/backups` for the default store);
- `backup_keep_daily`: N, the last backup of each of the last N days with one (1-366, default 7);
- `backup_keep_monthly`: M, the last backup of each of the last M months (0-240, default 12).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from core.backup.snapshot import DEFAULT_FOLDER, FOLDER_KEY, backup_folder
from core.business import SettingsError
from core.jobs import parse_fetch_time
from core.store import connect, db_path, get_setting, put_setting, transaction

TIME_KEY, DAILY_KEY, MONTHLY_KEY = "backup_time", "backup_keep_daily", "backup_keep_monthly"
BACKUP_KEYS = (TIME_KEY, FOLDER_KEY, DAILY_KEY, MONTHLY_KEY)
OFF = "off"
DEFAULTS = {TIME_KEY: "02:00", FOLDER_KEY: DEFAULT_FOLDER, DAILY_KEY: "7", MONTHLY_KEY: "12"}


@dataclasses.dataclass(frozen=True)
class BackupSettings:
    time: str            # HH:MM or "off"
    folder: str          # as typed; `path` is where it points
    keep_daily: int
    keep_monthly: int

    @property
    def on(self) -> bool:
        return self.time != OFF

    @property
    def path(self) -> Path:
        return backup_folder(self.folder, db_path())


def load_backup_settings(con) -> BackupSettings:
    value = {k: get_setting(con, k) or d for k, d in DEFAULTS.items()}
    return BackupSettings(value[TIME_KEY], value[FOLDER_KEY], int(value[DAILY_KEY]),
                          int(value[MONTHLY_KEY]))


def backup_settings() -> BackupSettings:
    with connect(read_only=True) as con:
        return load_backup_settings(con)


def _count(value, what: str, low: int, high: int) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise SettingsError(f"Backups to keep {what} '{value}' is not a whole number") from None
    if not low <= n <= high:
        raise SettingsError(f"Backups to keep {what} must be between {low} and {high}, "
                            f"not {n}")
    return n


# The operating system's own folders (virtual, or the system's programs and settings).
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev", "/run", "/boot", "/etc", "/bin", "/sbin", "/lib",
                  "/lib64", "/usr", "/var/run", "/var/lib/dpkg")


def _time(value) -> str:
    if str(value).strip().lower() == OFF:
        return OFF
    try:
        return parse_fetch_time(value).strftime("%H:%M")
    except ValueError:
        raise SettingsError(f"Backup time '{value}' is not a time of day as HH:MM (24-hour) "
                            f"or '{OFF}'") from None


def _folder(value) -> str:
    text = str(value or "").strip()
    if not text:
        raise SettingsError("The backup folder is empty: name a folder (a relative one is "
                            "taken beside the store file)")
    path = backup_folder(text, db_path())
    system = next((s for s in SYSTEM_FOLDERS if path.resolve() == Path(s)
                   or path.resolve().is_relative_to(s)), None)
    if system is not None or path.resolve() == Path("/"):
        raise SettingsError(f"Backup folder {path} is inside the system folder "
                            f"{system or '/'}, which is not a place for files: choose a folder "
                            "of your own (or a mounted backup disk)")
    if path.exists() and not path.is_dir():
        raise SettingsError(f"Backup folder {path} is a file, not a folder")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SettingsError(f"Backup folder {path} cannot be written: {existing} is not "
                            "writable by this program")
    return text


def checked_backup_settings(time, folder, keep_daily, keep_monthly) -> BackupSettings:
    return BackupSettings(_time(time), _folder(folder), _count(keep_daily, "daily", 1, 366),
                          _count(keep_monthly, "monthly", 0, 240))


def save_backup_settings(time, folder, keep_daily, keep_monthly, actor: str) -> BackupSettings:
    """Check, then save all four in one go (logged in the action log)."""
    s = checked_backup_settings(time, folder, keep_daily, keep_monthly)
    saved = {TIME_KEY: s.time, FOLDER_KEY: s.folder, DAILY_KEY: str(s.keep_daily),
             MONTHLY_KEY: str(s.keep_monthly)}
    with connect() as con, transaction(con):
        for key, value in saved.items():
            put_setting(con, key, value)
        con.execute("INSERT INTO action_log (actor, kind, note) VALUES (?, 'settings', ?)",
                    [actor, " ".join(f"{k}={v}" for k, v in saved.items())])
    return s


def current_backup_settings() -> dict[str, str]:
    s = backup_settings()
    return {TIME_KEY: s.time, FOLDER_KEY: f"{s.folder} ({s.path})",
            DAILY_KEY: str(s.keep_daily), MONTHLY_KEY: str(s.keep_monthly)}


def change_backup_setting(key: str, value: str, actor: str) -> str:
    """One backup setting (`BACKUP_KEYS`) from the command line -> the value saved."""
    s = dataclasses.asdict(backup_settings())
    field = {TIME_KEY: "time", FOLDER_KEY: "folder", DAILY_KEY: "keep_daily",
             MONTHLY_KEY: "keep_monthly"}[key]
    saved = save_backup_settings(**{**s, field: value}, actor=actor)
    return str(getattr(saved, field))
