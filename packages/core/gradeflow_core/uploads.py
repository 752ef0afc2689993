"""Validation of what a student uploads: nothing invalid is ever stored."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import nbformat

from gradeflow_protocol.enums import SubmissionKind
from gradeflow_protocol.safezip import UnsafeZip
from gradeflow_protocol.zipsubmission import ZIP_EXTENSION, open_submission_zip

EXTENSIONS = {".ipynb": SubmissionKind.NOTEBOOK, ".py": SubmissionKind.SCRIPT, ".csv": SubmissionKind.PREDICTIONS,
              ".pdf": SubmissionKind.REPORT}
PDF_MAGIC = b"%PDF-"
# A .zip's kind is that of the notebook or script inside (gradeflow_protocol.zipsubmission).
KNOWN_EXTENSIONS = (*EXTENSIONS, ZIP_EXTENSION)


def human_size(size: int) -> str:
    """Sizes in the same units as the upload page's own check (static/app.js): MB of 2**20 bytes, else KB."""
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{-(-size // 1024)} KB"


class UploadError(ValueError):
    """A message for the student saying what is wrong and how to fix it."""


class UploadTooLarge(UploadError):
    """The file is over the size limit (HTTP 413 at the API)."""


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    kind: SubmissionKind
    data: bytes


def safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip(".")
    return base[:100] or "submission"


def check_upload(*, filename: str, data: bytes, accepted: list[str], max_bytes: int,
                 size: int | None = None, max_pdf_bytes: int | None = None,
                 notebooks: list[str] | tuple[str, ...] = ()) -> CheckedUpload:
    """Validate an upload's name, size and content; raise UploadError with the fix.

    `size` is the whole upload's size when `data` was read only up to the limit (the message names the real size).
    `max_pdf_bytes`: a report's own limit (submitting.pdf_limit), which replaces `max_bytes` for a .pdf.
    `notebooks`: an assignment's several notebooks (assignment.toml), which a zip may hold together.
    """
    name = safe_filename(filename or "")
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in KNOWN_EXTENSIONS:
        raise UploadError(f"'{filename}' has an unknown extension; upload one of: {', '.join(accepted)}.")
    if ext not in accepted:
        raise UploadError(f"This assignment does not take {ext} files; upload one of: {', '.join(accepted)}.")
    if not data:
        raise UploadError("The file is empty.")
    if ext == ".pdf":
        return _check_pdf(name, data, max_bytes=max_pdf_bytes or max_bytes, size=size)
    if len(data) > max_bytes:
        raise UploadTooLarge(f"The file is {human_size(max(size or 0, len(data)))}; the limit is "
                             f"{human_size(max_bytes)}. Clear large outputs and try again.")
    if ext == ZIP_EXTENSION:
        return CheckedUpload(filename=name, kind=_check_zip(data, notebooks=notebooks), data=data)
    kind = EXTENSIONS[ext]
    _check_text(kind, data)
    return CheckedUpload(filename=name, kind=kind, data=data)


def _check_pdf(name: str, data: bytes, *, max_bytes: int, size: int | None) -> CheckedUpload:
    """A report: its size and its first bytes here; whether it opens is the worker's check (report_check.py)."""
    if len(data) > max_bytes:
        raise UploadTooLarge(f"The PDF is {human_size(max(size or 0, len(data)))}; the limit is "
                             f"{human_size(max_bytes)}. Export it with compressed images and try again.")
    if not data.startswith(PDF_MAGIC):
        raise UploadError("This is not a PDF (it does not start with %PDF-). Export or print your report to PDF "
                          "and upload that file.")
    return CheckedUpload(filename=name, kind=SubmissionKind.REPORT, data=data)


def file_kind(name: str, data: bytes, *, notebooks: list[str] | tuple[str, ...] = ()) -> SubmissionKind:
    """A reference file's kind: its extension's, or for a zip that of what runs inside (UploadError if refused)."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == ZIP_EXTENSION:
        return _check_zip(data, notebooks=notebooks)
    return EXTENSIONS[suffix]


def _check_zip(data: bytes, *, notebooks=()) -> SubmissionKind:
    """A zip is checked member by member (links, '..', sizes, count, bomb) before anything is kept; its kind is
    that of the one notebook or script inside, which is checked as if uploaded alone."""
    try:
        found = open_submission_zip(data, notebooks=notebooks)
    except UnsafeZip as exc:
        raise UploadError(f"The zip was refused: {exc}.") from None
    for name in found.notebooks or (found.main,):
        try:
            _check_text(found.kind, found.files[name])
        except UploadError as exc:
            raise UploadError(f"In the zip, {name}: {exc}") from None
    return found.kind


def _check_text(kind: SubmissionKind, data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadError(f"The file is not UTF-8 text (byte {exc.start} is invalid). Save it as UTF-8.") from None
    if kind is SubmissionKind.NOTEBOOK:
        _check_notebook(text)
    elif kind is SubmissionKind.SCRIPT:
        if "\x00" in text:
            raise UploadError("The script contains NUL bytes; is it really a .py file?")


def _check_notebook(text: str) -> None:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UploadError(f"This is not a Jupyter notebook: invalid JSON at line {exc.lineno}.") from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise UploadError("This is not a Jupyter notebook: no 'cells' found.")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UploadError(f"This notebook is not valid nbformat 4: {first[:200]}") from None
