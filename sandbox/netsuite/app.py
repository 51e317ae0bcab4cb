"""The WSGI app: concurrency governance, TBA, routing and the record / SuiteQL handlers.

Order of work for every request: take a concurrency slot (or answer 429 at once), verify the
OAuth signature (or answer 401), then route. Refused requests do nothing else, and count in
`calls` as "throttled" / "unauthorized"; routed ones count as "<METHOD> <recordType>" or
"POST suiteql".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from sandbox.netsuite import query
from sandbox.netsuite.errors import (
    ERROR_CONTENT_TYPE,
    NetSuiteError,
    invalid_content,
    invalid_parameter,
    method_not_allowed,
    nonexistent,
    request_limit,
    throttled,
)
from sandbox.netsuite.paging import page_of
from sandbox.netsuite.records import Records
from sandbox.netsuite.render import RECORD_PATH, Renderer
from sandbox.netsuite.schema import RecordType, record_type
from sandbox.netsuite.wire import dumps, loads

if TYPE_CHECKING:
    from sandbox.netsuite.emulator import NetSuiteEmulator

logger = logging.getLogger(__name__)
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
GOVERNANCE_PATH = "/services/rest/system/v1/governanceLimits"
RECORD_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=singular-resource"
COLLECTION_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=collection"
_TRUE_FALSE = {"true": True, "false": False}
_PREFER_TRANSIENT = re.compile(r"(^|[\s,;])transient($|[\s,;=])", re.IGNORECASE)


class Reply:
    def __init__(self, status: int, body: Any = None, content_type: str = RECORD_CONTENT_TYPE,
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


class NetSuiteApp:
    def __init__(self, emulator: NetSuiteEmulator) -> None:
        self.emu = emulator
        self.records = Records(emulator.store)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            reply = self.governed(request)
        except NetSuiteError as exc:
            reply = Reply(exc.status, exc.body(), ERROR_CONTENT_TYPE)
        except Exception as exc:  # an emulator bug: answer as NetSuite would, and say what broke
            logger.exception("NetSuite emulator failed on %s %s", request.method, request.path)
            failure = NetSuiteError("UNEXPECTED_ERROR", f"An unexpected error occurred: {exc!r}",
                                    status=500)
            reply = Reply(500, failure.body(), ERROR_CONTENT_TYPE)
        if reply.status == 204:
            response = Response(status=204, headers=reply.headers)
            del response.headers["Content-Type"]
        else:
            response = Response(dumps(reply.body), status=reply.status, headers=reply.headers,
                                content_type=reply.content_type)
        return response(environ, start_response)

    def governed(self, request: Request) -> Reply:
        if not self.emu.gate.enter():
            self.emu.count("throttled")
            raise request_limit() if self.emu.limit_refusal == "SSS" else throttled()
        try:
            # A client that died while sending leaves a body shorter than its Content-Length:
            # NetSuite never acts on half a request (an empty one would read as no body at all).
            declared = request.content_length or 0
            if declared and len(request.get_data(cache=True)) < declared:
                self.emu.count("incomplete")
                raise invalid_content("Invalid content in the request body: it ended early.")
            try:
                self.emu.auth.verify(
                    request.method,
                    request.headers.get("Host", ""),
                    _raw_path(request),
                    request.environ.get("QUERY_STRING", ""),
                    request.headers.get("Authorization", ""),
                )
            except NetSuiteError:
                self.emu.count("unauthorized")
                raise
            return self.route(request)
        finally:
            self.emu.gate.leave()

    # -- routing -------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        path = _raw_path(request)
        if unquote(path).rstrip("/") == SUITEQL_PATH:
            self.emu.count(f"{request.method} suiteql")
            if request.method != "POST":
                raise method_not_allowed(request.method, ["POST"])
            return self.suiteql(request)
        if unquote(path).rstrip("/") == GOVERNANCE_PATH:
            self.emu.count(f"{request.method} governanceLimits")
            if request.method != "GET":
                raise method_not_allowed(request.method, ["GET"])
            return Reply(200, self.emu.governance_limits())
        prefix = RECORD_PATH + "/"
        if not path.startswith(prefix):
            self.emu.count("not found")
            raise nonexistent(f"The requested resource {unquote(path)} does not exist.")
        # Split before decoding, so an external id may contain an encoded slash (%2F).
        parts = [unquote(p) for p in path[len(prefix):].rstrip("/").split("/")]
        rtype = record_type(parts[0])
        if rtype is not None and len(parts) == 4 and parts[2] == "!transform":
            self.emu.count(f"{request.method} {rtype.name} transform")
            return self.transform(request, rtype, parts[1], parts[3])
        if rtype is None or not parts[0] or len(parts) > 3:
            self.emu.count("not found")
            raise nonexistent(
                f"Record type '{parts[0]}' does not exist." if rtype is None
                else f"The requested resource {unquote(path)} does not exist."
            )
        self.emu.count(f"{request.method} {rtype.name}")
        if len(parts) == 1:
            return self.collection(request, rtype)
        if len(parts) == 2:
            return self.instance(request, rtype, parts[1])
        return self.sublist(request, rtype, parts[1], parts[2])

    def collection(self, request: Request, rtype: RecordType) -> Reply:
        if request.method == "GET":
            return self.list_records(request, rtype)
        if request.method == "POST" and rtype.writable:
            _write_params(request, rtype)
            record_id = self.records.create(rtype, _body(request))
            return self.saved(rtype, record_id)
        raise method_not_allowed(request.method, ["GET", "POST"] if rtype.writable else ["GET"])

    def instance(self, request: Request, rtype: RecordType, key: str) -> Reply:
        if request.method == "GET":
            return self.get_record(request, rtype, key)
        if rtype.writable and request.method == "PATCH":
            _write_params(request, rtype)
            return self.saved(rtype, self.records.update(rtype, key, _body(request)), 204)
        if rtype.writable and request.method == "PUT" and key.startswith("eid:"):
            _write_params(request, rtype)
            return self.saved(rtype, self.records.upsert(rtype, key[4:], _body(request)))
        allowed = ["GET"]
        if rtype.writable:
            allowed += ["PATCH", "PUT"] if key.startswith("eid:") else ["PATCH"]
        raise method_not_allowed(request.method, allowed)

    def transform(self, request: Request, rtype: RecordType, key: str, target: str) -> Reply:
        """`POST /record/v1/{type}/{id}/!transform/{targetType}`: answered 204 with the new
        record's Location, like a create."""
        if request.method != "POST":
            raise method_not_allowed(request.method, ["POST"])
        to = record_type(target)
        if to is None:
            raise nonexistent(f"Record type '{target}' does not exist.")
        _only_params(request, ())
        body = _body(request) if request.get_data(as_text=True).strip() else None
        return self.saved(to, self.records.transform(rtype, key, to, body))

    def saved(self, rtype: RecordType, record_id: str, status: int = 204) -> Reply:
        href = f"{self.emu.url}{RECORD_PATH}/{rtype.name}/{record_id}"
        return Reply(status, headers={"Location": href})

    # -- record reads --------------------------------------------------------------------------

    def renderer(self) -> Renderer:
        return Renderer(self.emu.store, self.emu.url)

    def get_record(self, request: Request, rtype: RecordType, key: str) -> Reply:
        _only_params(request, ("expandSubResources",))
        raw = request.args.get("expandSubResources", "false")
        expand = _TRUE_FALSE.get(raw.lower())
        if expand is None:
            raise invalid_parameter(
                f"Invalid value for the query parameter expandSubResources: {raw}. Use true "
                "or false."
            )
        with self.emu.store.lock:
            record = self.records.find(rtype, key)
            return Reply(200, self.renderer().record(rtype, record, expand=expand))

    def sublist(self, request: Request, rtype: RecordType, key: str, name: str) -> Reply:
        if request.method != "GET":
            raise method_not_allowed(request.method, ["GET"])
        f = rtype.field(name)
        if f is None or f.kind not in ("lines", "applies"):
            raise nonexistent(f"The sublist {name} does not exist on record type {rtype.name}.")
        _only_params(request, ())
        with self.emu.store.lock:
            record = self.records.find(rtype, key)
            body = self.renderer().sublist(rtype, record, name)
        return Reply(200, body, COLLECTION_CONTENT_TYPE)

    def list_records(self, request: Request, rtype: RecordType) -> Reply:
        _only_params(request, ("limit", "offset"))
        page = page_of(request.args, aligned=False)
        base = f"{self.emu.url}{RECORD_PATH}/{rtype.name}"
        renderer = self.renderer()
        with self.emu.store.lock:
            ids = [str(r["id"]) for r in self.emu.store.all(rtype)]
        items = [{"links": renderer.links(f"{base}/{i}"), "id": i} for i in ids]
        return Reply(200, page.body(base, items), COLLECTION_CONTENT_TYPE)

    # -- SuiteQL -------------------------------------------------------------------------------

    def suiteql(self, request: Request) -> Reply:
        if not _PREFER_TRANSIENT.search(request.headers.get("Prefer", "")):
            raise invalid_parameter(
                "The request header Prefer: transient is required to run a SuiteQL query."
            )
        _only_params(request, ("limit", "offset"))
        page = page_of(request.args, aligned=True)
        body = _body(request)
        if not isinstance(body, dict) or set(body) != {"q"}:
            raise invalid_content(
                'Invalid content in the request body: expected an object {"q": "<query>"}.'
            )
        if not isinstance(body["q"], str):
            raise invalid_parameter("Invalid search query: q must be a string.")
        with self.emu.store.lock:
            items = query.run(self.emu.store, body["q"])
        return Reply(200, page.body(f"{self.emu.url}{SUITEQL_PATH}", items),
                     COLLECTION_CONTENT_TYPE)


def _raw_path(request: Request) -> str:
    """The path exactly as the client sent it, percent-encoding and all, for the signature."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    return str(request.environ.get("SCRIPT_NAME", "")) + str(request.environ.get("PATH_INFO", ""))


def _body(request: Request) -> Any:
    text = request.get_data(as_text=True)
    if not text.strip():
        raise invalid_content("Invalid content in the request body: the body is empty.")
    return loads(text)


def _only_params(request: Request, allowed: tuple[str, ...]) -> None:
    for name in request.args:
        if name not in allowed:
            raise invalid_parameter(
                f"Invalid query parameter: {name}. Allowed here: "
                f"{', '.join(allowed) or 'none'}."
            )


def _write_params(request: Request, rtype: RecordType) -> None:
    """Writes take `replace=<sublist>,...`; a sublist given in a body always replaces its
    lines here, so the parameter is checked but changes nothing."""
    _only_params(request, ("replace",))
    for name in request.args.get("replace", "").split(","):
        f = rtype.field(name.strip())
        if name.strip() and (f is None or f.kind not in ("lines", "applies")):
            raise invalid_parameter(
                f"Invalid value for the query parameter replace: {name}. It must name a sublist "
                f"of record type {rtype.name}."
            )
