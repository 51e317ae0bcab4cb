"""A progress bar for long command-line runs: rich on a terminal, nothing anywhere else (pipes,
files, `--json`), so machine output stays clean."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Steps(Protocol):
    """Phases of a run, each counting units of work (deals, work items)."""

    def phase(self, label: str, *, unit: str, total: int | None = None) -> None: ...

    def advance(self, done: int, *, total: int | None = None) -> None: ...

    def finish(self) -> None: ...


class Quiet:
    def phase(self, label: str, *, unit: str, total: int | None = None) -> None:
        pass

    def advance(self, done: int, *, total: int | None = None) -> None:
        pass

    def finish(self) -> None:
        pass


class Bar:
    """One line per phase; the finished ones stay on screen as a record of the run."""

    def __init__(self) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TextColumn("{task.fields[unit]}"), TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task: TaskID | None = None

    def __enter__(self) -> Bar:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.progress.stop()

    def phase(self, label: str, *, unit: str, total: int | None = None) -> None:
        self.finish()
        self.task = self.progress.add_task(label, total=total, unit=unit)

    def advance(self, done: int, *, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=done, total=total)

    def done(self, label: str, count: int) -> None:
        """A phase that reports only when it is over (the audit's reads): shown complete."""
        self.phase(label, unit="", total=count)
        self.advance(count, total=count)

    def finish(self) -> None:
        """Close the current phase at what it did (its total may have been unknown)."""
        if self.task is not None:
            done = self.progress.tasks[self.task].completed
            self.progress.update(self.task, total=done, completed=done)


def on_a_terminal(*, machine_output: bool) -> bool:
    """A bar only for a person at a terminal: not under `--json`, not into a pipe or a file."""
    return not machine_output and sys.stdout.isatty() and sys.stderr.isatty()
