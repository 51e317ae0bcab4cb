"""A running Salesforce emulator reached over its REST API, as another process sees it: what
`closebot sandbox seed` writes a book through (`BookSeeder` takes it like the in-process
emulator). Records are created one sObject call at a time, as a person's script would."""

from __future__ import annotations

import ssl
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.exact_json import dumps

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class NotLocal(ValueError):
    """The org is not on this machine: seeding sample deals there would pollute a real org."""


class SeedFailed(RuntimeError):
    """The org refused a record."""


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


class RestOrg:
    def __init__(self, instance_url: str, access_token: str, *, api_version: str = "59.0",
                 ca_bundle: str | None = None, timeout: float = 30.0) -> None:
        if not is_local(instance_url):
            raise NotLocal(f"{instance_url} is not a local emulator")
        verify: ssl.SSLContext | bool = (ssl.create_default_context(cafile=ca_bundle)
                                         if ca_bundle else True)
        self.http = httpx.Client(
            base_url=f"{instance_url.rstrip('/')}/services/data/v{api_version}",
            headers={"Authorization": f"Bearer {access_token}"}, verify=verify, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    @cached_property
    def standard_pricebook_id(self) -> str:
        found = self._call("GET", "/query/", params={
            "q": "SELECT Id FROM Pricebook2 WHERE IsStandard = true LIMIT 1"})
        return str(found["records"][0]["Id"])

    def seed(self, sobject: str, fields: dict[str, Any]) -> str:
        created = self._call("POST", f"/sobjects/{sobject}/", content=dumps(fields),
                             headers={"Content-Type": "application/json"})
        return str(created["id"])

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                errors = response.json()
                detail = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in errors)
            except (ValueError, AttributeError, TypeError):
                detail = response.text[:200]
            raise SeedFailed(f"Salesforce answered {response.status_code} to {path}: {detail}")
        return response.json()
