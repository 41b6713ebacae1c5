"""The store file read while it changes hands (issue 29.8).

In 1 of 2 runs of `bench/load.py` at 1,000,000 records a saving process got `IOException:
Could not read enough bytes from file ... attempted to read 262144 bytes from location
61353984`: it opened the file while it was shorter than its header said (another process
letting it go, its closing checkpoint still writing). Such an open is now retried within the
busy timeout, like a locked file; a file that stays short is refused in words.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.store.database import DatabaseBusy, connect, let_go_of_idle_files


def a_store(path: Path) -> bytes:
    with connect(str(path)) as con:
        con.execute("INSERT INTO action_log (actor, kind, note) SELECT 'bench', 'settings', "
                    "repeat('x', 200) FROM range(200000)")
    let_go_of_idle_files()
    return path.read_bytes()


def test_a_file_that_reads_short_for_a_moment_is_opened_once_whole(tmp_path):
    whole = a_store(tmp_path / "whole.duckdb")
    store = tmp_path / "ims.duckdb"
    half = len(whole) // 2
    store.write_bytes(whole[:half])                        # the other process still writing

    def write_the_rest() -> None:    # as a checkpoint does: the file grows, never cut to 0
        with open(store, "r+b") as f:
            f.seek(half)
            f.write(whole[half:])

    done = threading.Timer(0.8, write_the_rest)
    done.start()
    try:
        with connect(str(store), busy_timeout=20) as con:
            assert con.execute("SELECT count(*) FROM action_log").fetchall()[0][0] == 200000
    finally:
        done.join()
        let_go_of_idle_files()


def test_a_file_that_stays_short_is_refused_in_words(tmp_path):
    whole = a_store(tmp_path / "whole.duckdb")
    store = tmp_path / "ims.duckdb"
    store.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatabaseBusy, match="could not be read: it is shorter than its own"), \
            connect(str(store), busy_timeout=1):
        pass


@pytest.mark.slow     # starts a second Python: out of the fast loop
def test_a_second_process_stays_out_even_after_another_handle_of_the_file_is_closed(tmp_path):
    """DuckDB's lock on the file is a POSIX record lock: the process loses it when it closes
    any other handle of the file. The store's own lock (`<file>.held`, a flock) is not lost
    so: a second process still waits, then is refused in words, and writes nothing."""
    import os
    import subprocess
    import sys
    store = str(tmp_path / "ims.duckdb")
    other = ("import sys\nfrom core.store.database import DatabaseBusy, connect\n"
             "try:\n"
             "    with connect(sys.argv[1], busy_timeout=1.5) as con:\n"
             "        con.execute(\"INSERT INTO action_log (actor, kind) VALUES ('b', 'x')\")\n"
             "    print('opened')\n"
             "except DatabaseBusy as exc:\n"
             "    print('busy:', exc)\n")
    root = str(Path(__file__).resolve().parents[1])
    with connect(store) as con:
        con.execute("INSERT INTO action_log (actor, kind) VALUES ('a', 'x')")
        os.close(os.open(store, os.O_RDONLY))          # DuckDB's own lock is gone now
        said = subprocess.run([sys.executable, "-c", other, store], capture_output=True,
                              text=True, timeout=60, cwd=root, check=False,
                              env={**os.environ, "PYTHONPATH": root}).stdout
        assert said.startswith("busy: The database is busy"), said
        assert con.execute("SELECT count(*) FROM action_log WHERE actor = 'b'"
                           ).fetchall()[0][0] == 0
    let_go_of_idle_files()
