"""Zips for tests: submissions with support files, and the hostile kinds (zip-slip, link, bomb, too many files)."""
from __future__ import annotations

import io
import stat
import zipfile

import nbformat


def make_zip(entries, *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, text-or-bytes) pairs or ready ZipInfos (whose comment is their content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, entry.comment or b"")
            else:
                archive.writestr(*entry)
    return buffer.getvalue()


def notebook(*sources: str) -> str:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]))


def link(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.comment = target.encode()
    return info


def hostile_zips() -> dict[str, tuple[bytes, str]]:
    """name -> (zip, words its refusal must contain: the member named, and why)."""
    book = ("hw.ipynb", notebook("x = 1"))
    return {
        "zip-slip": (make_zip([book, ("../../evil.py", "x")]), "'../../evil.py': paths may not climb out"),
        "symlink": (make_zip([book, link("secrets", "/etc/passwd")]), "'secrets' is a symbolic link"),
        "bomb": (make_zip([book, ("big.txt", b"\0" * 30_000_000)]), "'big.txt' is 30.0 MB inflated"),
        "bomb-ratio": (make_zip([book, ("big.txt", b"\0" * 10_000_000)]), "'big.txt' inflates"),
        "too many files": (make_zip([book] + [(f"f{i}.txt", "x") for i in range(250)]), "251 entries; at most 200"),
    }
