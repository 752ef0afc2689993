"""The named student environments an assignment may choose (`environment = "NAME"` in assignment.toml).

Each named one is a pinned set of packages the student's kernel runs in (built by the worker:
`python -m gradeflow_worker.environments build NAME`); "default" is the worker's own interpreter, as before
environments existed. The API refuses any other name at publish; the worker refuses one it has not built.
"""
from __future__ import annotations

DEFAULT_ENVIRONMENT = "default"
ENVIRONMENTS: dict[str, str] = {
    DEFAULT_ENVIRONMENT: "the worker's own Python (what every assignment ran in before environments existed)",
    "numpy": "NumPy only",
    "scientific": "NumPy, SciPy, scikit-learn, matplotlib",
    "pytorch": "PyTorch (CPU, torch 2.13.0) plus the scientific set",
}
NAMED_ENVIRONMENTS = tuple(name for name in ENVIRONMENTS if name != DEFAULT_ENVIRONMENT)


def unknown_environment(name: str) -> str | None:
    """None for a defined name, else the message for the TA: what was asked and every valid name."""
    if name in ENVIRONMENTS:
        return None
    return f"unknown environment {name!r}; use one of: {', '.join(ENVIRONMENTS)}"
