"""The recording Slack server, driven through the real slack_sdk clients over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from sandbox.slack import SlackRecorder
from sandbox.slack.spec import TABLE_PATH, extract_methods
from tests.reference import reference_file

SPEC = reference_file("slack-web-openapi-v2.json")
TOKEN = "xoxb-closebot-test"


@pytest.fixture
def rec() -> Iterator[SlackRecorder]:
    with SlackRecorder() as recorder:
        recorder.add_user("U0ALICE", "alice@example.com", "Alice Ng")
        recorder.add_user("U0BOB", "bob@example.com", "Bob Ode")
        yield recorder


@pytest.fixture
def client(rec: SlackRecorder) -> WebClient:
    return WebClient(token=TOKEN, base_url=rec.url + "/api/")


def error_of(call) -> tuple[int, dict]:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.status_code, info.value.response.data


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.skipif(not SPEC.exists(), reason="reference spec not present")
def test_method_table_matches_slacks_description() -> None:
    assert json.loads(TABLE_PATH.read_text()) == extract_methods(json.loads(SPEC.read_text()))


def test_auth_test_shape(client: WebClient) -> None:
    data = client.auth_test().data
    assert data["ok"] and data["user_id"] == "U0CLOSEBOT" and data["team_id"] == "T0CLOSEBOT"
    assert {"url", "team", "user", "bot_id"} <= data.keys()


def test_post_update_permalink_react_delete(rec: SlackRecorder, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0FIN", text="Deal won", blocks=[section("*Won*")])
    ts = posted["ts"]
    assert posted["channel"] == "C0FIN" and posted["message"]["text"] == "Deal won"
    assert posted["message"]["blocks"][0]["text"]["text"] == "*Won*"

    updated = client.chat_update(channel="C0FIN", ts=ts, text="Deal won (approved)")
    assert updated["ts"] == ts and updated["text"] == "Deal won (approved)"
    [message] = rec.messages("C0FIN")
    assert message["blocks"][0]["text"]["text"] == "*Won*", "blocks kept when update omits them"
    assert message["text"] == "Deal won (approved)" and "edited" in message

    link = client.chat_getPermalink(channel="C0FIN", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C0FIN/p{ts.replace('.', '')}")
    client.reactions_add(channel="C0FIN", timestamp=ts, name="white_check_mark")
    client.reactions_add(channel="C0FIN", timestamp=ts, name=":eyes:")
    assert [r["name"] for r in rec.messages()[0]["reactions"]] == ["white_check_mark", "eyes"]
    assert (
        error_of(
            lambda: client.reactions_add(channel="C0FIN", timestamp=ts, name="white_check_mark")
        )[1]["error"]
        == "already_reacted"
    )

    assert client.chat_delete(channel="C0FIN", ts=ts)["ts"] == ts
    assert rec.messages() == []
    assert (
        error_of(lambda: client.chat_update(channel="C0FIN", ts=ts, text="x"))[1]["error"]
        == "message_not_found"
    )


def test_form_encoded_blocks_and_posting_to_a_user_lands_in_the_dm(
    rec: SlackRecorder, client: WebClient
) -> None:
    blocks = json.dumps([section("form")])
    data = client.api_call(
        "chat.postMessage", data={"channel": "U0ALICE", "text": "hi", "blocks": blocks}
    ).data
    assert data["channel"] == "D0ALICE"
    assert rec.messages("D0ALICE")[0]["blocks"] == [section("form")]
    assert rec.calls("chat.postMessage")[0]["args"]["channel"] == "U0ALICE"


def test_ephemeral_dm_users_and_groups(rec: SlackRecorder, client: WebClient) -> None:
    eph = client.chat_postEphemeral(channel="C0FIN", user="U0BOB", text="only you")
    assert eph["message_ts"] and rec.messages() == []
    assert rec.ephemerals("U0BOB")[0]["text"] == "only you"

    assert client.conversations_open(users="U0ALICE")["channel"]["id"] == "D0ALICE"
    assert client.conversations_open(users=["U0ALICE"])["already_open"] is True
    assert error_of(lambda: client.conversations_open(users="U0NOBODY"))[1]["error"] == (
        "user_not_found"
    )

    user = client.users_lookupByEmail(email="Alice@Example.com")["user"]
    assert user["id"] == "U0ALICE" and user["profile"]["email"] == "alice@example.com"
    assert error_of(lambda: client.users_lookupByEmail(email="x@example.com"))[1]["error"] == (
        "users_not_found"
    )
    assert client.users_info(user="U0BOB")["user"]["real_name"] == "Bob Ode"

    rec.add_usergroup("S0APPROVERS", ["U0ALICE", "U0BOB"])
    assert client.usergroups_users_list(usergroup="S0APPROVERS")["users"] == ["U0ALICE", "U0BOB"]


def modal(n_blocks: int = 1, title: str = "Approve deal") -> dict:
    return {
        "type": "modal",
        "callback_id": "approve",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section(f"b{i}") for i in range(n_blocks)],
    }


def test_views(rec: SlackRecorder, client: WebClient) -> None:
    opened = client.views_open(trigger_id="123.456", view=modal())["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "approve"
    pushed = client.views_push(trigger_id="123.457", view=modal())["view"]
    assert pushed["id"] != opened["id"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal(2))
    assert updated["view"]["id"] == opened["id"] and len(updated["view"]["blocks"]) == 2
    stale = error_of(lambda: client.views_update(view_id=opened["id"], hash="1.x", view=modal()))
    assert stale[1]["error"] == "hash_conflict"

    home = {"type": "home", "blocks": [section("Pending approvals: 2")]}
    first = client.views_publish(user_id="U0ALICE", view=home)["view"]
    again = client.views_publish(user_id="U0ALICE", view=home)["view"]
    assert first["id"] == again["id"] and first["type"] == "home"
    assert len(rec.views()) == 3

    too_big = error_of(lambda: client.views_open(trigger_id="1", view=modal(101)))[1]
    assert too_big["error"] == "invalid_arguments"
    assert "no more than 100 items allowed" in too_big["response_metadata"]["messages"][0]
    long_title = error_of(lambda: client.views_open(trigger_id="1", view=modal(title="x" * 25)))
    assert "/view/title/text" in long_title[1]["response_metadata"]["messages"][0]


def test_unknown_and_unimplemented_methods_are_404_and_recorded(
    rec: SlackRecorder, client: WebClient
) -> None:
    assert error_of(lambda: client.api_call("chat.sendCarrierPigeon")) == (
        404,
        {"ok": False, "error": "unknown_method", "req_method": "chat.sendCarrierPigeon"},
    )
    status, data = error_of(lambda: client.api_call("pins.add", json={"channel": "C1"}))
    assert (status, data["error"]) == (404, "unknown_method")
    assert [c["method"] for c in rec.calls()] == ["chat.sendCarrierPigeon", "pins.add"]
    assert rec.calls("pins.add")[0]["args"] == {"channel": "C1"}


def test_missing_required_arguments(client: WebClient) -> None:
    assert (
        error_of(lambda: client.api_call("chat.postMessage", json={"text": "x"}))[1]["error"]
        == "channel_not_found"
    )
    with pytest.warns(UserWarning):  # slack_sdk itself nags about a missing text
        assert error_of(lambda: client.chat_postMessage(channel="C1"))[1]["error"] == "no_text"
    missing = error_of(lambda: client.api_call("views.open", json={"view": modal()}))[1]
    assert missing["error"] == "invalid_arguments"
    assert missing["response_metadata"]["messages"] == [
        "[ERROR] missing required field: trigger_id"
    ]


def test_tokens(rec: SlackRecorder) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=rec.url + "/api/")
    assert error_of(bad.auth_test)[1]["error"] == "invalid_auth"
    anonymous = WebClient(base_url=rec.url + "/api/")
    assert error_of(anonymous.auth_test)[1]["error"] == "not_authed"
    form_token = WebClient(base_url=rec.url + "/api/").api_call("auth.test", data={"token": TOKEN})
    assert form_token["ok"] and "token" not in rec.calls()[-1]["args"]


def test_message_limits(client: WebClient) -> None:
    assert client.chat_postMessage(channel="C1", text="ok", blocks=[section("b")] * 50)["ok"]
    status, data = error_of(
        lambda: client.chat_postMessage(channel="C1", text="x", blocks=[section("b")] * 51)
    )
    assert (status, data["error"]) == (200, "invalid_blocks")
    assert data["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert (
        error_of(lambda: client.chat_postMessage(channel="C1", text="x" * 40_001))[1]["error"]
        == "msg_too_long"
    )


def test_rate_limit_then_success_with_retry_handler(rec: SlackRecorder) -> None:
    client = WebClient(
        token=TOKEN,
        base_url=rec.url + "/api/",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    rec.fail("chat.postMessage", times=1, retry_after=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C1", text="after a 429")["ok"]
    assert time.monotonic() - started >= 1.0, "Retry-After was honoured"
    assert [c["status"] for c in rec.calls("chat.postMessage")] == [429, 200]


def test_fail_without_retry_and_outage(rec: SlackRecorder, client: WebClient) -> None:
    rec.fail(None, times=1, status=500, error="fatal_error")
    assert error_of(client.auth_test) == (500, {"ok": False, "error": "fatal_error"})
    rec.fail("auth.test", times=1)
    resp = error_of(client.auth_test)
    assert resp[0] == 429
    assert client.auth_test()["ok"]

    rec.outage(True)
    assert error_of(client.auth_test)[0] == 503
    rec.outage(False)
    assert client.auth_test()["ok"]


def test_response_url_capture_replace_and_delete(rec: SlackRecorder, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0FIN", text="Approve?")["ts"]
    hook = WebhookClient(rec.response_url(channel="C0FIN", ts=ts))
    sent = hook.send(text="Approved by Alice", replace_original=True, blocks=[section("done")])
    assert sent.status_code == 200
    assert rec.messages("C0FIN")[0]["text"] == "Approved by Alice"
    payload = rec.responses()[0]["payload"]
    assert payload["replace_original"] is True and payload["blocks"] == [section("done")]

    assert hook.send(text="Posted for all", response_type="in_channel").status_code == 200
    assert [m["text"] for m in rec.messages("C0FIN")] == ["Approved by Alice", "Posted for all"]
    assert hook.send(text="", delete_original=True).status_code == 200
    assert [m["text"] for m in rec.messages("C0FIN")] == ["Posted for all"]

    unlinked = WebhookClient(rec.response_url())
    assert unlinked.send(text="ephemeral note", response_type="ephemeral").status_code == 200
    for _ in range(4):
        assert unlinked.send(text="again").status_code == 200
    assert unlinked.send(text="one too many").status_code == 404


def test_concurrent_posts_get_distinct_ts(rec: SlackRecorder, client: WebClient) -> None:
    def post(i: int) -> str:
        return client.chat_postMessage(channel="C0LOAD", text=f"m{i}")["ts"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(post, range(80)))
    assert len(set(stamps)) == 80
    assert len(rec.messages("C0LOAD")) == 80
    assert len(rec.calls("chat.postMessage")) == 80
