"""Shared bits of the CLI's output: tables, times, scores, and waiting with a progress bar."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gradeflow_cli.app import CliError, err, out


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    out.print(grid)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def moment(text: str | None) -> str:
    """An API timestamp in the reader's local time."""
    if not text:
        return "-"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def parse_moment(text: str) -> str:
    """A date-time typed by a person ('2026-12-01 23:59', with or without an offset; local time when none)
    as ISO 8601 with an offset."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise CliError(f"'{text}' is not a date-time; write it like 2026-12-01T23:59 or 2026-12-01T23:59+01:00.") \
            from None
    return (value if value.tzinfo else value.astimezone()).isoformat()


def wait_for(fetch: Callable[[], dict], *, describe: str, progress: Callable[[dict], tuple[int, int]],
             finished: Callable[[dict], bool], timeout: float, interval: float = 0.5) -> dict:
    """Poll `fetch` with a progress bar until `finished`; returns the last answer (raises CliError on timeout)."""
    end = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        state = fetch()
        done, total = progress(state)
        task = bar.add_task(describe, total=max(total, 1), completed=done)
        while not finished(state):
            if time.monotonic() > end:
                raise CliError(f"Still not finished after {timeout:.0f} s; the work goes on in the queue. "
                               "Run the command again later (or `gradeflow queue`) to see it.")
            time.sleep(interval)
            state = fetch()
            done, total = progress(state)
            bar.update(task, completed=done, total=max(total, 1))
    return state
