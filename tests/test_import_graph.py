"""The project's imports, read with `ast`: no import loops (lazy ones included) and every import
at the top of its module.

Every module of the project is walked (core/, sandbox/, scripts/, app/, app/pages/, bench/ and
worker.py; tests are left out). All import statements count, also those inside functions and
under `if __name__ == "__main__":`, so a loop that only closes at run time is still a loop.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "sandbox", "scripts", "app", "bench")
SCRIPTS = ("worker.py",)


def project_files() -> dict[str, Path]:
    """Module name -> file, for every module of the project."""
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    for name in SCRIPTS:
        files[Path(name).stem] = ROOT / name
    return files


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute name an `ImportFrom` names (relative imports resolved against `module`)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")[: -node.level]
    return ".".join(base + ([node.module] if node.module else []))


def _with_parents(name: str, modules: dict[str, Path], importer: str = "") -> list[str]:
    """`name` and the packages above it that are project modules (importing runs them all),
    but for the packages `importer` itself sits in (they run before it: a module of a package
    importing its sibling does not import the package's face)."""
    parts = name.split(".")
    names = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    inside = importer.split(".")
    own = {".".join(inside[:i]) for i in range(1, len(inside))}
    return [n for n in names if n in modules and n not in own]


def imported(module: str, tree: ast.Module, modules: dict[str, Path]) -> set[str]:
    """Project modules that `module` imports anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_with_parents(alias.name, modules, module))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            found.update(_with_parents(base, modules, module))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_files()
    return {name: imported(name, ast.parse(path.read_text(), str(path)), modules)
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, targets = stack[-1]
            for target in targets:
                if target in on_path:
                    return path[path.index(target):] + [target]
                if target not in done:
                    stack.append((target, iter(sorted(graph[target]))))
                    path.append(target)
                    on_path.add(target)
                    break
            else:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
    return None


def _is_main_guard(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def nested_imports(tree: ast.Module) -> list[int]:
    """Line numbers of imports that are not at the top of the module: inside a function or a
    class, or under `if __name__ == "__main__":` (a module-level `try:` or `if` is fine)."""
    lines: list[int] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                if nested:
                    lines.append(child.lineno)
                continue
            inner = nested or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            inner = inner or _is_main_guard(child)
            visit(child, inner)

    visit(tree, False)
    return lines


def test_the_walk_sees_every_part_of_the_project():
    graph = import_graph()
    for name in ("core.reco", "core.auth", "sandbox.__main__", "scripts.demo_setup",
                 "app.main", "app.pages.ims_invoices", "worker"):
        assert name in graph
    assert "core.reco.keys" in graph["core.reco.passes"]


def test_the_cycle_finder_finds_a_lazy_loop_and_names_it():
    source = "import core.b\n"
    lazy = "def main():\n    from core import a\n"
    modules = {"core": Path(), "core.a": Path(), "core.b": Path()}
    graph = {"core": set(),
             "core.a": imported("core.a", ast.parse(source), modules),
             "core.b": imported("core.b", ast.parse(lazy), modules)}
    assert find_cycle(graph) == ["core.a", "core.b", "core.a"]
    assert nested_imports(ast.parse(lazy)) == [2]
    guarded = 'import os\nif __name__ == "__main__":\n    import sys\n'
    assert nested_imports(ast.parse(guarded)) == [3]


def test_no_import_loops():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import loop: " + " -> ".join(cycle or [])


def test_imports_are_at_the_top_of_every_module():
    misplaced = {}
    for path in project_files().values():
        lines = nested_imports(ast.parse(path.read_text(), str(path)))
        if lines:
            misplaced[str(path.relative_to(ROOT))] = lines
    assert not misplaced, f"imports inside functions or __main__ blocks: {misplaced}"


# The layers of the house, lowest first (docs/architecture.md, "Layout"): a module may import
# its own package and packages of lower layers, never one of its own layer or above. The
# vocabulary is core's top-level modules; the command line is core/cli.py and its aliases.
LAYERS = (
    ("vocabulary",), ("store",), ("jobs",), ("business",), ("calendar",), ("auth", "portal"),
    ("mail", "purchase", "gstr2b"), ("reco",), ("ims",), ("month_close", "suppliers"),
    ("backup", "digest"), ("schedule",),
    ("command line",), ("app", "worker", "scripts"), ("bench",),
)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
COMMAND_LINE = {"core.cli", "core.__main__", "core.db", "core.itc_summary"}


def part_of(module: str) -> str:
    """The part of the house a module belongs to (its package in core/, else its folder)."""
    parts = module.split(".")
    if parts[0] != "core":
        return parts[0]
    if module in COMMAND_LINE:
        return "command line"
    if len(parts) > 1 and parts[1] in RANK and (ROOT / "core" / parts[1]).is_dir():
        return parts[1]
    return "vocabulary"


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        if module.split(".")[0] not in RANK and part_of(module) not in RANK:
            continue                                    # the sandbox stands apart
        for target in targets - {"core"}:
            if target.split(".")[0] == "sandbox":
                if module.split(".")[0] in ("core", "app", "worker"):
                    found.append(f"{module} -> {target} (the product never imports the sandbox)")
                continue
            if target.split(".")[0] not in ("core", "app", "scripts", "bench", "worker"):
                continue
            here, there = part_of(module), part_of(target)
            if here != there and RANK[there] >= RANK[here]:
                found.append(f"{module} ({here}) -> {target} ({there})")
    return sorted(found)


def test_every_package_of_core_has_a_layer():
    packages = {p.name for p in (ROOT / "core").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(RANK), packages - set(RANK)


def test_the_layer_check_names_an_import_from_above():
    graph = {"core.store.database": {"core.backup.cli"}, "core.backup.cli": {"core.store"},
             "core.portal.gsp": {"sandbox.demo"}}
    assert layer_violations(graph) == [
        "core.portal.gsp -> sandbox.demo (the product never imports the sandbox)",
        "core.store.database (store) -> core.backup.cli (backup)"]


def test_no_package_imports_one_above_it():
    assert layer_violations(import_graph()) == []
