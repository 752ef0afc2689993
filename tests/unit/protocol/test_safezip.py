"""Hostile zips are refused before anything is written, each with a message naming the member and the reason."""
import zipfile

import pytest
from gradeflow_protocol.safezip import UnsafeZip, ZipLimits, extract_zip, read_zip

from tests.zips import link, make_zip


def test_a_plain_zip_extracts(tmp_path):
    data = make_zip([("hw.ipynb", "{}"), ("files/data.csv", "a,b\n")])
    written = extract_zip(data, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["files/data.csv", "hw.ipynb"]
    assert (tmp_path / "out" / "files" / "data.csv").read_text() == "a,b\n"


@pytest.mark.parametrize(("name", "words"), [
    ("../evil.py", "climb out"),
    ("a/../../evil.py", "climb out"),
    ("/etc/passwd", "absolute"),
    ("C:/windows/evil.py", "absolute"),
    ("bad\nname.py", "control characters"),
])
def test_zip_slip_names_are_refused(tmp_path, name, words):
    with pytest.raises(UnsafeZip, match=words):
        extract_zip(make_zip([("ok.py", "1"), (name, "x")]), tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.py").exists()


def test_links_are_refused(tmp_path):
    with pytest.raises(UnsafeZip, match="symbolic link"):
        extract_zip(make_zip([link("data", "/etc")]), tmp_path / "out")


def test_a_zip_bomb_is_refused_before_inflating():
    bomb = make_zip([("zeros.txt", b"\0" * (30 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with pytest.raises(UnsafeZip, match="zip bomb|limit per file"):
        read_zip(bomb)
    with pytest.raises(UnsafeZip, match="zip bomb"):
        read_zip(make_zip([("zeros.txt", b"\0" * (5 * 1024 * 1024))]))


def test_too_many_files_and_too_much_data():
    with pytest.raises(UnsafeZip, match="holds 201 entries; at most 200"):
        read_zip(make_zip([(f"f{i}.txt", "x") for i in range(201)]))
    stored = make_zip([(f"f{i}.bin", b"x" * 1000) for i in range(3)], compression=zipfile.ZIP_STORED)
    with pytest.raises(UnsafeZip, match="inflates to 0.0 MB; the limit is 0 MB"):
        read_zip(stored, ZipLimits(max_total_bytes=2500))


def test_duplicates_and_garbage_are_refused():
    with pytest.raises(UnsafeZip, match="twice"):
        read_zip(make_zip([("a.py", "1"), ("A.py", "2")]))
    with pytest.raises(UnsafeZip, match="not a readable zip"):
        read_zip(b"PK\x03\x04 not really")


def test_a_member_lying_about_its_size_is_stopped():
    data = bytearray(make_zip([("a.txt", b"y" * 5000)], compression=zipfile.ZIP_STORED))
    # shrink the declared size in the central directory: reading stops at the declared size or fails the CRC
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (100).to_bytes(4, "little")
    with pytest.raises(UnsafeZip):
        read_zip(bytes(data))
