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
- Each method's `security` lists the OAuth scopes that let a token call it, any one of them
  sufficing (`none` for none). Some are the classic names granular bot tokens no longer get:
  `chat:write:bot` is `chat:write` today, so `SCOPE_ALIASES` accepts the modern name too.
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
    "conversations.info": ("channel",),
    "conversations.members": ("channel",),
}


SCOPE_ALIASES = {"chat:write:bot": "chat:write", "chat:write:user": "chat:write"}


@dataclass(frozen=True)
class MethodSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    app_token: bool = False  # called with the app-level (`xapp-`) token, not the bot token
    scopes: tuple[str, ...] = ()  # any one of them lets a token call the method; () = none

    @property
    def needs_token(self) -> bool:
        return self.name not in NO_AUTH

    def missing_scope(self, granted: frozenset[str]) -> str | None:
        """The scope to ask for when `granted` allows none of this method's, else None."""
        accepted = [SCOPE_ALIASES.get(s, s) for s in self.scopes]
        if not accepted or granted.intersection(accepted):
            return None
        return accepted[0]


def extract_methods(spec: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Reduce the Swagger document to `{method: {"required", "optional", "scopes"}}`."""
    table: dict[str, dict[str, list[str]]] = {}
    for path, operations in sorted(spec["paths"].items()):
        required: set[str] = set()
        optional: set[str] = set()
        scopes: list[str] = []
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["name"] == "token":
                    continue
                (required if param.get("required") else optional).add(param["name"])
            for security in operation.get("security", []):
                scopes += [s for s in security.get("slackAuth", []) if s not in scopes]
        table[path.lstrip("/")] = {
            "required": sorted(required),
            "optional": sorted(optional - required),
            "scopes": [s for s in scopes if s != "none"],
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
        methods[name] = MethodSpec(name, required, optional,
                                   scopes=tuple(entry.get("scopes", ())))
    methods.update(LATER_METHODS)
    return methods


# Methods Slack added after the 2021 description, with the arguments its docs require.
LATER_METHODS = {
    "apps.connections.open": MethodSpec("apps.connections.open", (), (), app_token=True),
    "files.getUploadURLExternal": MethodSpec(
        "files.getUploadURLExternal", ("filename", "length"), ("alt_txt", "snippet_type"),
        scopes=("files:write",)),
    "files.completeUploadExternal": MethodSpec(
        "files.completeUploadExternal", ("files",),
        ("channel_id", "channels", "initial_comment", "thread_ts", "blocks"),
        scopes=("files:write",)),
}
