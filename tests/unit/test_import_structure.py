"""The code's shape: no import cycle among app/ modules, and the light modules stay light.

A deploy check or a tool imports app.environment without paying for Celery, kombu or the bot; the
Celery app does not pull in the bot's tasks when it is loaded (the delivery consumer is registered by name).
Each "what does importing X load" check runs in a fresh interpreter, so nothing this test run imported
earlier can hide a dependency.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(APP.rglob("*.py"))}


def _imports(tree: ast.Module, module: str, is_package: bool, known: set[str], deferred: bool) -> set[str]:
    """app modules this module imports while it is being imported; with `deferred`, also those its
    functions import when they run."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if not deferred and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            names = []
        for name in names:
            # importing a.b.c imports a and a.b first, unless this module is inside them (then they are
            # already loaded, or loading: a package's __init__ may import its own submodules)
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                inside = module.startswith(candidate + ".")
                if candidate in known and candidate != module and (i == len(parts) or not inside):
                    found.add(candidate)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(deferred: bool = False) -> dict[str, set[str]]:
    modules = app_modules()
    known = set(modules)
    return {name: _imports(ast.parse(path.read_text(), str(path)), name, path.name == "__init__.py", known, deferred)
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("deferred", [False, True], ids=["at-import", "with-imports-inside-functions"])
def test_no_import_cycle_among_app_modules(deferred):
    graph = import_graph(deferred)
    assert "app.queueing.celery_app" in graph and graph["app.settings"] >= {"app.environment", "app.queueing.layout"}
    assert cycles(graph) == []


def loaded_by(statement: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter has loaded after `statement`."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "app.settings"}
    script = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("statement, must_not_load", [
    ("import app", {"celery", "kombu", "django", "app.environment"}),
    ("import app.environment", {"celery", "kombu", "amqp", "sqlalchemy", "app.bot", "app.queueing"}),
    ("import app.queueing.layout", {"celery", "sqlalchemy", "app.bot", "app.environment"}),
    ("import app.settings", {"celery", "sqlalchemy", "app.bot", "app.queueing.celery_app"}),
    ("import app.celery", {"app.bot", "app.bot.tasks", "app.queueing.deliveries", "sqlalchemy"}),
])
def test_importing_a_light_module_loads_nothing_heavy(statement, must_not_load):
    assert loaded_by(statement) & must_not_load == set()


def test_every_app_module_imports_once_django_is_set_up():
    names = sorted(name for name in app_modules() if name != "app.wsgi")  # wsgi builds the application itself
    loaded = loaded_by("import django, importlib\ndjango.setup()\n"
                       f"for name in {names!r}:\n    importlib.import_module(name)")
    assert set(names) <= loaded
