import io
import sys

import numpy as np
import pytest

from gradeflow_worker import codec
from gradeflow_worker.kernel_snippets import output_governor_code, request_code


def streams(monkeypatch):
    """Fresh stdout and stderr (set inside the test: pytest's capture re-installs its own after fixtures run)."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return out, err


def test_governor_passes_output_until_the_cap_then_drops_it(monkeypatch):
    out, err = streams(monkeypatch)
    namespace: dict = {}
    exec(output_governor_code(25), namespace)
    assert sys.stdout.write("a" * 20) == 20
    assert sys.stderr.write("b" * 10) == 10  # stdout and stderr share one budget; this write crosses the cap
    assert sys.stdout.write("c" * 1000) == 1000  # dropped, yet reported as written so loops do not fail
    print("d")
    assert out.getvalue() == "a" * 20 and err.getvalue() == "b" * 10


def test_governor_counts_bytes_not_characters(monkeypatch):
    out, _ = streams(monkeypatch)
    exec(output_governor_code(3), {})
    sys.stdout.write("éé")  # 4 bytes: passes (nothing was used before), then the budget is spent
    sys.stdout.write("x")
    assert out.getvalue() == "éé"


def test_governor_leaves_no_names_behind_and_keeps_type_errors(monkeypatch):
    streams(monkeypatch)
    namespace: dict = {}
    exec(output_governor_code(10), namespace)
    assert [name for name in namespace if not name.startswith("__builtins__")] == []
    with pytest.raises(TypeError):
        sys.stdout.write(b"bytes")


NONCE = "0123456789abcdef"


def serve(request, tmp_path, namespace):
    """Run the request snippet here, as the kernel would, and read its reply the way the harness does."""
    exec(request_code(request, ipc_inside=str(tmp_path), nonce=NONCE), namespace)
    return codec.parse_reply(codec.read_capped(tmp_path / f"out-{NONCE}.json"))


def test_the_request_snippet_writes_a_kernel_reply(tmp_path):
    namespace = {"double": lambda x: 2 * x, "n": 3}
    reply = serve({"op": "call", "function": "double", "args": [[1.0, 2.0]], "kwargs": {}}, tmp_path, namespace)
    assert reply.ok and reply.value == [1.0, 2.0, 1.0, 2.0]
    namespace["arr"] = lambda: np.arange(3.0)
    reply = serve({"op": "call", "function": "arr", "args": [], "kwargs": {}}, tmp_path, namespace)
    assert np.array_equal(codec.decode_value(reply.value, ipc_dir=tmp_path), np.arange(3.0))
    assert serve({"op": "has", "name": "n"}, tmp_path, namespace).value is True


def test_a_failing_request_is_a_kernel_reply_with_the_error(tmp_path):
    class ANameLongerThanTheReplyAllows(Exception):
        pass

    ANameLongerThanTheReplyAllows.__name__ = "E" * 500

    def boom():
        raise ANameLongerThanTheReplyAllows("x" * 5000)

    reply = serve({"op": "call", "function": "boom", "args": [], "kwargs": {}}, tmp_path, {"boom": boom})
    assert not reply.ok and reply.error.startswith("EEE") and len(reply.error) == 1000 and len(reply.ename) == 200
    reply = serve({"op": "get", "name": "missing"}, tmp_path, {})
    assert not reply.ok and reply.ename == "NameError" and "missing" in reply.error


def test_start_up_code_makes_the_public_python_folder_importable_last(tmp_path, monkeypatch):
    """data/public/python/ (at ~/data/python in the sandbox) is importable, after everything else on sys.path:
    support modules and the stand-in otter package of imported otter assignments."""
    import sys

    from gradeflow_worker.kernel_snippets import preload_code

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "data" / "python").mkdir(parents=True)
    (tmp_path / "data" / "python" / "support_mod_xyz.py").write_text("VALUE = 42\n")
    exec(preload_code(modules=()), {})
    assert sys.path[-1] == str(tmp_path / "data" / "python")
    monkeypatch.delitem(sys.modules, "support_mod_xyz", raising=False)
    assert __import__("support_mod_xyz").VALUE == 42
