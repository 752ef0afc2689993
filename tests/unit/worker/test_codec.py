"""Everything that comes out of a sandbox is hostile: these files must be refused cleanly."""
import io
import os
import pickle

import numpy as np
import pytest

from gradeflow_graders.api import Ref, StudentValueError
from gradeflow_worker import codec


def test_arrays_and_refs_are_encoded_as_data(tmp_path):
    counter = [0]
    out = codec.encode_args([np.arange(3.0), Ref("f"), (1, 2.5), {"k": np.float64(2.0)}], ipc_dir=tmp_path,
                            stem="in-x", counter=counter)
    assert out[1] == {"__gf_ref__": "f"} and out[2] == [1, 2.5] and out[3] == {"k": 2.0}
    assert np.array_equal(np.load(tmp_path / out[0]["__gf_npy__"], allow_pickle=False), np.arange(3.0))
    with pytest.raises(TypeError):
        codec.encode_args(object(), ipc_dir=tmp_path, stem="in-x", counter=counter)


def test_reply_with_arrays_decodes(tmp_path):
    np.save(tmp_path / "out-0123456789abcdef-1.npy", np.eye(2), allow_pickle=False)
    value = codec.decode_value([{"__gf_npy__": "out-0123456789abcdef-1.npy"}, 3, "x"], ipc_dir=tmp_path)
    assert np.array_equal(value[0], np.eye(2)) and value[1:] == [3, "x"]


def test_pickled_object_arrays_are_refused(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(StudentValueError):
        codec.load_npy(buffer.getvalue())
    with pytest.raises(StudentValueError):
        codec.load_npy(pickle.dumps([1, 2]))


def test_path_traversal_in_array_names_is_refused(tmp_path):
    with pytest.raises(StudentValueError, match="malformed"):
        codec.decode_value({"__gf_npy__": "../../etc/passwd"}, ipc_dir=tmp_path)


def test_symlinks_fifos_and_huge_files_are_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("hidden")
    (tmp_path / "link.json").symlink_to(secret)
    with pytest.raises(StudentValueError):
        codec.read_capped(tmp_path / "link.json")
    os.mkfifo(tmp_path / "fifo.json")
    with pytest.raises(StudentValueError, match="regular"):
        codec.read_capped(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_bytes(b"0" * 2000)
    with pytest.raises(StudentValueError, match="too large"):
        codec.read_capped(tmp_path / "big.json", cap=1000)


def test_malformed_replies_are_refused():
    for data in (b"\xff", b"{", b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(StudentValueError, match="not valid JSON"):
            codec.parse_reply(data)
    wrong_shape = (b"[1,2]", b'{"ok": "yes"}', b'{"ok": 1}', b'{"value": 1}', b'{"ok": true, "extra": 1}',
                   b'{"ok": false, "error": "' + b"x" * 5000 + b'"}', b'{"ok": false, "error": 3}')
    for data in wrong_shape:
        with pytest.raises(StudentValueError, match="wrong shape"):
            codec.parse_reply(data)


def test_a_valid_reply_is_a_frozen_kernel_reply():
    reply = codec.parse_reply(b'{"ok": true, "value": [1, NaN, Infinity]}')
    assert reply.ok and reply.value[0] == 1 and reply.value[1] != reply.value[1] and reply.value[2] == float("inf")
    with pytest.raises(ValueError):
        reply.ok = False
    failed = codec.parse_reply(b'{"ok": false, "error": "ValueError: bad", "ename": "ValueError"}')
    assert not failed.ok and failed.error == "ValueError: bad" and failed.value is None


def test_deep_nesting_is_refused(tmp_path):
    value = 1
    for _ in range(20):
        value = [value]
    with pytest.raises(StudentValueError, match="deeply"):
        codec.decode_value(value, ipc_dir=tmp_path)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_, np.complex64, np.complex128])
def test_arrays_keep_their_dtype_through_the_codec(tmp_path, dtype):
    array = (np.arange(6).reshape(2, 3) * (1 + 1j if np.dtype(dtype).kind == "c" else 1)).astype(dtype)
    wire = codec.encode_args([array], ipc_dir=tmp_path, stem="in-x", counter=[0])
    sent = np.load(tmp_path / wire[0]["__gf_npy__"], allow_pickle=False)
    assert sent.dtype == dtype and np.array_equal(sent, array)
    np.save(tmp_path / "out-0123456789abcdef-1.npy", array, allow_pickle=False)
    back = codec.decode_value({"__gf_npy__": "out-0123456789abcdef-1.npy"}, ipc_dir=tmp_path)
    assert back.dtype == dtype and np.array_equal(back, array)


def test_a_tensor_argument_is_an_array_with_torch_options(tmp_path):
    from gradeflow_graders.api import Tensor

    wire = codec.encode_args(Tensor(np.ones(2, dtype=np.float32), dtype="torch.float64", requires_grad=True),
                             ipc_dir=tmp_path, stem="in-x", counter=[0])
    assert wire == {"__gf_tensor__": "in-x-1.npy", "dtype": "float64", "requires_grad": True, "device": None}
    assert np.load(tmp_path / "in-x-1.npy", allow_pickle=False).dtype == np.float32


def test_object_and_structured_arrays_are_not_sent(tmp_path):
    for array in (np.array([object()], dtype=object), np.zeros(2, dtype=[("a", "O")])):
        with pytest.raises(TypeError, match="dtype"):
            codec.encode_args([array], ipc_dir=tmp_path, stem="in-x", counter=[0])
    assert list(tmp_path.iterdir()) == []
