"""`./run.sh --help` prints the options without setting anything up (issue 24, item 8): in a
copy of the repository with no .venv it prints the usage, creates no .venv and installs
nothing."""
from __future__ import annotations

import shutil
import subprocess

from tests.fixtures import ROOT


def test_run_sh_help_installs_nothing(tmp_path):
    copy = tmp_path / "clone"
    copy.mkdir()
    shutil.copy(ROOT / "run.sh", copy / "run.sh")
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    done = subprocess.run(["bash", "run.sh", "--help"], cwd=copy, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: ./run.sh" in done.stdout and "--start-date" in done.stdout
    assert not (copy / ".venv").exists() and "installing" not in done.stdout
