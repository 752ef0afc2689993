"""Each deployable declares only what it needs, and needs only what it declares.

The worker (and so the sandbox image built from it) must not carry a database driver, an ORM, a web framework
or password hashing. The proof runs every module of a package in a fresh interpreter (`python -I`) whose
importer refuses any module that does not belong to the standard library or to the distributions the package
declares (followed transitively, extras included), so an undeclared import fails here even when it happens to
be installed on this machine.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.unit.layout.packages import PACKAGES, REPO

FORBIDDEN_IN_WORKER = {"sqlalchemy", "alembic", "psycopg", "psycopg-binary", "fastapi", "starlette", "uvicorn",
                       "jinja2", "argon2-cffi", "pyjwt", "python-multipart"}

# Runs in the fresh interpreter: the closure of declared requirements, then an importer guarding it.
PROBE = textwrap.dedent("""
    import importlib, importlib.abc, importlib.metadata as md, json, pkgutil, re, sys
    from packaging.requirements import Requirement
    dist_name = sys.argv[1]
    def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
    closure, todo = set(), [(dist_name, frozenset())]
    while todo:
        name, extras = todo.pop()
        key = (norm(name), extras)
        if key in closure: continue
        closure.add(key)
        for line in md.distribution(name).requires or []:
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (extras or {""})): continue
            todo.append((req.name, frozenset(req.extras)))
    allowed_dists = {name for name, _ in closure}
    owners = {top: {norm(d) for d in dists} for top, dists in md.packages_distributions().items()}
    class Guard(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            top = fullname.split(".")[0]
            frame = sys._getframe(1)
            while frame and (frame.f_code.co_filename.startswith("<frozen") or frame.f_globals.get("__name__") == "importlib"):
                frame = frame.f_back
            importer = frame.f_globals.get("__name__", "") if frame else ""
            if not importer.startswith("gradeflow_"): return None  # only our own imports are policed
            if top in sys.stdlib_module_names or top.startswith("_") or top not in owners: return None
            if not owners[top] & allowed_dists:
                raise ImportError(f"{fullname} belongs to {sorted(owners[top])}, which {dist_name} does not declare")
            return None
    sys.meta_path.insert(0, Guard())
    package = importlib.import_module(sys.argv[2])
    modules = [package.__name__] + [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                                     if ".migrations." not in m.name + "."]
    for name in modules: importlib.import_module(name)
    print(json.dumps({"dists": sorted(allowed_dists), "modules": len(modules)}))
""")


def probe(dist: str, package: str) -> dict:
    run = subprocess.run([sys.executable, "-I", "-c", PROBE, dist, package], capture_output=True, text=True,
                         cwd="/", timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_module_imports_with_only_the_declared_dependencies(package):
    found = probe(package.replace("_", "-"), package)
    assert found["modules"] > 1


def test_the_worker_carries_no_database_web_or_password_stack():
    found = probe("gradeflow-worker", "gradeflow_worker")
    assert not set(found["dists"]) & FORBIDDEN_IN_WORKER
    assert {"celery", "jupyter-client", "gradeflow-protocol", "gradeflow-graders"} <= set(found["dists"])


def test_the_guard_refuses_an_undeclared_import():
    """The check itself: the graders toolkit does not declare SQLAlchemy, so importing it there must fail."""
    code = PROBE.replace("for name in modules: importlib.import_module(name)",
                        "exec('import sqlalchemy', {'__name__': 'gradeflow_graders.sneaky'})")
    run = subprocess.run([sys.executable, "-I", "-c", code, "gradeflow-graders", "gradeflow_graders"],
                         capture_output=True, text=True, cwd="/", timeout=120)
    assert run.returncode != 0 and "does not declare" in run.stderr


def test_each_folder_is_its_own_distribution():
    for folder in PACKAGES.values():
        assert (REPO / folder / "pyproject.toml").is_file(), folder
        assert (REPO / folder / "README.md").is_file(), folder
