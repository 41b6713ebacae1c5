"""The one command line, `python -m core`, run as an operator would (real subprocesses): its
commands are the packages' own, and the older entry points are aliases of them."""
from __future__ import annotations

import subprocess
import sys

from tests.fixtures import ROOT, SAMPLES

PR = str(SAMPLES / "purchase_register_sample.csv")
IMS = str(SAMPLES / "ims_getinv_sample.json")


def run(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], cwd=ROOT, check=False, capture_output=True,
                          text=True, timeout=120, env=env)


def test_reco_through_the_one_command_line_writes_what_the_alias_writes(tmp_path):
    one, alias = tmp_path / "one.csv", tmp_path / "alias.csv"
    first = run("-m", "core", "reco", "--purchase", PR, "--portal", IMS, "--out", str(one))
    second = run("-m", "core.reco", "--purchase", PR, "--portal", IMS, "--out", str(alias))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert one.read_bytes() == alias.read_bytes()
    assert len(one.read_bytes().splitlines()) > 5


def test_a_bad_file_exits_2_with_its_name_through_either_form(tmp_path):
    missing = str(tmp_path / "nope.csv")
    for argv in (("-m", "core", "reco"), ("-m", "core.reco")):
        done = run(*argv, "--purchase", missing, "--portal", IMS, "--out", str(tmp_path / "o.csv"))
        assert done.returncode == 2
        assert "nope.csv" in done.stderr and "Traceback" not in done.stderr


def test_help_names_the_command_as_typed():
    assert "usage: python -m core store" in run("-m", "core", "store", "--help").stdout
    assert "usage: python -m core.db" in run("-m", "core.db", "--help").stdout
    assert "usage: worker.py" in run("worker.py", "--help").stdout


def test_no_command_shows_the_commands_and_exits_2():
    done = run("-m", "core")
    assert done.returncode == 2
    for command in ("fetch", "sync", "businesses", "reco", "purchase", "users", "store"):
        assert command in done.stdout


def test_the_worker_offers_the_workers_commands_only():
    done = run("worker.py", "reco", "--help")
    assert done.returncode == 2 and "invalid choice" in done.stderr
