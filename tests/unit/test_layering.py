"""The core knows no framework: FastAPI and Celery stay at the edges."""
import ast
from pathlib import Path

import gradeflow

ROOT = Path(gradeflow.__file__).parent
FRAMEWORKS = {"fastapi", "starlette", "celery", "kombu"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_sandbox_and_graders_import_no_framework():
    for package in ("core", "sandbox", "graders"):
        for path in (ROOT / package).rglob("*.py"):
            assert not imported_modules(path) & FRAMEWORKS, path


def test_harness_modules_import_no_celery():
    for name in ("harness", "kernel", "student", "codec", "service", "client"):
        assert not imported_modules(ROOT / "worker" / f"{name}.py") & FRAMEWORKS, name


def test_api_never_imports_the_worker():
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text()
        assert "gradeflow.worker" not in text, path
