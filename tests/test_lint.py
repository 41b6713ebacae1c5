"""`ruff check` with the repository's configuration (pyproject.toml) finds nothing."""
from __future__ import annotations

import subprocess
import sys

from tests.fixtures import ROOT


def test_ruff_check_is_clean():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
