"""Serve a WSGI app on 127.0.0.1 from a background thread, over HTTP or TLS.

Every local stand-in (Salesforce, Stripe, the Slack Web API) runs through this one helper so they
share start-up, shutdown and the throwaway certificate authority. cheroot keeps HTTP/1.1
connections alive as the real services do (werkzeug's development server closes every one).
"""

from __future__ import annotations

import logging
import ssl
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import trustme
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from sandbox.lifecycle import Startable

logging.getLogger("cheroot").setLevel(logging.WARNING)

WsgiApp = Callable[..., Any]


class LocalCA:
    """A certificate authority made at start-up; its bundle is what clients are told to trust."""

    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="closebot sandbox")
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self._dir = tempfile.TemporaryDirectory(prefix="closebot-ca-")
        self.bundle_path = Path(self._dir.name) / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.bundle_path))
        self.cert_path = Path(self._dir.name) / "server.pem"
        self._cert.private_key_and_cert_chain_pem.write_to_path(str(self.cert_path))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(ctx)
        return ctx

    def close(self) -> None:
        self._dir.cleanup()


class ServedApp(Startable):
    """A WSGI app listening on 127.0.0.1 (port 0 picks a free one) until `stop()`."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        port: int = 0,
        tls: LocalCA | None = None,
        host: str = "127.0.0.1",
        threads: int = 16,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._tls = tls
        self._threads = threads
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server is not running")
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def start(self) -> ServedApp:
        # A deep accept queue: replicas and chaos runs open many connections at once, and
        # cheroot's default of 5 leaves the rest waiting on SYN retries.
        server = wsgi.Server((self._host, self._port), self._app, numthreads=self._threads,
                             server_name="closebot-sandbox", timeout=30, request_queue_size=128)
        if self._tls is not None:
            adapter = BuiltinSSLAdapter(str(self._tls.cert_path), str(self._tls.cert_path))
            adapter.context = self._tls.server_context()
            server.ssl_adapter = adapter
        # How often the accept loop looks up from waiting: `stop()` waits for it, and cheroot's
        # half a second, three emulators a stack, was most of a short test's run.
        server.expiration_interval = 0.05
        server.prepare()
        self._server = server
        self._thread = threading.Thread(target=server.serve, name=f"sandbox:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None




class HttpsEndpoint(Startable):
    """An emulator served over TLS with a CA of its own, made at start: the lifecycle, the URL
    and the CA bundle its clients are told to trust. Subclasses give the WSGI app."""

    def __init__(self, *, port: int = 0) -> None:
        self._port = port
        self._ca: LocalCA | None = None
        self._served: ServedApp | None = None

    def wsgi_app(self) -> WsgiApp:
        raise NotImplementedError

    def start(self) -> Self:
        self._ca = LocalCA()
        self._served = ServedApp(self.wsgi_app(), port=self._port, tls=self._ca).start()
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
        if self._ca is not None:
            self._ca.close()
            self._ca = None

    @property
    def url(self) -> str:
        if self._served is None:
            raise RuntimeError("emulator is not running; call start()")
        return self._served.url

    @property
    def ca_bundle(self) -> Path:
        if self._ca is None:
            raise RuntimeError("emulator is not running; call start()")
        return self._ca.bundle_path
