"""Stripe's wire format: bracketed form bodies in, parameters checked against a spec, errors out.

Stripe rejects any parameter it does not know (`parameter_unknown`, naming it as sent, e.g.
`items[0][foo]`), so a typo in our code fails here just as it would in production. Every value
arrives as a string; integers and booleans are parsed the way Stripe does (`"true"`/`"false"`), and
an empty string means "unset" (metadata keys are deleted, nullable fields become null).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

Spec = Any  # "str" | "int" | "bool" | "meta" | "ts" | "range" | "any" | dict | [item spec]

_TOKEN = re.compile(r"\[([^\[\]]*)\]")


class StripeError(Exception):
    """An API error with Stripe's body shape; `replayable` is False for validation failures,
    which Stripe does not store against an idempotency key."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type, code
        self.param, self.replayable, self.extra = param, replayable, extra or {}

    def body(self, request_id: str) -> dict[str, Any]:
        doc = None
        if self.code:
            doc = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        err = {
            "type": self.type, "code": self.code, "message": self.message, "param": self.param,
            "doc_url": doc,
            "request_log_url": f"https://dashboard.stripe.com/test/logs/{request_id}",
        }
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, message, param=param, code=code)


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing",
                       param=param, replayable=False)


def no_such(kind_label: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind_label}: '{obj_id}'", code="resource_missing",
                       param=param)


def decode_form(raw: str) -> dict[str, Any]:
    """`a[b][0][c]=v&expand[]=x` into nested dicts; digit-keyed dicts become lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *_TOKEN.findall(key[len(head):])]
        node = root
        for i, part in enumerate(parts[:-1]):
            if part == "":
                # `items[][price]=a&items[][quantity]=2`: keep filling the last element until a
                # key repeats, then start a new one.
                prev = node.get(str(len(node) - 1))
                reuse = isinstance(prev, dict) and parts[i + 1] not in prev
                part = str(len(node) - 1) if reuse else str(len(node))
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise invalid(f"Invalid array or hash for parameter {key}", param=key)
        last = parts[-1] if parts[-1] != "" else str(len(node))
        node[last] = value
    return _listify(root, None)


def _listify(node: Any, parent_key: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if parent_key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _name(prefix: str, key: str | int) -> str:
    return f"{prefix}[{key}]" if prefix else str(key)


def _coerce_int(value: Any, param: str) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise StripeError(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                      param=param, replayable=False)


def validate(params: Any, spec: Spec, prefix: str = "") -> Any:
    """Coerce `params` to `spec`, raising Stripe's errors for unknown or malformed values."""
    if spec == "any":
        return params
    if isinstance(spec, dict):
        if params == "":
            return None
        if not isinstance(params, dict):
            raise invalid(f"Invalid object for parameter {prefix}", param=prefix)
        out = {}
        for key, value in params.items():
            if key not in spec:
                raise StripeError(400, f"Received unknown parameter: {_name(prefix, key)}",
                                  code="parameter_unknown", param=_name(prefix, key),
                                  replayable=False)
            out[key] = validate(value, spec[key], _name(prefix, key))
        return out
    if isinstance(spec, list):
        if params == "":
            return []
        if isinstance(params, dict) and all(k.isdigit() for k in params):
            params = [params[k] for k in sorted(params, key=int)]
        if not isinstance(params, list):
            raise invalid(f"Invalid array for parameter {prefix}", param=prefix)
        return [validate(v, spec[0], _name(prefix, i)) for i, v in enumerate(params)]
    if isinstance(params, (dict, list)) and spec not in ("meta", "range"):
        raise invalid(f"Invalid string for parameter {prefix}: expected a scalar", param=prefix)
    if spec == "str":
        return None if params == "" else params
    if spec == "int":
        return None if params == "" else _coerce_int(params, prefix)
    if spec == "ts":
        return params if params in ("now", "unchanged") else _coerce_int(params, prefix)
    if spec == "bool":
        if params not in ("true", "false"):
            raise StripeError(400, f"Invalid boolean: {params}", code="parameter_invalid_boolean",
                              param=prefix, replayable=False)
        return params == "true"
    if spec == "meta":
        if params == "":
            return {}
        if not isinstance(params, dict):
            raise invalid("Invalid object", param=prefix)
        for key, value in params.items():
            if not isinstance(value, str):
                raise invalid(f"Invalid metadata value for {key}", param=f"{prefix}[{key}]")
        return params
    if spec == "range":
        if isinstance(params, dict):
            return validate(params, dict.fromkeys(("gt", "gte", "lt", "lte"), "int"), prefix)
        return {"eq": _coerce_int(params, prefix)}
    raise AssertionError(f"bad spec {spec!r}")


def require(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name) is None:
            raise missing(name)


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe merges metadata on update; an empty value deletes that key, `metadata=""` clears."""
    if update is None:
        return current
    if update == {}:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
