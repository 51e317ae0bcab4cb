"""manifest.yml and the registered listeners agree, in both directions."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.slack_app import bundle
from handlers.ids import Action, Command, Event, View, command_names
from tests.handlers.conftest import Harness

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())


def _registered(harness: Harness, kind: str) -> set[str]:
    return {name for k, name in bundle(harness.app).registered if k == kind}


def test_commands_match_both_ways(harness: Harness) -> None:
    in_manifest = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert in_manifest == _registered(harness, "command")
    assert in_manifest == set(command_names().values())
    for command in in_manifest:  # every manifest command is answered, none falls through (404)
        assert harness.slack.command(command, "help").status_code == 200


def test_events_interactivity_and_home(harness: Harness) -> None:
    settings = MANIFEST["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == _registered(harness, "event")
    assert _registered(harness, "event") == {e.value for e in Event}
    assert settings["interactivity"]["is_enabled"] is True
    assert _registered(harness, "action") == {a.value for a in Action}
    assert _registered(harness, "view") == {v.value for v in View}
    assert settings["socket_mode_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert len(harness.app._listeners) == len(bundle(harness.app).registered)


def test_scopes_are_exactly_what_is_used() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "chat:write", "im:write", "users:read", "users:read.email",
                      "usergroups:read", "channels:read", "groups:read", "files:write"}


def test_command_names_can_be_renamed() -> None:
    names = command_names("invoice-status=/inv, credit=cb-credit")
    assert names[Command.INVOICE_STATUS] == "/inv" and names[Command.CREDIT] == "/cb-credit"
