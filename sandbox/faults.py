"""A fault-injecting HTTP(S) proxy to put in front of any sandbox server.

Each request draws its fate from a seeded RNG, in arrival order under a lock, so a sequential run
is reproducible. The faults, and what a client sees:

- `"429"`: HTTP 429 with `Retry-After`; not forwarded.
- `"500"`, `"502"`, `"503"`: that status; not forwarded.
- `"reset"`: the request is read, then the socket is closed with `SO_LINGER` 0 so the kernel sends
  RST; the client gets a connection-reset error before any response. Not forwarded.
- `"slow"`: the proxy waits `slow_seconds`, then forwards; a client with a shorter read timeout
  times out, yet the upstream still sees the request after the delay.
- `"drop_response"`: forwarded and done upstream, then the client's connection is reset instead
  of getting the answer; a retry duplicates the work unless it carries an idempotency key.

Injected error bodies carry an `X-Fault-Injected` header and are shaped like the upstream's own
errors (`errors=`): Slack's `{"ok": false, "error": ...}` by default, or Stripe's
`{"error": {"type": "api_error", "message": ...}}`, which stripe-python needs to raise its own
error class rather than failing to read the body.

Built on `socketserver`, not werkzeug: werkzeug keeps a `makefile` reference that defers `close()`,
answers 500 when the app raises, and half-closes with FIN before any RST could be sent.

Callers routing simple-salesforce through the proxy must make the session's instance URL the
proxy's: a login answer names the upstream's own URL, and later calls would bypass the proxy.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import socketserver
import ssl
import struct
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from sandbox.lifecycle import Startable
from sandbox.server import LocalCA

FAULT_KINDS = ("429", "500", "502", "503", "reset", "slow", "drop_response")
# fmt: off
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
})
# fmt: on
ERROR_CODES = {
    "429": "ratelimited",
    "500": "internal_error",
    "502": "bad_gateway",
    "503": "service_unavailable",
}

ERROR_BODIES = {
    "slack": lambda code: json.dumps({"ok": False, "error": code}),
    "stripe": lambda code: json.dumps({"error": {"type": "api_error", "code": code,
                                                 "message": f"Injected fault: {code}"}}),
}


@dataclass
class FaultPlan:
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: int = 1
    slow_seconds: float = 5.0
    only_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections close after this
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return bytes(body)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self._read_body()
        kind, plan = proxy._decide(self.command, self.path)
        if kind in ERROR_CODES:
            self._send_fault(kind, plan)
        elif kind == "reset":
            self._reset()
        else:
            if kind == "slow":
                proxy._stopping.wait(plan.slow_seconds)
            self._forward(body, drop=kind == "drop_response")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _send_fault(self, kind: str, plan: FaultPlan) -> None:
        payload = ERROR_BODIES[self.server.proxy.errors](ERROR_CODES[kind]).encode()
        self.send_response(int(kind))
        if kind == "429":
            self.send_header("Retry-After", str(plan.retry_after))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Fault-Injected", kind)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() abort with RST. rfile holds a reference to the socket,
        # and the socket only really closes once that reference is gone.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.close_connection = True

    def _forward(self, body: bytes, *, drop: bool) -> None:
        proxy = self.server.proxy
        dropped = ("content-length",) if proxy.keep_host else ("host", "content-length")
        headers = [
            (k, v)
            for k, v in self.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in dropped
        ]
        request = proxy._client.build_request(
            self.command, proxy._upstream + self.path, headers=headers, content=body or None
        )
        try:
            upstream = proxy._client.send(request, stream=True)
        except httpx.HTTPError:
            self.send_error(502, "upstream unreachable")
            return
        try:
            with proxy._lock:
                proxy.forwarded += 1
            if drop:
                for _ in upstream.iter_raw():
                    pass
                self._reset()
                return
            self._relay(upstream)
        finally:
            upstream.close()

    def _relay(self, upstream: httpx.Response) -> None:
        self.send_response_only(upstream.status_code, upstream.reason_phrase)
        for key, value in upstream.headers.multi_items():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        no_body = self.command == "HEAD" or upstream.status_code in (204, 304)
        chunked = "content-length" not in upstream.headers and not no_body
        if chunked and self.request_version == "HTTP/1.0":
            chunked, self.close_connection = False, True
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            return
        for chunk in upstream.iter_raw():
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: FaultProxy, tls: ssl.SSLContext | None) -> None:
        self.proxy = proxy
        self._tls = tls
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn = request
        # Headers and body go out as separate writes; without NODELAY, Nagle plus the client's
        # delayed ACK adds ~40 ms to every response.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(request, server_side=True)
            self.proxy._connections.add(conn)
            _Handler(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass  # clients that hang up or fail the handshake are not the proxy's problem
        finally:
            self.proxy._connections.discard(conn)
            if conn is not request:
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class FaultProxy(Startable):
    """Forwards to `upstream_url`, injecting faults per `plan`; optionally terminates TLS."""

    def __init__(
        self,
        upstream_url: str,
        plan: FaultPlan,
        *,
        upstream_ca: str | None = None,
        tls: LocalCA | None = None,
        keep_host: bool = False,
        errors: str = "slack",
    ) -> None:
        if errors not in ERROR_BODIES:
            raise ValueError(f"unknown error style {errors!r}")
        self.errors = errors
        self._upstream = upstream_url.rstrip("/")
        self._upstream_ca = upstream_ca
        self._tls = tls
        # A signed request (OAuth 1.0a) covers the host the client called: forward it as sent.
        self.keep_host = keep_host
        self._client = self._make_client()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[Any] = set()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self.events: list[tuple[str, str, str]] = []
        self.set_plan(plan)

    def _make_client(self) -> httpx.Client:
        verify: ssl.SSLContext | bool = True
        if self._upstream_ca:
            verify = ssl.create_default_context(cafile=str(self._upstream_ca))
        client = httpx.Client(verify=verify, timeout=30.0, follow_redirects=False, trust_env=False)
        client.headers.clear()  # forward the caller's headers, not httpx's defaults
        return client

    def set_plan(self, plan: FaultPlan) -> None:
        """Swap the plan; the RNG restarts from the new plan's seed."""
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed)

    def _decide(self, method: str, target: str) -> tuple[str | None, FaultPlan]:
        path = target.split("?", 1)[0]
        with self._lock:
            plan = self._plan
            kind = None
            eligible = not plan.only_paths or path.startswith(plan.only_paths)
            if eligible and plan.rate > 0 and plan.kinds and self._rng.random() < plan.rate:
                kind = self._rng.choice(plan.kinds)
                self.injected[kind] += 1
            self.events.append((method, path, kind or "forward"))
            return kind, plan

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("proxy is not running")
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._stopping.clear()
        if self._client.is_closed:
            self._client = self._make_client()
        ctx = self._tls.server_context() if self._tls else None
        self._server = _ProxyServer(self, ctx)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fault-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes handler threads parked on keep-alive reads
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self._client.close()

