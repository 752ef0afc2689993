"""Assignment bundles: a folder, its validated config, its content hash and its archive."""
from __future__ import annotations

import hashlib
import io
import tarfile
import tomllib
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gradeflow_protocol.enums import ContestGrading, ContestMetric, SubmissionKind
from gradeflow_protocol.environments import DEFAULT_ENVIRONMENT, unknown_environment
from gradeflow_protocol.limits import clip_limits
from gradeflow_protocol.messages import Limits

MAX_BUNDLE_BYTES = 50 * 1024 * 1024
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".git"}


class BundleError(ValueError):
    """A message for the TA saying what to fix in the assignment folder."""


class ResourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    queue: str = Field("cpu", pattern=r"^(cpu|gpu)$")
    time_limit_s: float | None = None
    cell_timeout_s: float | None = None
    check_timeout_s: float | None = None
    memory_mb: int | None = None
    max_processes: int | None = None
    max_output_kb: int | None = None
    scratch_mb: int | None = None


def _bundle_path(value: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"{value!r} must be a relative path inside the assignment folder")
    return value


class ContestConfig(BaseModel):
    """[contest]: a Kaggle-style contest. The solution file (id,label,usage) stays with the harness."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: ContestMetric
    solution: str = "hidden/solution.csv"  # never under data/public: that folder enters the sandbox
    predictions_file: str = Field("predictions.csv", pattern=r"^[A-Za-z0-9._-]{1,100}$")  # what a notebook writes
    digits: int = Field(4, ge=1, le=8)  # scores shown rounded to this many digits
    ladder_step: float | None = Field(None, gt=0, lt=1)  # the Ladder (Blum and Hardt 2015): shown score's step
    bootstrap: int = Field(1000, ge=100, le=20000)  # resamples for the private score's interval
    grading: ContestGrading = ContestGrading.RANK
    thresholds: list[tuple[float, float]] = Field(default_factory=list)  # (private score, fraction of points)

    @field_validator("solution")
    @classmethod
    def _solution_hidden(cls, value: str) -> str:
        _bundle_path(value)
        if PurePosixPath(value).parts[:2] == ("data", "public"):
            raise ValueError("the solution must not be under data/public (that folder enters the sandbox)")
        return value

    @model_validator(mode="after")
    def _thresholds_given(self) -> "ContestConfig":
        if self.grading is ContestGrading.THRESHOLDS and not self.thresholds:
            raise ValueError("grading = 'thresholds' needs thresholds = [[score, fraction], ...]")
        if any(not 0 <= fraction <= 1 for _, fraction in self.thresholds):
            raise ValueError("each threshold's fraction of the points is between 0 and 1")
        return self


class RubricItemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    points: float
    text: str = Field(..., min_length=1, max_length=2000)


class RubricQuestionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(..., min_length=1, max_length=200)
    points: float = Field(..., gt=0)
    items: list[RubricItemConfig] = Field(default_factory=list)  # the starting rubric; staff edit it on the web


class ReportConfig(BaseModel):
    """[report]: a PDF graded by staff with a rubric, one question at a time."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    questions: list[RubricQuestionConfig] = Field(..., min_length=1)
    max_pdf_mb: float = Field(20, gt=0, le=100)

    @property
    def points(self) -> float:
        return round(sum(q.points for q in self.questions), 6)


