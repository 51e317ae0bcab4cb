"""A NetSuite REST web services emulator (record service and SuiteQL) for closebot.

It speaks HTTPS only, with a throwaway CA, and authenticates every request with OAuth 1.0a
Token-Based Authentication (HMAC-SHA256). `emu.env()` gives the settings a client needs.
"""

from sandbox.netsuite.emulator import NetSuiteEmulator
from sandbox.netsuite.errors import NetSuiteError

__all__ = ["NetSuiteEmulator", "NetSuiteError", "main"]


def main(argv: list[str] | None = None) -> None:
    from sandbox.netsuite.__main__ import main as run

    run(argv)
