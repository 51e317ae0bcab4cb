"""`manifest-http.yml` is `manifest.yml` for HTTP mode: the same app, with Socket Mode off and
a request URL on every command, on interactivity and on events, to be pointed at the host."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
SOCKET = yaml.safe_load((ROOT / "manifest.yml").read_text())
HTTP = yaml.safe_load((ROOT / "manifest-http.yml").read_text())
URL = "https://closebot.example.com/slack/events"


def test_http_manifest_is_the_socket_manifest_with_request_urls() -> None:
    expected: dict[str, Any] = copy.deepcopy(SOCKET)
    for command in expected["features"]["slash_commands"]:
        command["url"] = URL
    expected["settings"]["interactivity"]["request_url"] = URL
    expected["settings"]["event_subscriptions"]["request_url"] = URL
    expected["settings"]["socket_mode_enabled"] = False
    assert expected == HTTP


def test_both_manifests_say_where_the_other_is() -> None:
    assert "manifest-http.yml" in (ROOT / "manifest.yml").read_text()
    text = (ROOT / "manifest-http.yml").read_text()
    assert "closebot.example.com" in text.split("display_information")[0]  # replace-me note
    readme = (ROOT / "README.md").read_text()
    assert "manifest-http.yml" in readme
