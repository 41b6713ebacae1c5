"""The backups on the pages (Streamlit AppTest, real DuckDB file): Settings saves the backup
time, folder and retention and backs up at once; the Dashboard shows the last result, in red
when the last backup failed."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.store.database import connect, put_setting
from tests.fixtures import rows, seed_demo
from tests.test_app_pages import open_page


def labelled(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_settings_saves_the_backup_settings_and_backs_up_now(db_file, tmp_path):
    seed_demo(n_per_business=20, with_jobs=False)
    at = open_page("settings")
    labelled(at.time_input, "Daily backup time").set_value(dt.time(3, 15))
    labelled(at.text_input, "Backup folder").set_value("nightly")
    labelled(at.number_input, "Keep daily (last N days)").set_value(5)
    labelled(at.number_input, "Keep monthly (last M months)").set_value(2)
    labelled(at.button, "Save backup settings").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows("SELECT key, value FROM settings WHERE key LIKE 'backup%' ORDER BY key") == [
        ("backup_folder", "nightly"), ("backup_keep_daily", "5"), ("backup_keep_monthly", "2"),
        ("backup_time", "03:15")]
    labelled(at.button, "Back up now").click()
    at.run()
    assert not at.exception
    assert any(s.value.startswith("Backup written: ") for s in at.success)
    made = [p for p in (Path(db_file).parent / "nightly").iterdir()]
    assert len(made) == 1 and (made[0] / "manifest.json").is_file()
    assert rows("SELECT job, gstin, ok, triggered_by FROM job_runs WHERE job = 'backup'") == [
        ("backup", None, True, "app:local")]
    assert made[0].name in str(at.dataframe[-1].value["Backup"].to_list())

    dashboard = open_page("dashboard")
    shown = " ".join(c.value for c in dashboard.caption)
    assert "Backups: the last backup ran at" in shown and made[0].name in shown


def test_the_dashboard_shows_a_failed_backup_in_red(db_file, tmp_path):
    seed_demo(n_per_business=20, with_jobs=False)
    (tmp_path / "gone").write_text("not a folder")
    with connect() as con:
        put_setting(con, "backup_folder", str(tmp_path / "gone" / "b"))
    at = open_page("settings")
    labelled(at.button, "Back up now").click()
    at.run()
    assert any("The backup failed: Cannot write backups to" in e.value for e in at.error)
    dashboard = open_page("dashboard")
    assert any("the last backup FAILED" in e.value and "Cannot write backups" in e.value
               for e in dashboard.error), [e.value for e in dashboard.error]
