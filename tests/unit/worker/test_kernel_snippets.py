import io
import sys

import pytest

from gradeflow_worker.kernel_snippets import output_governor_code


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
