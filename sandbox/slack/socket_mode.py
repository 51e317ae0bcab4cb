"""Slack's Socket Mode, locally: a WebSocket server that delivers envelopes and collects acks.

The wire protocol as Slack documents it: `apps.connections.open` (called with the app-level
token) returns a `wss://` URL; on connect the server sends `{"type": "hello"}`; each event,
interaction or slash command arrives as an envelope `{"envelope_id", "type", "payload",
"accepts_response_payload"}` and the app answers with `{"envelope_id", "payload"?}` within 3 s.
slack_sdk speaks plain `ws://` to any port but 443, which is what this server offers.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from sandbox.lifecycle import Startable


class SocketModeServer(Startable):
    def __init__(self, *, app_id: str = "A0CLOSEBOT") -> None:
        self.app_id = app_id
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.connected = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("socket mode server is not running")
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"

    def start(self) -> SocketModeServer:
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="socket-mode")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def deliver(
        self, kind: str, payload: dict[str, Any], *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Send one envelope to the connected app and return its acknowledgement."""
        if not self.connected.wait(timeout):
            raise TimeoutError("no app is connected over Socket Mode")
        envelope_id = str(uuid.uuid4())
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._acks[envelope_id] = answers
            connection = self._connections[-1]
        connection.send(json.dumps({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
            "retry_reason": "",
        }))
        try:
            return answers.get(timeout=timeout)
        finally:
            with self._lock:
                self._acks.pop(envelope_id, None)

    def _handle(self, connection: ServerConnection) -> None:
        with self._lock:
            self._connections.append(connection)
        connection.send(json.dumps({
            "type": "hello", "num_connections": len(self._connections),
            "debug_info": {"host": "closebot-sandbox"},
            "connection_info": {"app_id": self.app_id},
        }))
        self.connected.set()
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._lock:
                    waiting = self._acks.get(str(message.get("envelope_id")))
                if waiting is not None:
                    waiting.put(message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._connections.remove(connection)
                if not self._connections:
                    self.connected.clear()
