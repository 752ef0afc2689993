"""Import direction between the deployables, read from the source (every import, also inside functions).

protocol knows nobody; core knows protocol; graders know protocol; the worker knows protocol and graders,
never the API, the database layer or the web pages; the API knows protocol and core, never the worker; the
CLI (the one-machine composition) may use them all. Core, protocol and graders know no web framework and no
Celery; the harness modules of the worker know no Celery either.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.layout.packages import PACKAGES, package_dir

FRAMEWORKS = {"fastapi", "starlette", "celery", "kombu"}
DATABASE = {"sqlalchemy", "alembic", "psycopg", "psycopg2", "argon2", "jwt"}
WEB = {"fastapi", "starlette", "jinja2", "uvicorn", "multipart", "nh3", "markdown_it"}
OURS = set(PACKAGES)

# package -> (our packages it may import, third-party top-level names it must not import)
RULES = {
    "gradeflow_protocol": (set(), FRAMEWORKS | DATABASE | WEB),
    "gradeflow_core": ({"gradeflow_protocol"}, FRAMEWORKS | WEB),
    "gradeflow_graders": ({"gradeflow_protocol"}, FRAMEWORKS | DATABASE | WEB),
    "gradeflow_worker": ({"gradeflow_protocol", "gradeflow_graders"}, DATABASE | WEB),
    "gradeflow_api": ({"gradeflow_protocol", "gradeflow_core"}, set()),
    "gradeflow_cli": (OURS - {"gradeflow_cli"}, set()),
}
HARNESS = ("harness", "kernel", "student", "codec", "service", "client", "sandbox")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def violations(package: str) -> list[str]:
    allowed, banned = RULES[package]
    found = []
    for path in package_dir(package).rglob("*.py"):
        names = imported_modules(path)
        for name in sorted((names & OURS) - allowed - {package}):
            found.append(f"{path.name} imports {name}")
        for name in sorted(names & banned):
            found.append(f"{path.name} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_each_package_imports_only_what_its_layer_allows(package):
    assert violations(package) == []


def test_the_rules_would_catch_a_worker_module_importing_the_database(tmp_path, monkeypatch):
    """The check itself: a worker module that imports SQLAlchemy or the API is reported."""
    fake = tmp_path / "gradeflow_worker"
    fake.mkdir()
    (fake / "sneaky.py").write_text("def f():\n    import sqlalchemy\n    from gradeflow_api.deps import SessionDep\n")
    monkeypatch.setattr("tests.unit.layout.test_imports.package_dir", lambda name: fake)
    assert violations("gradeflow_worker") == ["sneaky.py imports gradeflow_api", "sneaky.py imports sqlalchemy"]


def test_harness_modules_import_no_celery():
    root = package_dir("gradeflow_worker")
    for name in HARNESS:
        paths = list((root / name).rglob("*.py")) if (root / name).is_dir() else [root / f"{name}.py"]
        for path in paths:
            assert not imported_modules(path) & FRAMEWORKS, path


def test_the_api_app_does_not_mount_the_pages_itself():
    """One composition root (gradeflow_api.main) mounts the JSON API and the web pages side by side."""
    root = package_dir("gradeflow_api")
    assert "gradeflow_api.web" not in (root / "app.py").read_text()
    main = (root / "main.py").read_text()
    assert "create_api" in main and "install_pages" in main
