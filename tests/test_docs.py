"""The README and the code agree (in the manner of sqlite-utils' test_docs.py).

Every command line tool, each of its subcommands, and every environment variable the code
reads are in README.md; and every command the README names exists. The commands are read
from each tool's own `--help` (argparse), so the test follows the code wherever it moves.
"""
from __future__ import annotations

import functools
import json
import re
import subprocess
import sys

import pytest

from tests.fixtures import ROOT

README = (ROOT / "README.md").read_text()
CODE_DIRS = ["core", "app", "sandbox", "scripts"]
WORD = re.compile(r"[a-z][a-z0-9-]*$")
ENV_READ = re.compile(r"""(?:environ\.get|environ\.setdefault|getenv)\(\s*["']([A-Z][A-Z0-9_]+)"""
                      r"""|environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]""")
OTHER_TOOLS = {"pytest", "streamlit", "pip", "ruff", "playwright"}   # not ours: not checked


def code_files() -> list:
    files = [ROOT / "worker.py"]
    for folder in CODE_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


# One Python process answers every `--help` (each tool run as `python ARGV` would run it:
# runpy as `__main__`, sys.argv as given, from the repository): the tools' imports are paid
# once, not once per command (the test took 35 s with one process per command).
HELP_RUNNER = r"""
import contextlib, io, json, runpy, sys, traceback
for request in sys.stdin:
    argv = json.loads(request)
    out = io.StringIO()
    status = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            if argv[0] == "-m":
                sys.argv = [argv[1], *argv[2:]]
                runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            else:
                sys.argv = list(argv)
                runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as done:
            status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:
            traceback.print_exc(file=out)
            status = 1
    print(json.dumps([status, out.getvalue()]), flush=True)
"""


@functools.cache
def help_runner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HELP_RUNNER], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


@pytest.fixture(scope="module", autouse=True)
def _stop_help_runner():
    yield
    if help_runner.cache_info().currsize:
        runner = help_runner()
        runner.stdin.close()
        runner.wait(30)
        help_runner.cache_clear()


@functools.cache
def help_text(*argv: str) -> tuple[int, str]:
    """`python ARGV --help`, run from the repository: (exit status, output)."""
    runner = help_runner()
    runner.stdin.write(json.dumps([*argv, "--help"]) + "\n")
    runner.stdin.flush()
    answer = runner.stdout.readline()
    assert answer, f"the help runner stopped while answering `python {' '.join(argv)} --help`"
    status, text = json.loads(answer)
    return status, text


def usage(text: str) -> str:
    """The usage block of a help text (up to the first blank line), on one line."""
    block = text.split("\n\n", 1)[0]
    return " ".join(block.split())


def subcommands(text: str) -> list[str]:
    found = re.search(r"\{([a-z0-9,-]+)\} \.\.\.", usage(text))   # argparse's subparsers
    return found.group(1).split(",") if found else []


def entry_points() -> list[tuple[str, ...]]:
    """How each tool is started: worker.py, and `-m package.module` for every module with a
    `__main__` hook (a package's `__main__.py` is `-m package`)."""
    points = [("worker.py",)]
    for path in code_files()[1:]:
        if path.parts[-2] == "scripts" or 'if __name__ == "__main__"' not in path.read_text():
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        points.append(("-m", module.removesuffix(".__main__")))
    return points


def prog(argv: tuple[str, ...]) -> str:
    """The command as its help names it, e.g. `python -m core.reco` (also for core.reco.cli)."""
    status, text = help_text(*argv)
    assert status == 0, text
    name = re.match(r"usage: (\S+(?: -m \S+)?)", usage(text)).group(1)
    if name.startswith("python"):
        return name
    return f"python {' '.join(argv)}" if argv[0] == "-m" else f"python {name}"


