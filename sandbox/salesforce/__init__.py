"""A Salesforce REST API emulator for closebot's demo, tests and benchmarks.

It speaks HTTPS only (simple-salesforce forces https) with a throwaway CA; connect with
`Salesforce(instance_url=emu.url, session_id=emu.token, version=emu.api_version,
session=PinnedCASession(str(emu.ca_bundle)))`.
"""

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import SalesforceError

__all__ = ["SalesforceEmulator", "SalesforceError", "main"]


def main(argv: list[str] | None = None) -> None:
    from sandbox.salesforce.__main__ import main as run

    run(argv)
