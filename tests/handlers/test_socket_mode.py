"""Socket Mode: the same app, reached over a WebSocket instead of signed HTTP requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from app.slack_app import create_app
from sandbox.slack import SlackRecorder
from tests.handlers.conftest import slack_settings


@pytest.fixture
def socket_app(
    recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
) -> Iterator[SlackRecorder]:
    settings = slack_settings(recorder, db_url, slack_app_token=recorder.app_token)
    app = create_app(settings, sessions, None, socket_mode=True)
    handler = SocketModeHandler(app, recorder.app_token)
    handler.connect()
    try:
        yield recorder
    finally:
        handler.close()


def _command(command: str, text: str, recorder: SlackRecorder) -> dict:
    return {"command": command, "text": text, "user_id": "UREQUEST1", "user_name": "req",
            "team_id": "T0CLOSEBOT", "channel_id": "C0GENERAL", "trigger_id": "1.2.tr",
            "response_url": recorder.response_url(), "api_app_id": "A0CLOSEBOT"}


def test_a_slash_command_is_answered_over_the_socket(socket_app: SlackRecorder) -> None:
    ack = socket_app.socket_mode.deliver("slash_commands",
                                         _command("/closebot", "help", socket_app))
    text = str(ack.get("payload", {}).get("text", ""))
    assert "/invoice-status" in str(ack["payload"]) and text
    opened = socket_app.calls("apps.connections.open")
    assert opened and opened[0]["status"] == 200


def test_bad_arguments_get_usage_help_over_the_socket(socket_app: SlackRecorder) -> None:
    ack = socket_app.socket_mode.deliver("slash_commands",
                                         _command("/closebot", "no-such-thing", socket_app))
    assert ack["envelope_id"]
    assert "/invoice-status" in str(ack.get("payload"))


def test_the_app_token_is_required(recorder: SlackRecorder) -> None:
    client = WebClient(token=recorder.bot_token, base_url=recorder.url + "/api/")
    with pytest.raises(SlackApiError) as refused:
        client.apps_connections_open(app_token=recorder.bot_token)
    assert refused.value.response["error"] == "invalid_auth"
