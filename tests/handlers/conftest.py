"""Handler fixtures: the real Bolt app behind a real HTTP server, signed requests, and the
recording Slack Web API (checked against Slack's OpenAPI description) as Slack."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.orm import Session, sessionmaker

from app.http_server import serve
from app.settings import Settings
from app.slack_app import bundle, create_app
from sandbox.slack import SlackRecorder
from sync.engine.runtime import Runtime
from tests.integration.books import erp_stack as each_erp

SECRET = "test-signing-secret"
APPROVERS = ("UAPPROVE1", "UAPPROVE2")
OWNER = ("UOWNER01", "owner@example.com")


@pytest.fixture(scope="session")
def recorder_server() -> Iterator[SlackRecorder]:
    with SlackRecorder() as rec:
        yield rec


@pytest.fixture
def recorder(recorder_server: SlackRecorder) -> SlackRecorder:
    recorder_server.reset()
    for user in (*APPROVERS, "UREQUEST1", "USTRANGER"):
        recorder_server.add_user(user, f"{user.lower()}@example.com", user)
    recorder_server.add_user(OWNER[0], OWNER[1], "Owner Rep")
    return recorder_server


def slack_settings(recorder: SlackRecorder, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url, "slack_bot_token": recorder.bot_token,
        "slack_signing_secret": SECRET, "slack_api_url": recorder.url + "/api/",
        "slack_approvers": ",".join(APPROVERS), "slack_alerts_channel": "C0ALERTS",
        "slack_approvals_channel": "C0APPROVALS", "slack_digest_channel": "C0DIGEST",
        "salesforce_ui_url": "https://example.my.salesforce.com",
        "credit_two_approvers_minor": 500_000, "slack_group_alert_min": 3,
    }
    values.update(overrides)
    return Settings(**values)


PIPELINE_KEYS = ("salesforce_instance_url", "salesforce_access_token", "salesforce_api_version",
                 "salesforce_ca_bundle", "stripe_api_key", "stripe_api_base", "max_attempts",
                 "backoff_base_s", "backoff_max_s")


def pipeline_settings(recorder: SlackRecorder, db_url: str, stack: Any, **overrides: Any
                      ) -> Settings:
    """Slack settings for the recorder, plus the emulators' (and `overrides`, such as a fault
    proxy's URL as `stripe_api_base`)."""
    from tests.integration.conftest import make_settings

    base = make_settings(stack, db_url, **overrides)
    return slack_settings(recorder, db_url, **{k: getattr(base, k) for k in PIPELINE_KEYS})


class SlackClient:
    """Sends what Slack sends: signed form posts to /slack/events."""

    def __init__(self, url: str, recorder: SlackRecorder, secret: str = SECRET) -> None:
        self.url, self.recorder = url, recorder
        self.signer = SignatureVerifier(secret)
        self.http = httpx.Client(timeout=10)

    def post(self, body: str, *, timestamp: int | None = None,
             signature: str | None = None) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or self.signer.generate_signature(timestamp=ts, body=body)
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                   "Content-Type": "application/x-www-form-urlencoded"}
        return self.http.post(self.url, content=body, headers=headers)

    def command(self, command: str, text: str = "", *, user: str = "UREQUEST1",
                **kw: Any) -> httpx.Response:
        form = {"command": command, "text": text, "user_id": user, "user_name": user,
                "team_id": "T0CLOSEBOT", "channel_id": "C0GENERAL", "trigger_id": "1.2.tr",
                "response_url": self.recorder.response_url(), "api_app_id": "A0CLOSEBOT",
                "token": "legacy"}
        return self.post(urlencode(form), **kw)

    def click(self, action_id: str, value: str, *, user: str,
              message: tuple[str, str] | None = None) -> httpx.Response:
        channel, ts = message or ("C0GENERAL", "1.0")
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T0CLOSEBOT"},
                   "api_app_id": "A0CLOSEBOT", "trigger_id": "1.2.tr",
                   "channel": {"id": channel}, "container": {"type": "message"},
                   "response_url": self.recorder.response_url(channel=channel, ts=ts),
                   "actions": [{"action_id": action_id, "block_id": "b", "value": value,
                                "type": "button"}]}
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def submit(self, callback_id: str, values: dict[str, str], *, user: str,
               metadata: str = "") -> httpx.Response:
        state = {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}
        payload = {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0CLOSEBOT"},
                   "api_app_id": "A0CLOSEBOT",
                   "view": {"id": "V1", "type": "modal", "callback_id": callback_id,
                            "private_metadata": metadata, "state": {"values": state}}}
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        body = {"type": "event_callback", "team_id": "T0CLOSEBOT", "api_app_id": "A0CLOSEBOT",
                "event": event, "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time())}
        return self.http.post(self.url, content=json.dumps(body), headers=self._json_headers(body))

    def _json_headers(self, body: dict[str, Any]) -> dict[str, str]:
        ts = str(int(time.time()))
        sig = self.signer.generate_signature(timestamp=ts, body=json.dumps(body))
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                "Content-Type": "application/json"}


class Harness:
    def __init__(self, app: Any, client: SlackClient, sessions: sessionmaker[Session]) -> None:
        self.app, self.slack, self.sessions = app, client, sessions
        self.surface = bundle(app).surface

    @property
    def recorder(self) -> SlackRecorder:
        return self.slack.recorder


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def start(settings: Settings, sessions: sessionmaker[Session], recorder: SlackRecorder,
          runtime: Runtime | None = None) -> Iterator[Harness]:
    app = create_app(settings, sessions, runtime)
    server = serve(app, sessions, port=0, host="127.0.0.1")
    # A short poll: `shutdown()` waits for the loop to look up (half a second by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    try:
        yield Harness(app, SlackClient(url, recorder), sessions)
    finally:
        server.shutdown()


@pytest.fixture
def harness(recorder: SlackRecorder, db_url: str,
            sessions: sessionmaker[Session]) -> Iterator[Harness]:
    yield from start(slack_settings(recorder, db_url), sessions, recorder)


# NetSuite and Sage Intacct, where closebot keeps a revenue subledger beside the ERP.
erp_stack = pytest.fixture(params=["netsuite", "intacct"], name="erp_stack")(each_erp)
