"""The HTTP front as a real client sees it: one Content-Type on every Slack answer, and a
malformed signature header refused with 401, never a crash."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from tests.handlers.conftest import Harness

JSON = "application/json;charset=utf-8"


def _signed_json(harness: Harness, body: dict) -> httpx.Response:
    raw = json.dumps(body)
    ts = str(int(time.time()))
    sig = harness.slack.signer.generate_signature(timestamp=ts, body=raw)
    return harness.slack.http.post(harness.slack.url, content=raw, headers={
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
        "Content-Type": "application/json"})


def test_every_slack_answer_has_one_content_type(harness: Harness) -> None:
    command = harness.slack.command("/closebot", "help")
    assert command.headers.get_list("content-type") == [JSON]
    assert "/invoice-status" in command.json()["text"] + str(command.json()["blocks"])
    click = harness.slack.click("link.open", "", user="UREQUEST1")
    assert click.status_code == 200 and len(click.headers.get_list("content-type")) == 1
    challenge = _signed_json(harness, {"type": "url_verification", "token": "legacy",
                                       "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7"})
    assert challenge.headers.get_list("content-type") == [JSON]
    assert challenge.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7"}
    refused = harness.slack.command("/closebot", "help", signature="v0=" + "0" * 64)
    assert refused.status_code == 401 and refused.headers.get_list("content-type") == [JSON]


@pytest.mark.parametrize("headers", [
    {"X-Slack-Request-Timestamp": "yesterday"},
    {"X-Slack-Request-Timestamp": "1e9"},
    {"X-Slack-Request-Timestamp": "9" * 5000},
    {"X-Slack-Request-Timestamp": ""},
    {"X-Slack-Signature": "v0=caf\xe9".encode("latin-1")},
    {"X-Slack-Signature": ""},
    {"X-Slack-Request-Timestamp": None, "X-Slack-Signature": None},
], ids=["words", "exponent", "huge", "empty-ts", "non-ascii-signature", "empty-signature",
        "missing"])
def test_malformed_signing_headers_are_refused_quietly(
    harness: Harness, caplog: pytest.LogCaptureFixture, headers: dict
) -> None:
    body = "command=%2Fclosebot&text=help&user_id=UREQUEST1&team_id=T0CLOSEBOT"
    ts = str(int(time.time()))
    sent = {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": harness.slack.signer.generate_signature(timestamp=ts, body=body),
            "Content-Type": "application/x-www-form-urlencoded"}
    sent.update(headers)
    with caplog.at_level(logging.INFO):
        answer = harness.slack.http.post(harness.slack.url, content=body,
                                         headers={k: v for k, v in sent.items() if v is not None})
    assert answer.status_code == 401, answer.text
    assert "Something went wrong" not in answer.text
    crashes = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert crashes == []