class AssignmentConfig(BaseModel):
    """assignment.toml, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    title: str = Field(..., min_length=1, max_length=200)
    kind: SubmissionKind
    points: float = Field(..., gt=0)
    accepts: list[str] = Field(default_factory=list)
    environment: str = DEFAULT_ENVIRONMENT  # a name of gradeflow_protocol.environments.ENVIRONMENTS
    resources: ResourceConfig = ResourceConfig()
    teams: bool = False  # submissions belong to the sender's team (every member sees and gets the score)
    contest: ContestConfig | None = None
    report: ReportConfig | None = None
    # several notebooks handed in as one zip (nbgrader assignments): each runs in a kernel of its own
    notebooks: list[str] = Field(default_factory=list)

    @field_validator("notebooks")
    @classmethod
    def _notebook_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.endswith(".ipynb") or "/" in name or "\\" in name or name.startswith("."):
                raise ValueError(f"notebooks: {name!r} must be a notebook's file name (NAME.ipynb, no folder)")
        if len(set(value)) != len(value):
            raise ValueError("notebooks: each name once")
        return value

    @model_validator(mode="after")
    def _sections_fit_kind(self) -> "AssignmentConfig":
        if self.kind is SubmissionKind.PREDICTIONS and self.contest is None:
            raise ValueError("kind = 'predictions' needs a [contest] section (metric, solution)")
        if self.kind is SubmissionKind.REPORT and self.report is None:
            raise ValueError("kind = 'report' needs a [report] section with its rubric questions")
        if self.report is not None and self.report.points > self.points + 1e-9:
            raise ValueError(f"the rubric's questions are worth {self.report.points:g} points, more than the "
                             f"assignment's points = {self.points:g}")
        return self

    @field_validator("accepts")
    @classmethod
    def _known_extensions(cls, value: list[str]) -> list[str]:
        for ext in value:
            if ext not in (".ipynb", ".py", ".csv", ".zip", ".pdf"):  # .zip: a notebook or script plus its files
                raise ValueError(f"unknown extension {ext!r}; use .ipynb, .py, .csv, .zip or .pdf")
        return value

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        problem = unknown_environment(value)
        if problem:
            raise ValueError(problem)
        return value

    def accepted_extensions(self) -> list[str]:
        if self.accepts:
            return list(self.accepts)
        return {"notebook": [".ipynb", ".py"], "script": [".py", ".ipynb"], "predictions": [".csv"],
                "report": [".pdf"]}[self.kind]

    @property
    def rubric_points(self) -> float:
        """The part of `points` staff grade with the rubric (0 without a [report] section)."""
        return self.report.points if self.report is not None else 0.0

    @property
    def autograded_points(self) -> float:
        """The part of `points` the checks give (what the reference must score); the rest is the rubric's. A
        contest's submissions score the public metric, out of 1: its `points` come from the private board."""
        if self.contest is not None:
            return 1.0
        return round(self.points - self.rubric_points, 6)

    def limits(self, defaults: Limits, caps: Limits) -> Limits:
        """This assignment's limits: defaults overridden by the config, clipped to the operator's caps."""
        wanted = {k: v for k, v in self.resources.model_dump().items() if v is not None and k != "queue"}
        return clip_limits(defaults, caps, wanted=wanted, gpu=self.resources.queue == "gpu")


def _bundle_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not (_SKIP_PARTS & set(rel.parts)) and not path.is_symlink():
            files.append(rel)
    return files


def read_config(folder: Path) -> AssignmentConfig:
    path = folder / "assignment.toml"
    if not path.is_file():
        raise BundleError(f"{folder}: no assignment.toml; every assignment folder needs one.")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"assignment.toml is not valid TOML: {exc}") from None
    try:
        return AssignmentConfig(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BundleError(f"assignment.toml: {problems}") from None


def content_hash(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes: the version's name."""
    digest = hashlib.sha256()
    for rel in _bundle_files(folder):
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256((folder / rel).read_bytes()).digest())
    return digest.hexdigest()


def pack(folder: Path) -> bytes:
    """A deterministic tar.gz of the folder (mtimes and owners zeroed)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for rel in _bundle_files(folder):
            data = (folder / rel).read_bytes()
            info = tarfile.TarInfo(rel.as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    blob = buffer.getvalue()
    if len(blob) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle is {len(blob) / 1e6:.0f} MB packed; the limit is {MAX_BUNDLE_BYTES / 1e6:.0f} MB")
    return blob


def unpack(blob: bytes, dest: Path) -> Path:
    """Extract a bundle safely (regular files only, no absolute or parent paths)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar.getmembers():
            rel = PurePosixPath(member.name)
            if not member.isfile() or rel.is_absolute() or ".." in rel.parts:
                raise BundleError(f"refusing bundle member {member.name!r}")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
    return dest
