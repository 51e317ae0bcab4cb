"""Which Web API methods exist and which arguments each one requires, per Slack's own description.

The table in `methods.json` is extracted from Slack's Swagger 2.0 description
(`slackapi/slack-api-specs`, `web-api/slack_web_openapi_v2_without_examples.json`, MIT licence) by
`extract_methods`; a test re-extracts it from the reference copy and compares, so the two can't
drift.

Quirks of that description worth knowing:

- It dates from 2021: methods Slack added later are absent and get `unknown_method` here.
- `token` is listed as a required *parameter*, in a header, query or form field depending on the
  method. Real clients send it as `Authorization: Bearer`, so it is never checked as an argument.
- The verbs are unreliable (`views.open` is documented as GET with the view in the query string,
  yet slack_sdk POSTs JSON and Slack accepts it); Slack takes any verb, so the recorder does too.
- A few arguments Slack rejects calls without are marked optional (`chat.delete` channel and ts,
  `users.info` user); `EXTRA_REQUIRED` adds them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).with_name("methods.json")

# Methods that answer without a token (the description lists no token parameter for them).
NO_AUTH = frozenset({"api.test", "oauth.access", "oauth.token", "oauth.v2.access"})

EXTRA_REQUIRED: dict[str, tuple[str, ...]] = {
    "chat.delete": ("channel", "ts"),
    "users.info": ("user",),
}


@dataclass(frozen=True)
class MethodSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    app_token: bool = False  # called with the app-level (`xapp-`) token, not the bot token

    @property
    def needs_token(self) -> bool:
        return self.name not in NO_AUTH


def extract_methods(spec: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Reduce the Swagger document to `{method: {"required": [...], "optional": [...]}}`."""
    table: dict[str, dict[str, list[str]]] = {}
    for path, operations in sorted(spec["paths"].items()):
        required: set[str] = set()
        optional: set[str] = set()
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["name"] == "token":
                    continue
                (required if param.get("required") else optional).add(param["name"])
        table[path.lstrip("/")] = {
            "required": sorted(required),
            "optional": sorted(optional - required),
        }
    return table


def write_table(spec_path: Path, out: Path = TABLE_PATH) -> None:
    """Regenerate `methods.json` from a copy of Slack's description."""
    spec = json.loads(spec_path.read_text())
    out.write_text(json.dumps(extract_methods(spec), indent=1, sort_keys=True) + "\n")


@cache
def load_methods() -> dict[str, MethodSpec]:
    raw = json.loads(TABLE_PATH.read_text())
    methods: dict[str, MethodSpec] = {}
    for name, entry in raw.items():
        required = tuple(dict.fromkeys(entry["required"] + list(EXTRA_REQUIRED.get(name, ()))))
        optional = tuple(p for p in entry["optional"] if p not in required)
        methods[name] = MethodSpec(name, required, optional)
    methods.update(LATER_METHODS)
    return methods


# Methods Slack added after the 2021 description, with the arguments its docs require.
LATER_METHODS = {
    "apps.connections.open": MethodSpec("apps.connections.open", (), (), app_token=True),
}
