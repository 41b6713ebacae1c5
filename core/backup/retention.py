"""Which backups to keep: N daily and M monthly (docs/backups.md, "Retention").

Days and months are those of IMS_TZ. Daily: for each of the last N days that have a backup,
every backup of that day (a "Back up now" never replaces the day's earlier backup: each run has
its own name, and both stay for as long as the day is among the last N). Monthly: for each of the last M months that have a backup, its last backup
(the month's last day's backup, or the latest one of the current month). A backup that is
both counts once. Everything else in the folder that is a finished backup of this program is
removed, and only after a backup succeeded; folders without a manifest are never counted or
removed (a `.partial` folder left by a backup that died is removed after a day).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from pathlib import Path

from core.backup.restore import read_manifest
from core.backup.snapshot import NAME_RE, BackupError
from core.clock import business_tz

PARTIAL_MAX_AGE_S = 24 * 3600


@dataclasses.dataclass(frozen=True)
class Found:
    name: str
    path: Path
    taken_at: dt.datetime        # naive UTC, as the manifest says
    rows: int
    bytes: int

    @property
    def taken_local(self) -> dt.datetime:
        return self.taken_at.replace(tzinfo=dt.UTC).astimezone(business_tz())


def list_backups(folder: Path) -> list[Found]:
    """The finished backups in `folder` (a readable, unchanged manifest), oldest first."""
    found = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        if not (path.is_dir() and NAME_RE.match(path.name)):
            continue
        try:
            _, manifest = read_manifest(path)
        except BackupError:
            continue
        found.append(Found(path.name, path, dt.datetime.fromisoformat(manifest["taken_at"]),
                           sum(t["rows"] for t in manifest["tables"]),
                           sum(t["bytes"] for t in manifest["tables"])))
    return sorted(found, key=lambda b: (b.taken_at, b.name))


def to_keep(backups: list[Found], daily: int, monthly: int) -> set[str]:
    """The names kept by N daily and M monthly."""
    keep: set[str] = set()
    days: set[dt.date] = set()
    months: set[tuple[int, int]] = set()
    for b in sorted(backups, key=lambda b: (b.taken_at, b.name), reverse=True):
        local = b.taken_local
        if local.date() not in days and len(days) < daily:
            days.add(local.date())
        if local.date() in days:
            keep.add(b.name)
        month = (local.year, local.month)
        if month not in months and len(months) < monthly:
            months.add(month)
            keep.add(b.name)
    return keep


def prune(folder: Path, daily: int, monthly: int) -> dict:
    """Remove the backups N daily and M monthly do not keep -> kept and removed names."""
    backups = list_backups(folder)
    keep = to_keep(backups, daily, monthly)
    removed = [b.name for b in backups if b.name not in keep]
    for name in removed:
        shutil.rmtree(folder / name)
    for partial in folder.glob(".ims-backup-*.partial"):
        if time.time() - partial.stat().st_mtime > PARTIAL_MAX_AGE_S:
            shutil.rmtree(partial, ignore_errors=True)
    return {"kept": sorted(keep), "removed": removed}
