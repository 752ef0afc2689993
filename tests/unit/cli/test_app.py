"""The CLI's error handling and helpers: one line with the fix, never a traceback."""
from __future__ import annotations

from datetime import datetime

import pytest

from gradeflow_cli.app import CliError, GradeflowTyper
from gradeflow_cli.render import parse_moment


def make_app(exc: BaseException) -> GradeflowTyper:
    app = GradeflowTyper(no_args_is_help=False)

    @app.command()
    def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(("exc", "code", "text"), [(CliError("fix this way", code=3), 3, "error: fix this way"),
                                                   (ValueError("odd"), 1, "unexpected ValueError: odd"),
                                                   (KeyboardInterrupt(), 130, "")])
def test_failures_print_one_line_and_exit(capsys, monkeypatch, exc, code, text):
    monkeypatch.delenv("GRADEFLOW_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        make_app(exc)([], prog_name="gradeflow")
    captured = capsys.readouterr()
    assert info.value.code == code and text in captured.err and "Traceback" not in captured.err + captured.out


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("GRADEFLOW_DEBUG", "1")
    with pytest.raises(ValueError):
        make_app(ValueError("odd"))([], prog_name="gradeflow")


def test_parse_moment_keeps_offsets_and_localises_naive_times():
    assert parse_moment("2026-12-01T23:59+01:00") == "2026-12-01T23:59:00+01:00"
    assert datetime.fromisoformat(parse_moment("2026-12-01 23:59")).tzinfo is not None
    with pytest.raises(CliError, match="not a date-time"):
        parse_moment("next friday")
