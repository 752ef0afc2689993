"""Assignment bundles: a folder, its validated config, its content hash and its archive."""
from __future__ import annotations

import hashlib
import io
import tarfile
import tomllib
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gradeflow_protocol.enums import SubmissionKind
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

    @field_validator("accepts")
    @classmethod
    def _known_extensions(cls, value: list[str]) -> list[str]:
        for ext in value:
            if ext not in (".ipynb", ".py", ".csv", ".zip"):  # .zip: a notebook or script plus its files
                raise ValueError(f"unknown extension {ext!r}; use .ipynb, .py, .csv or .zip")
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
        return {"notebook": [".ipynb", ".py"], "script": [".py", ".ipynb"], "predictions": [".csv"]}[self.kind]

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
