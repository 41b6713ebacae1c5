"""The backups on the Dashboard (their state) and on Settings (when, where, how many, and a
backup now). The logic is in core/backup/job.py and core/backup/settings.py."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from app import ui
from core.backup import (
    OFF,
    backup_now,
    backup_settings,
    backup_status,
    describe,
    list_backups,
    save_backup_settings,
)
from core.business import SettingsError
from core.figures import count_words, counted

RESTORE = "Restore one with `python -m core.db restore --from BACKUP --to NEW_FILE` (README)."


def backup_state() -> None:
    """Dashboard: the last backup's result, the newest backup, the next one (the folder for
    admins only)."""
    status = backup_status()
    user = ui.current_user()
    last, lines = status["last_run"], describe(status, with_folder=bool(user)
                                                and user.role == "admin")
    text = "Backups: " + "; ".join(lines) + "."
    if status["on_server"]:
        st.info(text)
    elif last and not last["ok"]:
        st.error(f"{text} Fix the cause (Settings → Backups), then use \"Back up now\".")
    elif not status["settings"].on or status["stale"]:
        st.warning(f"{text} The store is the only history of who decided what once GSTR-3B "
                   "is filed; keep a recent backup.")
    else:
        st.caption(f":material/check_circle: {text}")


def _back_up_now(actor: str) -> None:
    result = backup_now(actor)
    ui.after_write()
    if result.ok:
        ui.flash("success", f"Backup written: {result.counts['path']} "
                            f"({counted(result.counts['rows'], 'row')}).")
    else:
        ui.flash("error", f"The backup failed: {result.error}")
    st.rerun()


def backup_settings_section(actor: str) -> None:
    """Settings: the daily backup's time, folder and retention; a backup now; the list."""
    st.subheader("Backups")
    s = backup_settings()
    with st.form("backups"):
        on = st.checkbox("Back up the store every day", value=s.on)
        at = st.time_input("Daily backup time", step=dt.timedelta(minutes=15),
                           value=dt.time.fromisoformat(s.time if s.on else "02:00"))
        folder = st.text_input("Backup folder", value=s.folder,
                               help="A relative folder is taken beside the store file.")
        left, right = st.columns(2)
        daily = left.number_input("Keep daily (last N days)", 1, 366, s.keep_daily)
        monthly = right.number_input("Keep monthly (last M months)", 0, 240, s.keep_monthly)
        if st.form_submit_button("Save backup settings"):
            try:
                save_backup_settings(at.strftime("%H:%M") if on else OFF, folder, daily,
                                     monthly, actor)
                ui.after_write()
                ui.flash("success", "Backup settings saved. The worker uses them from its "
                                    "next minute.")
                st.rerun()
            except SettingsError as err:
                st.error(str(err))
    st.caption(f"Backups go to {s.path}. Copy them off this machine (README: Backups). "
               + RESTORE)
    if st.button("Back up now"):
        with st.spinner("Backing up ..."):
            _back_up_now(actor)
    found = list_backups(s.path)
    if found:
        st.dataframe([{"Backup": b.name, "Taken": ui.when(b.taken_local),
                       "Rows": count_words(b.rows), "Size (MB)": round(b.bytes / 1e6, 1)}
                      for b in reversed(found)], hide_index=True)
