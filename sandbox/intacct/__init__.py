"""A Sage Intacct REST API emulator (`/ia/api/v1`: OAuth 2.0, objects, query service) for
closebot. HTTPS only, with a throwaway CA; `emu.env()` gives the settings a client needs."""

from sandbox.intacct.emulator import IntacctEmulator
from sandbox.intacct.errors import IntacctError

__all__ = ["IntacctEmulator", "IntacctError"]
