"""HTTP sessions that trust exactly the CA bundle closebot is configured with."""

from __future__ import annotations

from typing import Any

import requests


class PinnedCASession(requests.Session):
    """A requests session whose `verify` setting wins over the environment.

    requests lets `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` from the environment replace a session's
    own `verify`, so a bundle configured for closebot (a corporate TLS proxy's CA, or the local
    sandbox's throwaway CA) would be silently ignored on machines that set those variables.
    """

    def __init__(self, ca_bundle: str | None, *, timeout: float = 30.0) -> None:
        super().__init__()
        self.default_timeout = timeout
        if ca_bundle:
            self.verify = ca_bundle

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        # simple-salesforce sets no timeout; a hung connection must not stall the worker forever.
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None or verify is True:
            settings["verify"] = self.verify
        return settings