def split_alternatives(text: str) -> list[str]:
    """`a X | b [--y p|q] | c` -> ["a X", "b [--y p|q]", "c"]: bars inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, text[start:]]]


def readme_mentions(command: str) -> list[str]:
    """What follows `command` in each code span or code line of the README that names it."""
    spans = re.findall(r"`([^`\n]+)`", README)
    spans += [line for line in README.splitlines() if not line.lstrip().startswith("|")]
    found = []
    for span in spans:
        for m in re.finditer(re.escape(command) + r"(?![\w.])", span):
            found.append(span[m.end():].split("#")[0].split("`")[0].strip())
    return found


def exists(argv: tuple[str, ...], path: tuple[str, ...]) -> bool:
    status, text = help_text(*argv, *path)
    return status == 0 and f" {' '.join(path)} " in f"{usage(text)} "


def documented(command: str, argv: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Subcommands (and sub-subcommands) the README names after `command`.

    `worker.py settings show | set KEY VALUE` names (settings, show) and (settings, set);
    `worker.py once | fetch [--gstin G]` names (once,) and (fetch,).
    """
    names = set()
    for mention in readme_mentions(command):
        parent = None
        for i, part in enumerate(split_alternatives(mention)):
            words = [w for w in part.split() if WORD.match(w)]
            if not words or not part.startswith(words[0]):
                continue
            if i == 0 or parent is None:
                first = words[0]
                nested = subcommands(help_text(*argv, first)[1]) if exists(argv, (first,)) else []
                names.add((first,))
                if nested and len(words) > 1 and part.split()[1] == words[1]:
                    names.add((first, words[1]))
                parent = first if nested else None
            else:
                names.add((parent, words[0]))
    return names


POINTS = entry_points()


def test_the_tools_are_found():
    progs = {prog(p) for p in POINTS}
    assert {"python worker.py", "python -m sandbox", "python -m core.reco",
            "python -m core.purchase", "python -m core.auth"} <= progs


@pytest.mark.parametrize("argv", POINTS, ids=" ".join)
def test_every_tool_and_subcommand_is_in_the_readme(argv):
    command = prog(argv)
    assert readme_mentions(command), f"README.md does not mention `{command}`"
    named = documented(command, argv)
    for sub in subcommands(help_text(*argv)[1]):
        assert (sub,) in named, f"README.md does not document `{command} {sub}`"
        for nested in subcommands(help_text(*argv, sub)[1]):
            assert (sub, nested) in named, f"README.md lacks `{command} {sub} {nested}`"


@pytest.mark.parametrize("argv", POINTS, ids=" ".join)
def test_every_command_the_readme_names_exists(argv):
    command = prog(argv)
    for path in sorted(documented(command, argv)):
        named = f"{command} {' '.join(path)}"
        assert exists(argv, path), f"README.md names `{named}`; its --help does not list it"


def test_every_python_command_in_the_readme_is_a_tool():
    progs = {prog(p) for p in POINTS}
    commands = re.finditer(r"python (?:-m ([a-z_.]+)|[a-z_]+\.py)", README)
    named = {m.group(0).rstrip(".") for m in commands if m.group(1) not in OTHER_TOOLS}
    assert named <= progs, f"README.md names commands that do not exist: {named - progs}"


def test_every_environment_variable_is_in_the_readme():
    read = {a or b for path in code_files() for a, b in ENV_READ.findall(path.read_text())}
    assert {"IMS_DB_PATH", "GSTN_API_URL", "IMS_TZ"} <= read
    missing = sorted(name for name in read if f"`{name}`" not in README)
    assert not missing, f"README.md does not document {missing}"


def test_the_readme_keeps_no_hand_counted_figures_of_the_tests():
    assert not re.search(r"\b\d[\d,]* tests\b", README)


def test_the_environment_has_one_table_the_readmes():
    row = re.compile(r"^\|\s*`(?:IMS|GSTN)_[A-Z_]+`", re.MULTILINE)
    assert row.search(README)
    others = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if row.search(p.read_text())]
    assert not others, f"a second environment table in {others}: keep the README's only"
