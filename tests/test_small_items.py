"""The smaller holes of issue 29.10, each shown on the real thing: spreadsheet formulas in an
uploaded file's headers, NUL bytes in names, a UTF-16 file, store and log permissions, the 2B
regeneration's GSTIN grant, `worker.py status` on a busy store, `businesses add` limits, and
the backup folder and unknown-setting words of `worker.py settings set`."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core import auth
from core.gstr2b.panel import regenerate_from_dashboard
from core.purchase import read_purchase_documents
from core.purchase.problems import rejected_csv_bytes
from core.purchase.read import FileProblem
from core.store.database import connect, let_go_of_idle_files
from scripts.run_demo import private_log
from tests.fixtures import ROOT, SAMPLES, add_business, rows, store_held_by_another_process

SAMPLE = (SAMPLES / "purchase_register_sample.csv").read_bytes()
FORMULA = "=SUM(A1:A9)*10"


def worker(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "worker.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env={**os.environ, **env})


def test_a_formula_in_a_header_reaches_the_rejected_lines_csv_as_text():
    header, *lines = SAMPLE.decode().splitlines()
    bad = lines[0].replace("27AABCS5678L1ZQ", "NOT-A-GSTIN")
    data = "\n".join([f"{header},{FORMULA}", f"{bad},1", *(f"{ln},2" for ln in lines[1:3])])
    v = read_purchase_documents(data.encode(), file_name="f.csv")
    first = rejected_csv_bytes(v).decode("utf-8-sig").splitlines()[0]
    assert f",'{FORMULA}," in first and f",{FORMULA}," not in first


def test_nul_bytes_never_reach_a_supplier_name():
    data = SAMPLE.replace(b"Sahyadri Steel", b"Sahyadri\x00 Steel\x01")
    v = read_purchase_documents(data, file_name="f.csv")
    names = v.docs["supplier_name"].to_list()
    assert "Sahyadri Steel" in names and not any("\x00" in n or "\x01" in n for n in names)


def test_a_utf16_file_is_named_as_such():
    with pytest.raises(FileProblem, match="saved as UTF-16"):
        read_purchase_documents(SAMPLE.decode().encode("utf-16"), file_name="u.csv")


def test_the_store_and_the_logs_are_readable_by_their_owner_only(db_file, tmp_path):
    with connect() as con:
        con.execute("SELECT 1")
    let_go_of_idle_files()
    assert stat.S_IMODE(os.stat(db_file).st_mode) == 0o600
    old = tmp_path / "app.log"
    old.write_text("before\n")
    os.chmod(old, 0o644)
    os.close(private_log(old))
    os.close(private_log(tmp_path / "worker.log"))
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "worker.log").stat().st_mode) == 0o600


def test_2b_regeneration_needs_the_gstin_granted_not_only_the_role(db_file):
    add_business("27AAACW1234K1ZD")
    add_business("29AAACW1234K1Z9")
    auth.create_user("root@example.in", "a long enough password 1", "admin")
    ana = auth.create_user("ana@example.in", "a long enough password 1", "analyst",
                           ["27AAACW1234K1ZD"])
    with pytest.raises(auth.PermissionDenied, match="not one of the businesses granted"):
        regenerate_from_dashboard(ana, "29AAACW1234K1Z9", "102025")
    assert rows("SELECT count(*) FROM job_runs")[0][0] == 0          # nothing was started


def test_status_on_a_busy_store_says_so_in_words(db_file):
    add_business("27AAACW1234K1ZD")
    with store_held_by_another_process(db_file):
        done = worker("status", IMS_DB_BUSY_TIMEOUT="1")
    assert done.returncode == 4 and "Traceback" not in done.stderr
    assert "The database is busy" in done.stderr


def test_businesses_add_refuses_a_huge_name_and_a_lower_case_rename(db_file):
    add_business("27AAACW1234K1ZD", "Western Agro")
    let_go_of_idle_files()
    huge = worker("businesses", "add", "29AAACW1234K1Z9", "--name", "x" * 5000)
    assert huge.returncode == 2 and "5,000 characters; at most 200" in huge.stderr
    lower = worker("businesses", "add", "27aaacw1234k1zd", "--name", "Someone Else")
    assert lower.returncode == 2 and "typed in lower case: nothing was changed" in lower.stderr
    assert rows("SELECT gstin, name FROM businesses") == [("27AAACW1234K1ZD", "Western Agro")]


def test_settings_set_refuses_a_system_folder_and_lists_every_key(db_file):
    proc = worker("settings", "set", "backup_folder", "/proc/self/backups")
    assert proc.returncode == 2 and "inside the system folder /proc" in proc.stderr
    unknown = worker("settings", "set", "no_such_key", "1")
    assert unknown.returncode == 2
    for key in ("tolerance", "backup_time", "backup_folder", "backup_keep_daily",
                "backup_keep_monthly"):
        assert key in unknown.stderr
    assert not Path("/proc/self/backups").exists()
