"""What every importer shares: the report, notebooks as JSON, the assignment.toml and README it writes."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradeflow_graders.importers.environment import (
    BUILD_COMMAND,
    ResolveError,
    pinned_environment,
    pip_resolve,
    requirement_name,
)

# requirements a named environment already satisfies (see gradeflow_protocol.environments)
_ENVIRONMENT_PACKAGES = {
    "numpy": {"numpy"},
    "scientific": {"numpy", "scipy", "scikit-learn", "sklearn", "matplotlib"},
    "pytorch": {"numpy", "scipy", "scikit-learn", "sklearn", "matplotlib", "torch"},
}
_GIVEN = {"otter-grader", "nbgrader", "ipykernel", "ipython", "jupyter", "notebook", "pytest", "datascience-stub"}


class ImportProblem(ValueError):
    """The source cannot be imported at all; the message says why and what to do."""


@dataclass
class ImportReport:
    converted: list[str] = field(default_factory=list)
    not_converted: list[str] = field(default_factory=list)  # each: what, and why, in words a TA can act on
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"converted: {c}" for c in self.converted]
        out += [f"NOT converted: {n}" for n in self.not_converted]
        return out + [f"note: {n}" for n in self.notes]


def read_notebook(path: Path) -> dict[str, Any]:
    try:
        notebook = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportProblem(f"{path.name} is not a readable notebook ({exc})") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        raise ImportProblem(f"{path.name} is not an nbformat 4 notebook")
    return notebook


def source_of(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def code_cell(source: str, metadata: dict | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": metadata or {}, "outputs": [],
            "source": source}


def write_notebook(path: Path, notebook: dict[str, Any]) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", "utf-8")


def choose_environment(requirements: Path | None, report: ImportReport, *, name: str = "course",
                       resolve=None) -> str:
    """The smallest built-in environment holding every requirement; else a new pinned one written from them
    (gradeflow_graders.importers.environment), with the command that builds it; else what none holds is reported.
    `name`: the assignment's slug (the new environment's name starts with it); `resolve`: pip's resolver."""
    if requirements is None or not requirements.is_file():
        return "default"
    lines = [line.strip() for line in requirements.read_text("utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if requirement_name(line) and requirement_name(line) not in _GIVEN]
    wanted = {requirement_name(line) for line in lines}
    if not wanted:
        return "default"
    for environment, packages in _ENVIRONMENT_PACKAGES.items():
        if wanted <= packages:
            report.notes.append(f"requirements.txt ({', '.join(sorted(wanted))}) maps to the environment '{environment}'")
            return environment
    try:
        environment, path = pinned_environment(lines, slug=name, resolve=resolve or pip_resolve)
    except ResolveError as exc:
        missing = sorted(wanted - _ENVIRONMENT_PACKAGES["pytorch"])
        report.not_converted.append(
            f"requirements.txt: no named environment has {', '.join(missing)}, and no pinned one could be made "
            f"({exc}); set environment = \"...\" in assignment.toml once one exists (now 'pytorch')")
        return "pytorch"
    report.converted.append(f"requirements.txt -> a new environment '{environment}', every package pinned, in {path}")
    report.notes.append(f"build it on every worker before validating: `{BUILD_COMMAND} {environment}` (with "
                        f"GRADEFLOW_LOCAL_ENVIRONMENTS={path.parent.parent} there and on the API)")
    return environment


def write_config(dest: Path, *, slug: str, title: str, points: float, environment: str, label: str,
                 notebooks: list[str] | None = None) -> None:
    """assignment.toml; `label` (e.g. "in-kernel tests") is recorded as a comment TAs read. A notebook or a zip
    (the notebook plus its support files, such as otter's student_file.py) is accepted; with several `notebooks`
    (nbgrader), only a zip of them."""
    accepts = '[".zip"]' if notebooks else '[".ipynb", ".zip"]'
    lines = [f"# {label}" if label else "", f'id = "{slug}"', f"title = {json.dumps(title)}", 'kind = "notebook"',
             f"points = {points:g}", f"accepts = {accepts}", f'environment = "{environment}"',
             *([f"notebooks = {json.dumps(notebooks)}"] if notebooks else []), "",
             "[resources]", 'queue = "cpu"', "time_limit_s = 300", "cell_timeout_s = 60", "check_timeout_s = 60", ""]
    (dest / "assignment.toml").write_text("\n".join(lines).lstrip("\n"), "utf-8")


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:60]
    return slug if slug and slug[0].isalnum() else f"a-{slug}".strip("-") or "imported"


def prepare_dest(dest: Path) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise ImportProblem(f"{dest} exists and is not empty; give a new folder")
    dest.mkdir(parents=True, exist_ok=True)
