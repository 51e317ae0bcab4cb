"""The WSGI app: routing under `/services/data/vXX.X/`, auth, API budget and query cursors.

Every authenticated call to a versioned resource counts against the daily budget (failed calls
too, as on Salesforce) and the answer carries `Sforce-Limit-Info: api-usage=used/max`, which
simple-salesforce parses into `sf.api_usage`. Once the budget is spent the org answers 403
REQUEST_LIMIT_EXCEEDED without doing anything.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox.salesforce import composite
from sandbox.salesforce.bind import bind
from sandbox.salesforce.errors import SalesforceError, not_found
from sandbox.salesforce.evaluate import Evaluator
from sandbox.salesforce.values import dumps

if TYPE_CHECKING:
    from sandbox.salesforce.emulator import SalesforceEmulator

_VERSIONED = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_MAX_CURSORS = 500
Handler = Callable[[Request, str, list[str]], tuple[int, Any]]


class Cursors:
    """Query results snapshotted at query time, served page by page to queryMore."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, records: list[dict[str, Any]]) -> str:
        locator = "01g" + secrets.token_hex(8)[:12].upper() + "AAA"
        with self._lock:
            self._items[locator] = records
            while len(self._items) > _MAX_CURSORS:
                self._items.popitem(last=False)
        return locator

    def get(self, locator: str) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._items.get(locator)


