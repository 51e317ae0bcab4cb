"""The fault proxy in front of a tiny counting upstream, observed through real HTTP clients."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from sandbox.faults import FaultPlan, FaultProxy
from sandbox.server import LocalCA, ServedApp


class CountingApp:
    """Echoes what it received; counts requests so a test can tell what reached the upstream."""

    def __init__(self) -> None:
        self.count = 0
        self.seen: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with self._lock:
            self.count += 1
            self.seen.append(
                {
                    "method": environ["REQUEST_METHOD"],
                    "path": environ["PATH_INFO"],
                    "query": environ["QUERY_STRING"],
                    "host": environ["HTTP_HOST"],
                    "x_test": environ.get("HTTP_X_TEST"),
                    "body": body,
                }
            )
        if environ["PATH_INFO"] == "/stream":
            start_response("201 Created", [("Content-Type", "text/plain"), ("X-Up", "yes")])
            return (f"part{i};".encode() for i in range(5))
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Up", "yes")])
        return [b"echo:" + body]

    def wait_for(self, n: int, timeout: float = 3.0) -> int:
        deadline = time.monotonic() + timeout
        while self.count < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.count


@pytest.fixture
def upstream() -> Iterator[tuple[CountingApp, ServedApp]]:
    app = CountingApp()
    with ServedApp(app) as served:
        yield app, served


@pytest.fixture(scope="module")
def ca() -> Iterator[LocalCA]:
    authority = LocalCA()
    yield authority
    authority.close()


def only(kind: str, **kw: Any) -> FaultPlan:
    return FaultPlan(rate=1.0, kinds=(kind,), **kw)


def test_clean_forwarding_keeps_method_path_query_headers_and_body(upstream) -> None:
    app, served = upstream
    with FaultProxy(served.url, FaultPlan()) as proxy, httpx.Client() as client:
        r = client.put(proxy.url + "/v1/x?a=1&b=2", content=b"payload", headers={"X-Test": "t"})
        streamed = client.get(proxy.url + "/stream")
    assert (r.status_code, r.text, r.headers["x-up"]) == (200, "echo:payload", "yes")
    seen = app.seen[0]
    assert (seen["method"], seen["path"], seen["query"]) == ("PUT", "/v1/x", "a=1&b=2")
    assert seen["host"] == served.url.removeprefix("http://")
    assert seen["x_test"] == "t"
    assert (streamed.status_code, streamed.text) == (201, "part0;part1;part2;part3;part4;")
    assert proxy.forwarded == 2
    assert proxy.injected == {}


@pytest.mark.parametrize("kind", ["429", "500", "502", "503"])
def test_status_faults_answer_without_forwarding(upstream, kind: str) -> None:
    app, served = upstream
    with FaultProxy(served.url, only(kind, retry_after=7)) as proxy:
        r = httpx.post(proxy.url + "/v1/charges", content=b"x")
    assert r.status_code == int(kind)
    assert r.headers["x-fault-injected"] == kind
    assert r.headers.get("retry-after") == ("7" if kind == "429" else None)
    assert app.count == 0
    assert proxy.injected == {kind: 1}
    assert proxy.forwarded == 0


def test_reset_is_a_connection_error_and_never_reaches_upstream(upstream) -> None:
    app, served = upstream
    with FaultProxy(served.url, only("reset")) as proxy, pytest.raises(httpx.ReadError):
        httpx.post(proxy.url + "/v1/charges", content=b"x")
    assert app.count == 0


def test_slow_times_the_client_out_but_still_forwards(upstream) -> None:
    app, served = upstream
    with FaultProxy(served.url, only("slow", slow_seconds=0.6)) as proxy:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(proxy.url + "/slow", timeout=0.2)
        assert app.wait_for(1) == 1
    assert proxy.injected == {"slow": 1}


def test_drop_response_reaches_upstream_but_client_sees_a_reset(upstream) -> None:
    app, served = upstream
    with FaultProxy(served.url, only("drop_response")) as proxy:
        with pytest.raises(httpx.ReadError):
            httpx.post(proxy.url + "/v1/charges", content=b"charge me once")
        assert proxy.forwarded == 1
    assert app.count == 1
    assert app.seen[0]["body"] == b"charge me once"


def _outcomes(url: str, plan: FaultPlan, n: int = 30) -> list[str]:
    outcomes = []
    with FaultProxy(url, plan) as proxy, httpx.Client() as client:
        for i in range(n):
            outcomes.append(str(client.get(f"{proxy.url}/r/{i}").status_code))
        assert [e[2] for e in proxy.events] == [o if o != "200" else "forward" for o in outcomes]
    return outcomes


def test_same_seed_gives_the_same_fault_sequence(upstream) -> None:
    _, served = upstream
    plan = FaultPlan(rate=0.5, seed=42, kinds=("429", "500", "503"))
    first = _outcomes(served.url, plan)
    assert first == _outcomes(served.url, plan)
    assert first != _outcomes(served.url, FaultPlan(rate=0.5, seed=7, kinds=("429", "500", "503")))
    assert {"200", "429", "500", "503"} <= set(first)


def test_only_paths_and_set_plan(upstream) -> None:
    app, served = upstream
    plan = only("503", only_paths=("/v1/charges",))
    with FaultProxy(served.url, plan) as proxy, httpx.Client() as client:
        assert client.get(proxy.url + "/v1/customers").status_code == 200
        assert client.get(proxy.url + "/v1/charges/ch_1").status_code == 503
        proxy.set_plan(FaultPlan(rate=0.0))
        assert client.get(proxy.url + "/v1/charges/ch_1").status_code == 200
    assert app.count == 2


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        FaultPlan(kinds=("teapot",))


def test_tls_termination_and_tls_upstream(ca: LocalCA) -> None:
    app = CountingApp()
    trust = ssl.create_default_context(cafile=str(ca.bundle_path))
    with (
        ServedApp(app, tls=ca) as served,
        FaultProxy(served.url, FaultPlan(), upstream_ca=str(ca.bundle_path), tls=ca) as proxy,
    ):
        assert proxy.url.startswith("https://")
        r = httpx.post(proxy.url + "/services/data", content=b"soql", verify=trust)
        # simple-salesforce speaks through requests, which verifies against a bundle path
        r2 = requests.get(proxy.url + "/services/data?q=1", verify=str(ca.bundle_path), timeout=5)
        proxy.set_plan(only("drop_response"))
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url + "/services/x", verify=str(ca.bundle_path), timeout=5)
    assert (r.status_code, r.text) == (200, "echo:soql")
    assert (r2.status_code, app.seen[1]["query"]) == (200, "q=1")
    assert app.count == 3


def test_unreachable_upstream_is_a_502_not_an_injected_fault() -> None:
    with FaultProxy("http://127.0.0.1:9", FaultPlan()) as proxy:
        r = httpx.get(proxy.url + "/anything")
    assert r.status_code == 502
    assert proxy.injected == {}
