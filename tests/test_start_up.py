"""What a command loads at start-up: the team mode's driver (psycopg, 0.4 s to import) only
when the store is a PostgreSQL server (IMS_DB_URL=postgresql://...)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow   # starts a Python process

ROOT = Path(__file__).resolve().parent.parent
PROBE = ("import sys, core.cli, core.reco.cli; from core.store import connect\n"
         "with connect() as con: con.execute('SELECT 1')\n"
         "print('psycopg' in sys.modules)")


def test_a_duckdb_store_never_imports_the_postgresql_driver(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IMS_DB_PATH": str(tmp_path / "s.duckdb")}
    env.pop("IMS_DB_URL", None)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
