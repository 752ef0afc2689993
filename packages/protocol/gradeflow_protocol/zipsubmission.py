"""A submission sent as a zip: one notebook (or script) plus the files it needs beside it (otter's
`student_file.py`, data files, subfolders). The same reading serves the upload's check and the worker's own
extraction (which never trusts the upload's): every member passes `safezip` first.

Which file runs: the zip's one `.ipynb` (kind notebook); with none, its one `.py` (kind script). Several, or
none of either, is refused. A single folder wrapping everything (`hw1/...`, as zipping a folder makes) is
removed, and macOS's `__MACOSX/` and Jupyter's `.ipynb_checkpoints/` entries are left out. The file that runs
must then be at the top, so the files beside it are where it expects them (its working directory). A top-level
`data/` folder is refused: the assignment's public files appear there. An assignment of several notebooks
(`notebooks = [...]` in assignment.toml, nbgrader's) takes a zip of any of them, at the top, and no other notebook.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from gradeflow_protocol.enums import SubmissionKind
from gradeflow_protocol.safezip import UnsafeZip, ZipLimits, read_zip

ZIP_EXTENSION = ".zip"
_LEFT_OUT = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".DS_Store"}
DEFAULT_LIMITS = ZipLimits()
RESERVED = "data"  # where the assignment's own public files appear, read-only, in the sandbox home


@dataclass(frozen=True)
class ZipSubmission:
    """What a zip submission holds, once checked."""

    main: str  # the notebook or script that runs, a top-level name
    kind: SubmissionKind
    files: dict[str, bytes]  # every file (the main one included) by its relative path in the sandbox home
    notebooks: tuple[str, ...] = ()  # an assignment of several notebooks: those of its notebooks the zip holds


def is_zip_name(filename: str) -> bool:
    return filename.lower().endswith(ZIP_EXTENSION)


def _kept(files: dict[str, bytes]) -> dict[str, bytes]:
    kept = {name: data for name, data in files.items() if not _LEFT_OUT & set(PurePosixPath(name).parts)}
    tops = {PurePosixPath(name).parts[0] for name in kept}
    if len(tops) == 1 and all(len(PurePosixPath(name).parts) > 1 for name in kept):
        kept = {PurePosixPath(*PurePosixPath(name).parts[1:]).as_posix(): data for name, data in kept.items()}
    return kept


def _main_file(files: dict[str, bytes]) -> tuple[str, SubmissionKind]:
    for suffix, kind in ((".ipynb", SubmissionKind.NOTEBOOK), (".py", SubmissionKind.SCRIPT)):
        found = sorted(name for name in files if name.lower().endswith(suffix))
        if kind is SubmissionKind.SCRIPT:
            found = [name for name in found if "/" not in name] or found  # modules in subfolders are support files
        if len(found) > 1:
            raise UnsafeZip(f"the zip holds {len(found)} {suffix} files ({', '.join(found[:5])}); it must hold "
                            f"exactly one, the one to grade")
        if found:
            if "/" in found[0]:
                raise UnsafeZip(f"{found[0]!r} is in a subfolder; put it at the top of the zip, beside its files")
            return found[0], kind
    raise UnsafeZip("the zip holds no notebook (.ipynb) or script (.py) to grade")


def _notebook_set(files: dict[str, bytes], notebooks: Sequence[str]) -> tuple[str, ...]:
    """The assignment's notebooks the zip holds (at its top); any other notebook, or none of them, is refused."""
    found = sorted(name for name in files if name.lower().endswith(".ipynb"))
    unknown = [name for name in found if name not in notebooks]
    if unknown:
        raise UnsafeZip(f"{unknown[0]!r} is not one of this assignment's notebooks ({', '.join(notebooks)}); "
                        f"zip those, each at the top of the zip, under those names")
    present = tuple(name for name in notebooks if name in files)
    if not present:
        raise UnsafeZip(f"the zip holds none of this assignment's notebooks ({', '.join(notebooks)})")
    return present


def open_submission_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS, *,
                        notebooks: Sequence[str] = ()) -> ZipSubmission:
    """Check and read a zip submission; raises UnsafeZip (a ValueError) with the reason, naming the member.
    `notebooks`: the assignment's several notebooks (assignment.toml), each run in its own kernel; the zip may hold
    any of them (a missing one scores 0 in the worker) and no other notebook; the first present is `main`."""
    files = _kept(read_zip(data, limits))
    if not files:
        raise UnsafeZip("the zip holds no files")
    clash = sorted(name for name in files if PurePosixPath(name).parts[0] == RESERVED)
    if clash:
        raise UnsafeZip(f"{clash[0]!r}: the folder {RESERVED}/ is where the assignment's own files appear; put your "
                        f"files beside the notebook or in a folder with another name")
    if len(notebooks) > 1:
        present = _notebook_set(files, notebooks)
        return ZipSubmission(main=present[0], kind=SubmissionKind.NOTEBOOK, files=files, notebooks=present)
    main, kind = _main_file(files)
    return ZipSubmission(main=main, kind=kind, files=files)


def zip_listing(data: bytes) -> str:
    """What a zip submission holds, as text for the submission page (its files are not shown one by one)."""
    try:
        found = open_submission_zip(data)
    except UnsafeZip as exc:
        try:  # an assignment's several notebooks (the upload checked them against its list)
            found = open_submission_zip(data, notebooks=_top_notebooks(data))
        except UnsafeZip:
            return f"This zip cannot be read: {exc}."
    if found.notebooks:
        lines = [(f"A zip of {len(found.notebooks)} notebooks ({', '.join(found.notebooks)}), each run on its own, "
                  "with these files beside them:")]
    else:
        lines = [f"A zip; {found.main} runs, with these files beside it:" if len(found.files) > 1 else
                 f"A zip holding {found.main} alone."]
    shown = set(found.notebooks or (found.main,))
    lines += [f"  {name} ({len(content):,} bytes)" for name, content in sorted(found.files.items()) if name not in shown]
    return "\n".join(lines)


def _top_notebooks(data: bytes) -> tuple[str, ...]:
    """The notebooks at the top of a zip (after its wrapping folder is removed), for showing a notebook set."""
    names = sorted(name for name in _kept(read_zip(data, DEFAULT_LIMITS)) if name.lower().endswith(".ipynb"))
    return tuple(name for name in names if "/" not in name) if len(names) > 1 else ()
