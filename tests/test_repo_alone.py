"""The repository stands alone: no tracked file points outside it.

Someone who clones the project has only the project. So no file may name a folder beside the
repository, a specification kept elsewhere, or a path of the machine it was written on; the
rules the code follows are in docs/, the sample files in tests/data/samples/.
"""
from __future__ import annotations

import re
import subprocess

import pytest

from tests.fixtures import ROOT

# Built from pieces, so that this file does not match its own patterns.
PARENT = ".." + "/"
FORBIDDEN = {
    "a folder beside the repository": re.compile(re.escape(PARENT + "shared")),
    "the specification folder": re.compile(r"\bshared/(spec|samples)\b"),
    "the design document": re.compile(r"\bdesign" + r"\.md\b"),
    "a specification page": re.compile(r"\bspec" + r"/[a-z-]+\.md\b"),
    "a specification page by name": re.compile(r"\b(contracts|domain|gstn-api)" + r"\.md\b"),
    "an absolute path of this machine": re.compile(r"(?<![\w.])/(work|root|home)" + "/"),
}


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode()
    names = [n for n in listed.split("\0") if n and (ROOT / n).is_file()]
    return [n for n in names if b"\0" not in (ROOT / n).read_bytes()[:8192]]


def outside_references(name: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        what = next((w for w, p in FORBIDDEN.items() if p.search(line)), None)
        if what:
            found.append(f"{name}:{number}: {what}: {line.strip()[:120]}")
    return found


def test_git_lists_the_project_files():
    names = tracked_text_files()
    assert "README.md" in names and "tests/test_repo_alone.py" in names


@pytest.mark.parametrize("line", ["see " + PARENT + "shared" + "/samples for the files",
                                  "rules: spec" + "/reconciliation.md",
                                  "as design" + ".md says", "path /ho" + "me/me/x.csv",
                                  "(contracts" + ".md)",
                                  "from /wo" + "rk/main/core"])
def test_each_pattern_catches_what_it_is_for(line):
    assert any(p.search(line) for p in FORBIDDEN.values()), line


@pytest.mark.parametrize("line", ["docs/reconciliation.md", "a shared lock", "/usr/bin/chromium",
                                  "tests/data/samples/README.md", "https://example.com/home/x"])
def test_the_patterns_leave_ordinary_text_alone(line):
    assert not any(p.search(line) for p in FORBIDDEN.values()), line


def test_no_tracked_file_refers_outside_the_repository():
    found = [hit for name in tracked_text_files() for hit in outside_references(name)]
    assert not found, "\n".join(found)
