"""Backups are never code (issue 29.2, docs/backups.md "Signed backups"): the schema of a
restored store comes from the project's own migrations, never from the backup; a manifest
carries an HMAC signature with a key kept beside the store (not in the backup folder), so a
backup forged the way an attacker would (a password hash swapped, SQL appended, the manifest
re-sealed with a plain SHA-256) is refused in words, by `verify` and by `restore`; a restored
store is readable by its owner only.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core.backup.restore import restore_backup
from core.backup.signing import backup_key, key_path, sign
from core.backup.snapshot import (
    BackupError,
    checksum_sql,
    manifest_digest,
    parquet_source,
    sha256_of,
    take_backup,
)
from core.store.database import connect, let_go_of_idle_files
from tests.fixtures import ROOT

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def backup_of(folder: Path) -> Path:
    done = take_backup(lambda: connect(read_only=True), folder,
                       dt.datetime(2030, 10, 5, 2, 0, tzinfo=IST))
    let_go_of_idle_files()
    return Path(done["path"])


def cli(*args: str, db: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.db", *args], cwd=ROOT,
                          env={**os.environ, "IMS_DB_PATH": db, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


def manifest(backup: Path) -> dict:
    return json.loads((backup / "manifest.json").read_text())


def write_manifest(backup: Path, m: dict) -> None:
    (backup / "manifest.json").write_text(json.dumps(m))


def reseal_with_sha256(m: dict) -> dict:
    """What an attacker can do without the key: a fresh plain SHA-256 of the manifest."""
    m["manifest_sha256"] = manifest_digest(m)
    return m


def swap_admin_hash(backup: Path, new_hash: str) -> None:
    """Rewrite users.parquet with another password hash and make the manifest agree."""
    f = backup / "users.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE u AS SELECT * FROM {parquet_source(f)}")
    con.execute("UPDATE u SET password_hash = ?", [new_hash])
    f.unlink()
    con.execute(f"COPY u TO '{f}' (FORMAT parquet)")
    rows, checksum = con.execute(checksum_sql(parquet_source(f))).fetchall()[0]
    con.close()
    m = manifest(backup)
    t = next(t for t in m["tables"] if t["name"] == "users")
    t.update(rows=rows, checksum=checksum, bytes=f.stat().st_size, sha256=sha256_of(f))
    write_manifest(backup, reseal_with_sha256(m))


@pytest.fixture
def with_admin(demo_store):
    with connect() as con:
        con.execute("INSERT INTO users (email, password_hash, role, created_at, updated_at) "
                    "VALUES ('admin@x.in', '$argon2id$real', 'admin', now(), now())")
    let_go_of_idle_files()
    return demo_store


def test_a_backup_with_a_swapped_password_hash_is_refused_by_verify_and_restore(
        with_admin, tmp_path):
    backup = backup_of(tmp_path / "backups")
    swap_admin_hash(backup, "$argon2id$attacker")
    checked = cli("verify", "--from", str(backup), db=with_admin)
    assert checked.returncode == 1 and "backup ok" not in checked.stdout
    assert "signature does not match the backup key" in checked.stderr
    assert "Traceback" not in checked.stderr
    restored = cli("restore", "--from", str(backup), "--to", str(tmp_path / "new.duckdb"),
                   db=with_admin)
    assert restored.returncode == 1 and "every count and checksum matched" not in restored.stdout
    assert "Nothing was restored" in restored.stderr
    assert not (tmp_path / "new.duckdb").exists()


def test_sql_appended_to_a_resealed_manifest_is_refused_and_never_run(with_admin, tmp_path):
    backup = backup_of(tmp_path / "backups")
    written = tmp_path / "written-by-the-backup.csv"
    m = manifest(backup)
    m["tables"][0]["sql"] = f"CREATE TABLE x (a INT); COPY (SELECT 42) TO '{written}'"
    m["views"] = [f"COPY (SELECT 42) TO '{written}'"]
    write_manifest(backup, reseal_with_sha256(m))
    checked = cli("verify", "--from", str(backup), db=with_admin)
    assert checked.returncode == 1 and "backup ok" not in checked.stdout
    assert "was changed after the backup was written" in checked.stderr
    assert not written.exists()


def test_no_statement_from_a_backup_is_ever_executed(with_admin, tmp_path):
    """Even a manifest signed with the right key (as if the key had leaked, or an older version
    had written statements into it) has every statement ignored: the restore builds the schema
    from the migrations and reads only names and numbers from the manifest."""
    backup = backup_of(tmp_path / "backups")
    written = tmp_path / "written-by-the-backup.csv"
    attack = f"COPY (SELECT 42) TO '{written}'"
    m = manifest(backup)
    for t in m["tables"]:
        t["sql"] = f'CREATE TABLE "{t["name"]}" (a INT); {attack}'
    for q in m["sequences"]:
        q["sql"] = f"CREATE SEQUENCE {q['name']}; {attack}"
    m["indexes"], m["views"] = [attack], [f"CREATE VIEW v AS SELECT 1; {attack}"]
    write_manifest(backup, sign(m, backup_key()[0]))
    done = restore_backup(backup, tmp_path / "new.duckdb")
    assert not written.exists()
    assert done["rows"] == sum(t["rows"] for t in m["tables"])
    con = duckdb.connect(str(tmp_path / "new.duckdb"), read_only=True)
    try:   # the migrations' schema: the real view is there, the backup's "v" is not
        views = {r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        admin = con.execute("SELECT password_hash FROM users").fetchall()
    finally:
        con.close()
    assert "current_purchase_docs" in views and "v" not in views
    assert admin == [("$argon2id$real",)]


def test_a_table_the_migrations_do_not_make_is_refused(with_admin, tmp_path):
    backup = backup_of(tmp_path / "backups")
    m = manifest(backup)
    extra = dict(m["tables"][0], name="planted", file="planted.parquet")
    (backup / "planted.parquet").write_bytes((backup / m["tables"][0]["file"]).read_bytes())
    m["tables"].append(extra)
    write_manifest(backup, sign(m, backup_key()[0]))
    with pytest.raises(BackupError, match="not made by this program's migrations: planted"):
        restore_backup(backup, tmp_path / "new.duckdb")
    assert not (tmp_path / "new.duckdb").exists()


def test_the_key_is_kept_apart_and_another_key_is_refused_until_the_right_one_is_back(
        with_admin, tmp_path):
    backup = backup_of(tmp_path / "backups")
    key = key_path()
    assert key.parent == Path(with_admin).resolve().parent
    assert not key.is_relative_to(tmp_path / "backups")
    assert key.stat().st_mode & 0o777 == 0o600
    assert "signature" in manifest(backup) and "sql" not in json.dumps(manifest(backup))
    other = cli("verify", "--from", str(backup), db=with_admin, IMS_BACKUP_KEY="k" * 40)
    assert other.returncode == 1 and "not written by this installation" in other.stderr
    moved = key.with_name("kept-elsewhere.key")
    key.rename(moved)
    gone = cli("verify", "--from", str(backup), db=with_admin)
    assert gone.returncode == 1 and "There is no backup key at" in gone.stderr
    assert not key.exists()                       # a check never makes a new key
    back = cli("verify", "--from", str(backup), db=with_admin,
               IMS_BACKUP_KEY=moved.read_text().strip())
    assert back.returncode == 0 and "backup ok" in back.stdout, back.stderr


def test_a_restored_store_is_readable_by_its_owner_only(with_admin, tmp_path):
    backup = backup_of(tmp_path / "backups")
    done = cli("restore", "--from", str(backup), "--to", str(tmp_path / "new.duckdb"),
               db=with_admin)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new.duckdb").stat().st_mode & 0o777 == 0o600


def test_an_unsigned_backup_of_the_older_format_is_refused_in_words(with_admin, tmp_path):
    backup = backup_of(tmp_path / "backups")
    m = manifest(backup)
    m["format"] = 1
    del m["signature"]
    write_manifest(backup, reseal_with_sha256(m))
    with pytest.raises(BackupError, match="unsigned backup of an older version"):
        restore_backup(backup, tmp_path / "new.duckdb")
