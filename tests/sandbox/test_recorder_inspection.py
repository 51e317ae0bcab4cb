"""The recorder's own endpoints, for a person poking at the sandbox from another process: what
was posted and edited (`GET /sandbox/messages`) and who is in the workspace
(`POST /sandbox/users`). They live outside `/api/`, where only Slack's methods are."""

from __future__ import annotations

import httpx
from slack_sdk import WebClient

from sandbox.slack import SlackRecorder


def test_posts_and_edits_are_listed_in_order_with_their_answers() -> None:
    with SlackRecorder() as rec:
        client = WebClient(token=rec.bot_token, base_url=rec.url + "/api/")
        posted = client.chat_postMessage(channel="#finance-alerts", text="first")
        client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")
        client.auth_test()  # not a message: not listed
        answer = httpx.get(rec.url + "/sandbox/messages")
        missing = httpx.post(rec.url + "/api/chat.update", headers={
            "Authorization": f"Bearer {rec.bot_token}"}, data={"channel": "C1", "ts": "1.0",
                                                              "text": "x"})
        after = httpx.get(rec.url + "/sandbox/messages").json()["messages"]
    assert answer.status_code == 200
    listed = answer.json()["messages"]
    assert [(m["method"], m["channel"], m["text"], m["ok"]) for m in listed] == [
        ("chat.postMessage", "#finance-alerts", "first", True),
        ("chat.update", "#finance-alerts", "edited", True)]
    assert listed[0]["ts"] == listed[1]["ts"] == posted["ts"]
    assert missing.json()["ok"] is False
    assert after[-1]["ok"] is False and after[-1]["error"] == "message_not_found"


def test_people_can_be_added_from_outside() -> None:
    with SlackRecorder() as rec:
        added = httpx.post(rec.url + "/sandbox/users", json={"users": [
            {"id": "U0DANA0001", "email": "dana@acme.example", "name": "Dana Rep"}]})
        bad = httpx.post(rec.url + "/sandbox/users", json={"users": [{"id": "U1"}]})
        client = WebClient(token=rec.bot_token, base_url=rec.url + "/api/")
        found = client.users_lookupByEmail(email="dana@acme.example")
    assert added.status_code == 200 and added.json() == {"ok": True, "added": 1}
    assert bad.status_code == 400
    assert found["user"]["id"] == "U0DANA0001" and found["user"]["real_name"] == "Dana Rep"