class SalesforceApp:
    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emu = emulator
        self.cursors = Cursors()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        headers: dict[str, str] = {}
        try:
            status, body = self.dispatch(request, headers)
        except SalesforceError as exc:
            status, body = exc.status, exc.body()
        if status == 204:
            response = Response(status=204, headers=headers)
        else:
            response = Response(dumps(body), status=status, headers=headers,
                                content_type="application/json;charset=UTF-8")
        return response(environ, start_response)

    def dispatch(self, request: Request, headers: dict[str, str]) -> tuple[int, Any]:
        path = request.path
        if path.rstrip("/") == "/services/data":
            return 200, self.versions()
        if path.rstrip("/") == "/services/oauth2/token":
            # A login, not an API call: it spends none of the daily budget.
            self.emu.count("oauth2.token")
            auth = request.authorization
            basic = (auth.username or "", auth.password or "") if auth and auth.type == "basic" \
                else None
            return self.emu.oauth.token(request.method, request.form.to_dict(), basic)
        match = _VERSIONED.match(path)
        if not match:
            raise not_found()
        version, rest = match.group(1), (match.group(2) or "/").strip("/")
        self.authenticate(request)
        headers["Sforce-Limit-Info"] = self.emu.spend_api_call()
        parts = rest.split("/") if rest else []
        kind, handler = self.route(request.method, parts)
        self.emu.count(kind)
        return handler(request, version, parts)

    def authenticate(self, request: Request) -> None:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self.emu.oauth.valid(token.strip()):
            raise SalesforceError(
                "INVALID_SESSION_ID", "Session expired or invalid", status=401
            )

    def route(self, method: str, parts: list[str]) -> tuple[str, Handler]:
        head = parts[0] if parts else ""
        n = len(parts)
        table: dict[tuple[str, str, int], tuple[str, Handler]] = {
            ("GET", "", 0): ("resources", self.resources),
            ("GET", "limits", 1): ("limits", self.limits),
            ("GET", "query", 1): ("query", self.query),
            ("GET", "query", 2): ("queryMore", self.query_more),
            ("GET", "sobjects", 1): ("describe", self.describe_global),
            ("GET", "sobjects", 2): ("describe", self.sobject_info),
            ("POST", "sobjects", 2): ("sobject.create", self.create),
            ("GET", "sobjects", 3): ("sobject.get", self.get),
            ("PATCH", "sobjects", 3): ("sobject.update", self.update),
            ("DELETE", "sobjects", 3): ("sobject.delete", self.delete),
            ("POST", "composite", 2): ("composite.create", self.collection),
            ("PATCH", "composite", 2): ("composite.update", self.collection),
        }
        if head == "sobjects" and n == 3 and parts[2].lower() == "describe":
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            return "describe", self.describe
        if head == "composite" and (n != 2 or parts[1] != "sobjects"):
            raise not_found()
        found = table.get((method, head, n))
        if found is None:
            allowed = sorted(m for (m, h, k) in table if h == head and k == n)
            if allowed:
                raise _method_not_allowed(method, ",".join([*allowed, "HEAD"]))
            raise not_found()
        return found

    # -- handlers ----------------------------------------------------------------------------

    def versions(self) -> list[dict[str, str]]:
        return [
            {"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
            for v in ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
        ]

    def resources(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "limits", "composite")
        return 200, {name: f"{base}/{name}" for name in names}

    def limits(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        used, limit = self.emu.api_usage()
        return 200, {
            "DailyApiRequests": {"Max": limit, "Remaining": limit - used},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
        }

    def query(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        text = request.args.get("q", "")
        bound = bind(self.emu.schema, text)
        with self.emu.store.lock:
            total, records = Evaluator(self.emu.store, version).run(bound)
        return 200, self.page(version, total, records, self.cursors.add(records), 0)

    def query_more(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        locator, _, offset = parts[1].rpartition("-")
        records = self.cursors.get(locator)
        if records is None or not offset.isdigit() or int(offset) > len(records):
            raise SalesforceError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self.page(version, len(records), records, locator, int(offset))

    def page(
        self, version: str, total: int, records: list[dict[str, Any]], locator: str, start: int
    ) -> dict[str, Any]:
        end = start + self.emu.page_size
        body: dict[str, Any] = {"totalSize": total, "done": end >= len(records),
                                "records": records[start:end]}
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        return body

    def describe_global(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        skip = ("fields", "childRelationships")
        objs = [
            {k: v for k, v in o.describe(version).items() if k not in skip}
            for o in self.emu.schema.objects()
        ]
        return 200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs}

    def sobject_info(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        obj = self.obj(parts[1])
        info = {k: v for k, v in obj.describe(version).items() if k != "fields"}
        return 200, {"objectDescribe": info, "recentItems": []}

    def describe(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        return 200, self.obj(parts[1]).describe(version)

    def create(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        obj = self.obj(parts[1])
        record_id = self.emu.create_record(obj, _json_object(request))
        return 201, {"id": record_id, "success": True, "errors": []}

    def get(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        obj = self.obj(parts[1])
        names = None
        if "fields" in request.args:
            names = [n.strip() for n in request.args["fields"].split(",") if n.strip()]
            for name in names:
                if obj.field(name) is None:
                    raise SalesforceError(
                        "INVALID_FIELD",
                        f"No such column '{name}' on entity '{obj.name}'. If you are attempting "
                        "to use a custom field, be sure to append the '__c' after the custom "
                        "field name. Please reference your WSDL or the describe call for the "
                        "appropriate names.",
                    )
        with self.emu.store.lock:
            record = self.emu.store.require(obj, parts[2])
            return 200, Evaluator(self.emu.store, version).record(obj, record, names)

    def update(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        obj = self.obj(parts[1])
        self.emu.update_record(obj, parts[2], _json_object(request))
        return 204, None

    def delete(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        obj = self.obj(parts[1])
        with self.emu.store.transaction():
            self.emu.store.delete(obj, parts[2])
        return 204, None

    def collection(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        body = _json_body(request)
        return 200, composite.save(self.emu.store, body, updating=request.method == "PATCH")

    def obj(self, name: str) -> Any:
        obj = self.emu.schema.object(name)
        if obj is None:
            raise not_found()
        return obj


def _method_not_allowed(method: str, allowed: str) -> SalesforceError:
    return SalesforceError(
        "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
        status=405,
    )


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.get_data(as_text=True) or "null", parse_float=Decimal)
    except ValueError as exc:
        raise SalesforceError("JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None


def _json_object(request: Request) -> dict[str, Any]:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise SalesforceError(
            "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object value"
        )
    return body
