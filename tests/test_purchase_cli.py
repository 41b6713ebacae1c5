"""`python -m core.purchase` as a user runs it: exit codes and messages."""
from __future__ import annotations

import os
import subprocess
import sys

from core.store.database import connect
from tests.fixtures import COMPANY, ROOT, STANDARD_SAMPLE, TALLY_SAMPLE, line, write_csv


def run(*args, env_db: str) -> subprocess.CompletedProcess:

    env = {**os.environ, "IMS_DB_PATH": env_db}
    return subprocess.run([sys.executable, "-m", "core.purchase", *args], cwd=ROOT, env=env,
                          check=False, capture_output=True, text=True, timeout=120)


def doc_count(db_file) -> int:
    with connect(db_file, read_only=True) as con:
        return con.execute("SELECT count(*) FROM purchase_docs").fetchone()[0]


def test_validate_import_batches_rollback(store, tmp_path):
    ok = run("validate", str(TALLY_SAMPLE), "--template", "tally", "--company-gstin", COMPANY, env_db=store)
    assert ok.returncode == 0 and "8 documents, 0 errors" in ok.stdout
    done = run("import", str(STANDARD_SAMPLE), "--actor", "asha", env_db=store)
    assert done.returncode == 0 and "batch 1: 8 documents imported" in done.stdout
    again = run("import", str(STANDARD_SAMPLE), env_db=store)
    assert again.returncode == 2 and "already imported as batch 1" in again.stdout
    listed = run("batches", env_db=store)
    assert "purchase_register_sample.csv" in listed.stdout and "asha" in listed.stdout
    undo = run("rollback", "1", env_db=store)
    assert undo.returncode == 0 and "8 documents removed" in undo.stdout
    assert doc_count(store) == 0


def test_bad_file_exits_2_naming_file_line_and_field(store, tmp_path):
    path = write_csv(tmp_path, "pr.csv", [line(), line(doc_no="X", stin="27AABCU9603R1ZM")])
    out_csv = tmp_path / "problems.csv"
    result = run("import", str(path), "--problems-csv", str(out_csv), env_db=store)
    assert result.returncode == 2
    assert "pr.csv, line 3 of the file, field supplier_gstin: error: GSTIN '27AABCU9603R1ZM' has check character M" \
        in result.stdout
    assert "nothing imported" in result.stdout and out_csv.exists() and doc_count(store) == 0
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = run("validate", str(empty), env_db=store)
    assert result.returncode == 2 and "empty.csv: the file is empty" in result.stderr


def test_rollback_of_unknown_batch(store):
    result = run("rollback", "42", env_db=store)
    assert result.returncode == 2 and "there is no purchase batch 42" in result.stderr
