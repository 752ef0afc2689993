"""The Typer app class every `gradeflow` command group uses: errors become a message with the fix, never a traceback."""
from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(Exception):
    """A failure to report to the user: `message` says what went wrong and how to fix it."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def report(exc: BaseException) -> int:
    """Print an error for people; returns the exit code."""
    if isinstance(exc, CliError):
        err.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False)
        return exc.code
    if isinstance(exc, KeyboardInterrupt):
        err.print("interrupted")
        return 130
    err.print(f"[bold red]error:[/] unexpected {type(exc).__name__}: {exc}. "
              "Run again with GRADEFLOW_DEBUG=1 to see the traceback, and report it.", markup=True)
    return 1


class GradeflowTyper(typer.Typer):
    """A Typer whose failures print one line, not a traceback (GRADEFLOW_DEBUG=1 shows it)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        super().__init__(**kwargs)

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - the one place every failure is turned into words
            if os.environ.get("GRADEFLOW_DEBUG"):
                raise
            sys.exit(report(exc))
