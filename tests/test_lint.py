"""`ruff check` with the repository's configuration (pyproject.toml) finds nothing."""
from __future__ import annotations

import ast
import subprocess
import sys

from tests.fixtures import ROOT


def test_ruff_check_is_clean():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# A Python function inside a Polars expression runs on Polars' thread pool and waits there for
# the GIL, while another session's Polars call may hold the GIL waiting for that pool: the app
# froze for good (issue 29). Words and amounts are made in Python after the frame is
# materialised (core.labels.each) or with Polars' own expressions.
CALLBACKS = {"map_elements", "map_batches", "map_groups", "map_rows", "rolling_map", "apply"}


def callbacks_in(source: str) -> list[tuple[int, str]]:
    """(line, name) of every `.map_elements`, `.map_batches`, ... `.apply` in `source`."""
    return sorted((node.lineno, node.attr) for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Attribute) and node.attr in CALLBACKS)


def test_no_python_callback_runs_inside_polars():
    found = [f"{path.relative_to(ROOT)}:{line}: .{name}"
             for folder in ("core", "app") for path in sorted((ROOT / folder).rglob("*.py"))
             for line, name in callbacks_in(path.read_text(encoding="utf-8"))]
    assert not found, ("a Python function inside a Polars expression can freeze the app "
                       "(issue 29); use Polars expressions or core.labels.each:\n"
                       + "\n".join(found))


def test_the_callback_check_finds_them():
    source = ('frame.with_columns(pl.col("a").map_elements(str))\n'
              'pl.col("b").map_batches(f)\nseries.apply(f)\n"no .map_elements( in text"\n')
    assert callbacks_in(source) == [(1, "map_elements"), (2, "map_batches"), (3, "apply")]
