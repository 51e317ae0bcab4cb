"""The Slack recorder's external file upload, driven by slack_sdk's `files_upload_v2`: the three
steps as Slack documents them, the scope enforced, and the errors Slack answers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackRecorder

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def rec() -> Iterator[SlackRecorder]:
    with SlackRecorder() as recorder:
        yield recorder


def _client(rec: SlackRecorder) -> WebClient:
    return WebClient(token=rec.bot_token, base_url=rec.url + "/api/")


def test_files_upload_v2_shares_the_bytes_in_the_channel(rec: SlackRecorder) -> None:
    done = _client(rec).files_upload_v2(channel="C0FINALERTS", file=PNG, filename="aging.png",
                                        title="AR aging", initial_comment="As of today")
    (shared,) = rec.files()
    assert done["file"]["id"] == shared["id"] and shared["data"] == PNG
    assert (shared["name"], shared["title"], shared["channel"], shared["initial_comment"]) == (
        "aging.png", "AR aging", "C0FINALERTS", "As of today")
    assert [c["method"] for c in rec.calls()] == [
        "files.getUploadURLExternal", "files.completeUploadExternal"]
    assert rec.calls()[0]["args"]["length"] in (str(len(PNG)), len(PNG))


def test_upload_errors_as_slack_answers_them(rec: SlackRecorder) -> None:
    client = _client(rec)
    with pytest.raises(SlackApiError) as outside:
        client.files_upload_v2(channel="C0GENERAL", file=PNG, filename="a.png")
    assert outside.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as unknown:
        client.files_completeUploadExternal(files=[{"id": "F0NOPE", "title": "x"}])
    assert unknown.value.response["error"] == "file_not_found"
    started = client.files_getUploadURLExternal(filename="b.png", length=10)
    with pytest.raises(SlackApiError) as never_sent:  # step 2 skipped
        client.files_completeUploadExternal(files=[{"id": started["file_id"]}])
    assert never_sent.value.response["error"] == "file_not_found"
    assert httpx.post(started["upload_url"], content=b"short").status_code == 200
    with pytest.raises(SlackApiError) as short:
        client.files_completeUploadExternal(files=[{"id": started["file_id"]}])
    assert short.value.response["error"] == "file_upload_size_mismatch"
    assert rec.files() == []


def test_upload_needs_files_write(rec: SlackRecorder) -> None:
    rec.set_scopes({"chat:write", "commands"})
    with pytest.raises(SlackApiError) as refused:
        _client(rec).files_upload_v2(channel="C0FINALERTS", file=PNG, filename="a.png")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:write"
