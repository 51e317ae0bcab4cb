"""The WSGI app: the token endpoint, then for every other request a concurrency slot (or 429 at
once), the bearer token (or 401), and the route: `/objects/{module}/{object}[/{key}]` and
`/services/core/query`. Calls count in `emu.calls` as "<METHOD> <object>", "query", "token",
"throttled" or "unauthorized"."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from sandbox.intacct import objects as o
from sandbox.intacct import query, render
from sandbox.intacct.errors import (
    IntacctError,
    invalid,
    method_not_allowed,
    not_found,
    too_many_requests,
)
from sandbox.intacct.oauth import TokenRefused

if TYPE_CHECKING:
    from sandbox.intacct.emulator import IntacctEmulator

logger = logging.getLogger(__name__)
API = "/ia/api/v1"


class IntacctApp:
    def __init__(self, emulator: IntacctEmulator) -> None:
        self.emu = emulator

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        request = Request(environ)
        headers: dict[str, str] = {}
        try:
            status, body = self.handle(request)
        except TokenRefused as exc:
            status, body = exc.status, exc.payload
        except IntacctError as exc:
            status, body = exc.status, exc.body()
            if exc.status == 429:
                headers["Retry-After"] = "1"
        except Exception as exc:  # an emulator bug: answer as Sage would, and say what broke
            logger.exception("Intacct emulator failed on %s %s", request.method, request.path)
            status, body = 500, IntacctError("internalError", repr(exc), status=500).body()
        response = Response(json.dumps(body), status=status, headers=headers,
                            content_type="application/json")
        return response(environ, start_response)

    def handle(self, request: Request) -> tuple[int, Any]:
        path = unquote(request.path).rstrip("/")
        if path == f"{API}/oauth2/token":
            self.emu.count("token")
            if request.method != "POST":
                raise method_not_allowed(request.method)
            form = dict(request.form) if request.form else _json(request)
            return 200, self.emu.tokens.grant({k: str(v) for k, v in form.items()})
        if not self.emu.gate.enter():
            self.emu.count("throttled")
            raise too_many_requests()
        try:
            try:
                self.emu.tokens.verify(request.headers.get("Authorization", ""))
            except IntacctError:
                self.emu.count("unauthorized")
                raise
            return self.route(request, path)
        finally:
            self.emu.gate.leave()

    def route(self, request: Request, path: str) -> tuple[int, Any]:
        entity = request.headers.get(ENTITY_HEADER)
        if entity is not None and entity not in self.emu.entities:
            raise invalid(f"The entity {entity[:40]} does not exist in this company or the "
                          "user has no access to it", field=ENTITY_HEADER)
        if path == f"{API}/services/core/query":
            self.emu.count("query")
            if request.method != "POST":
                raise method_not_allowed(request.method)
            return 200, query.run(self.emu.store, _json(request), entity=entity)
        prefix = f"{API}/objects/"
        rest = path[len(prefix):] if path.startswith(prefix) else ""
        obj, key = (rest, None) if rest in o.OBJECTS else (rest.rpartition("/")[0],
                                                           rest.rpartition("/")[2])
        if obj not in o.OBJECTS:
            self.emu.count("not found")
            raise not_found(f"The resource {path} does not exist")
        self.emu.count(f"{request.method} {obj}")
        store = self.emu.store
        if key is None and request.method == "POST":
            created = store.create(obj, _json(request))
            if entity is not None:
                created["entity"] = {"id": entity}
            return 201, {"ia::result": {"key": created["key"], "id": created["id"],
                                        "href": o.href(obj, created["key"])},
                         "ia::meta": {"totalCount": 1, "totalSuccess": 1, "totalError": 0}}
        if key is not None and request.method == "PATCH":
            updated = store.update(obj, key, _json(request))
            return 200, {"ia::result": {"key": updated["key"], "id": updated["id"],
                                        "href": o.href(obj, updated["key"])},
                         "ia::meta": {"totalCount": 1, "totalSuccess": 1, "totalError": 0}}
        if request.method != "GET":
            raise method_not_allowed(request.method)
        with store.lock:
            if key is None:
                rows = list(store.rows[obj].values())[:100]
                return 200, {"ia::result": [{"key": r["key"], "id": r["id"],
                                             "href": o.href(obj, r["key"])} for r in rows],
                             "ia::meta": {"totalCount": len(store.rows[obj]), "start": 1,
                                          "pageSize": 100}}
            return 200, {"ia::result": render.record(store, obj, store.find(obj, key)),
                         "ia::meta": {"totalCount": 1}}


ENTITY_HEADER = "X-IA-API-Param-Entity"


def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
    except ValueError as exc:
        raise invalid(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    return body
