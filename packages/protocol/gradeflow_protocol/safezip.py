"""Reading a zip that someone else made (a student's submission, a course's autograder zip): every member is
checked before anything is written, and each refusal says which member and why.

Refused: absolute paths, drive letters and `..` parts (zip-slip), links and anything not a regular file or folder,
names with control characters, too many members, too much data once inflated (counted from the central directory
before extraction, and again while inflating, so a member lying about its size is stopped too), and a compression
ratio past `max_ratio` (a zip bomb).
"""
from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 200
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed; text compresses ~10x, a bomb ~1000x
_CHUNK = 64 * 1024


class UnsafeZip(ValueError):
    """Why a zip is refused, in words for the person who sent it."""


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = MAX_MEMBERS
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_ratio: float = MAX_RATIO


def _safe_name(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    if any(ord(ch) < 32 for ch in name) or "\\" in name:
        raise UnsafeZip(f"{name!r}: file names may not hold control characters or backslashes")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise UnsafeZip(f"{name!r}: absolute paths are not allowed in a zip")
    if ".." in path.parts:
        raise UnsafeZip(f"{name!r}: paths may not climb out of the folder with '..'")
    mode = info.external_attr >> 16  # Unix mode when made on Unix; a type of 0 (permissions only) is a file
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise UnsafeZip(f"{name!r} is {kind}; a zip may hold only files and folders")
    return path


def inspect_zip(data: bytes, limits: ZipLimits = ZipLimits()) -> list[zipfile.ZipInfo]:
    """The zip's file members, after every check that can be made without inflating anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeZip(f"not a readable zip file ({exc})") from None
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise UnsafeZip(f"the zip holds {len(members)} entries; at most {limits.max_members} are allowed")
    total, files, seen = 0, [], set()
    for info in members:
        path = _safe_name(info)
        if info.is_dir():
            continue
        key = path.as_posix().lower()
        if key in seen:
            raise UnsafeZip(f"{info.filename!r} appears twice in the zip")
        seen.add(key)
        if info.file_size > limits.max_member_bytes:
            raise UnsafeZip(f"{info.filename!r} is {info.file_size / 1e6:.1f} MB inflated; the limit per file is "
                            f"{limits.max_member_bytes / 1e6:.0f} MB")
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeZip(f"{info.filename!r} inflates {info.file_size / max(info.compress_size, 1):.0f} times; "
                            f"that is a zip bomb, not a submission")
        total += info.file_size
        files.append(info)
    if total > limits.max_total_bytes:
        raise UnsafeZip(f"the zip inflates to {total / 1e6:.1f} MB; the limit is {limits.max_total_bytes / 1e6:.0f} MB")
    return files


def read_zip(data: bytes, limits: ZipLimits = ZipLimits()) -> dict[str, bytes]:
    """Every file in the zip by its relative path, inflated under the caps (a member that inflates past the
    size it declared is stopped at the cap)."""
    members = inspect_zip(data, limits)
    archive, out, total = zipfile.ZipFile(io.BytesIO(data)), {}, 0
    for info in members:
        chunks, size = [], 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > min(limits.max_member_bytes, info.file_size) or total > limits.max_total_bytes:
                        raise UnsafeZip(f"{info.filename!r} inflates past the size it declares; refused")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise UnsafeZip(f"{info.filename!r} could not be read ({exc})") from None
        out[PurePosixPath(info.filename).as_posix()] = b"".join(chunks)
    return out


def extract_zip(data: bytes, dest: Path, limits: ZipLimits = ZipLimits()) -> list[Path]:
    """Extract into `dest` (created; must be empty) after every check; returns the files written."""
    files = read_zip(data, limits)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise UnsafeZip(f"{dest} is not empty")
    written = []
    root = dest.resolve()
    for name, content in files.items():
        target = (dest / name).resolve()
        if root not in target.parents:
            raise UnsafeZip(f"{name!r} would be written outside the folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as fh:  # never through an existing file or link
            fh.write(content)
        written.append(target)
    return written
