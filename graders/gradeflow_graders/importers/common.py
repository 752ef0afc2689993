"""What every importer shares: the report, notebooks as JSON, the assignment.toml and README it writes."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def choose_environment(requirements: Path | None, report: ImportReport) -> str:
    """The smallest named environment holding every requirement; what none holds is reported."""
    if requirements is None or not requirements.is_file():
        return "default"
    wanted = set()
    for line in requirements.read_text("utf-8", errors="replace").splitlines():
        name = re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
        if name and not name.startswith(("#", "-")):
            wanted.add(name)
    wanted -= _GIVEN
    if not wanted:
        return "default"
    for name, packages in _ENVIRONMENT_PACKAGES.items():
        if wanted <= packages:
            report.notes.append(f"requirements.txt ({', '.join(sorted(wanted))}) maps to the environment '{name}'")
            return name
    missing = sorted(wanted - _ENVIRONMENT_PACKAGES["pytorch"])
    report.not_converted.append(
        f"requirements.txt: no named environment has {', '.join(missing)}; add a pinned environment under "
        f"services/worker/environments/ and set environment = \"...\" in assignment.toml (now 'pytorch')")
    return "pytorch"


def write_config(dest: Path, *, slug: str, title: str, points: float, environment: str, label: str) -> None:
    """assignment.toml; `label` (e.g. "in-kernel tests") is recorded as a comment TAs read. A notebook or a zip
    (the notebook plus its support files, such as otter's student_file.py) is accepted."""
    lines = [f"# {label}" if label else "", f'id = "{slug}"', f"title = {json.dumps(title)}", 'kind = "notebook"',
             f"points = {points:g}", 'accepts = [".ipynb", ".zip"]', f'environment = "{environment}"', "",
             "[resources]", 'queue = "cpu"', "time_limit_s = 300", "cell_timeout_s = 60", "check_timeout_s = 60", ""]
    (dest / "assignment.toml").write_text("\n".join(lines).lstrip("\n"), "utf-8")


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:60]
    return slug if slug and slug[0].isalnum() else f"a-{slug}".strip("-") or "imported"


def prepare_dest(dest: Path) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise ImportProblem(f"{dest} exists and is not empty; give a new folder")
    dest.mkdir(parents=True, exist_ok=True)
