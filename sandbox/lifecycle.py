"""`with` support for everything in the sandbox that starts and stops."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self


class Startable:
    """A local server or harness: `start()` returns self, `stop()` releases everything."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_until_interrupted() -> None:
    """Block until Ctrl-C (the emulators' `python -m` entry points)."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
