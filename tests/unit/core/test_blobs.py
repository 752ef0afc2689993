import pytest

from gradeflow_core.blobs import LocalBlobStore, sha256_hex


def test_content_addressed_roundtrip(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"hello")
    assert digest == sha256_hex(b"hello")
    assert store.get(digest) == b"hello"
    assert store.put(b"hello") == digest
    assert store.exists(digest)
    assert not list(tmp_path.rglob(".tmp-*"))


def test_rejects_paths_that_are_not_hashes(tmp_path):
    with pytest.raises(ValueError):
        LocalBlobStore(tmp_path).get("../../etc/passwd")
