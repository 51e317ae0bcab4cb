"""The WSGI application: authentication, routing, parameters, idempotency, expansion, errors.

Wire details kept from Stripe: Bearer (or Basic, as `curl -u`) secret-key auth with 401 otherwise;
every response has a `Request-Id` (`req_…`) and the `Stripe-Version` used; POST bodies are form
encoded, GET parameters ride the query string; unknown URLs are 404 "Unrecognized request URL";
unexpected failures are 500 `api_error`. Calls are counted per endpoint template.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlencode

from werkzeug.wrappers import Request, Response

from sandbox.stripe.account import RestrictedKeys
from sandbox.stripe.cash_routes import CASH_ROUTES
from sandbox.stripe.idempotency import IdempotencyKeys
from sandbox.stripe.listing import expand
from sandbox.stripe.objects import random_token
from sandbox.stripe.routes import ROUTES, Route
from sandbox.stripe.state import RequestContext, State
from sandbox.stripe.wire import StripeError, decode_form, validate

log = logging.getLogger(__name__)
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
_COMPILED = [
    (route, re.compile("^" + re.sub(r":(\w+)", r"(?P<\1>[^/]+)", route.path) + "$"))
    for route in ROUTES + CASH_ROUTES
]


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key


class StripeApp:
    """Callable WSGI app over a `State`; thread-safe (one lock around each handler)."""

    def __init__(self, st: State, api_key: str) -> None:
        self.st, self.api_key = st, api_key
        self.idempotency = IdempotencyKeys()
        self.restricted = RestrictedKeys()
        self.calls: Counter[str] = Counter()
        self.failures: list[str] = []
        self._calls_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def _json(self, status: int, body: dict[str, Any], request_id: str,
              headers: dict[str, str] | None = None) -> Response:
        return self._raw(status, json.dumps(body, indent=2).encode(), request_id, headers)

    def _raw(self, status: int, body: bytes, request_id: str,
             headers: dict[str, str] | None = None) -> Response:
        resp = Response(body, status=status, content_type="application/json")
        resp.headers["Request-Id"] = request_id
        resp.headers["Stripe-Version"] = self.st.api_version
        for name, value in (headers or {}).items():
            resp.headers[name] = value
        return resp

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            key = base64.b64decode(header[6:]).decode(errors="replace").split(":", 1)[0]
        if not key:
            raise StripeError(
                401, "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.")
        if key != self.api_key and key not in self.restricted:
            raise StripeError(401, f"Invalid API Key provided: {_mask(key)}")
        return key

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route, pattern in _COMPILED:
            m = pattern.match(path)
            if m and route.method == method:
                return route, m.groupdict()
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                          "https://stripe.com/docs or we can help at https://support.stripe.com/.")

    def handle(self, request: Request) -> Response:
        request_id = f"req_{random_token(14)}"
        method, path = request.method.upper(), request.path
        try:
            route, ids = self._route(method, path)
            label = f"{method} {route.path}"
        except StripeError as err:
            route, ids, label = None, {}, f"{method} {path}"
            routing_error: StripeError | None = err
        else:
            routing_error = None
        with self._calls_lock:
            self.calls[label] += 1
        key = request.headers.get("Idempotency-Key") if method in ("POST", "DELETE") else None
        echo = {"Idempotency-Key": key} if key else {}
        try:
            api_key = self._authenticate(request)
            version = request.headers.get("Stripe-Version")
            if version and not _VERSION.match(version):
                raise StripeError(400, f"Invalid Stripe API version: {version}",
                                  param="Stripe-Version")
            if routing_error:
                raise routing_error
            assert route is not None
            self.restricted.check(api_key, method, route.path, _mask(api_key))
            raw = request.query_string.decode()
            if method != "GET":
                body = request.get_data(as_text=True)
                raw = "&".join(part for part in (raw, body) if part)
        except StripeError as err:
            return self._json(err.status, err.body(request_id), request_id, echo)
        assert route is not None
        if key:
            canonical = urlencode(sorted(parse_qsl(raw, keep_blank_values=True)))
            try:
                saved = self.idempotency.begin(self.api_key, key, (method, path, canonical),
                                               self.st.now, request_id)
            except StripeError as err:
                return self._json(err.status, err.body(request_id), request_id,
                                  {**echo, "Stripe-Should-Retry": str(err.status == 409).lower()})
            if saved is not None:
                assert saved.status is not None and saved.body is not None
                return self._raw(saved.status, saved.body, request_id,
                                 {**echo, "Idempotent-Replayed": "true",
                                  "Original-Request": saved.request_id})
        status, body, keep = self._execute(route, ids, raw, request_id, key)
        if key:
            self.idempotency.finish(self.api_key, key, status, body, keep=keep)
        return self._raw(status, body, request_id, echo)

    def _execute(self, route: Route, ids: dict[str, str], raw: str, request_id: str,
                 key: str | None) -> tuple[int, bytes, bool]:
        st = self.st
        try:
            params = validate(decode_form(raw), {**route.spec, "expand": ["str"]})
            paths = params.pop("expand", None) or []
            with st.lock:
                st.request.ctx = RequestContext(request_id, key)
                try:
                    result = route.handler(st, params, **ids)
                    out = expand(st, result, paths)
                finally:
                    st.request.ctx = None
            return 200, json.dumps(out, indent=2).encode(), True
        except StripeError as err:
            return err.status, json.dumps(err.body(request_id), indent=2).encode(), err.replayable
        except Exception:
            detail = traceback.format_exc()
            log.error("stripe emulator failure on %s: %s", route.path, detail)
            self.failures.append(detail)
            err = StripeError(500, "An unknown error occurred", type="api_error")
            return 500, json.dumps(err.body(request_id)).encode(), True
