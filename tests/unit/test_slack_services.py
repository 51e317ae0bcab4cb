"""Unit tests for the Slack-facing services: outbox, credit parsing, Block Kit limits, names."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handlers.blocks import TooManyBlocks, message, section
from handlers.ids import Command, command_names
from handlers.requests import CreditArgs
from storage.db import transaction
from storage.slack_tables import OutboxMessage
from sync.ops import outbox
from sync.ops.credits import parse_amount
from sync.ops.surface import ApproverPolicy, BadInput


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.fail: Exception | None = None

    def post(self, *, channel: str, text: str, blocks: list, thread_ts: str | None):
        if self.fail:
            raise self.fail
        self.sent.append(("post", text))
        return channel, f"1.{len(self.sent)}"

    def update(self, *, channel: str, ts: str, text: str, blocks: list) -> None:
        if self.fail:
            raise self.fail
        self.sent.append(("update", text))

    def dm_channel(self, email: str) -> str:
        return "D1"


def _enqueue(sessions: sessionmaker[Session], text: str, key: str = "k") -> None:
    with transaction(sessions) as s:
        outbox.enqueue(s, key=key, channel="C1", text=text, blocks=[])


def test_outbox_posts_once_then_updates(sessions: sessionmaker[Session]) -> None:
    sender = FakeSender()
    _enqueue(sessions, "a")
    _enqueue(sessions, "a")
    assert outbox.flush(sessions, sender)["sent"] == 1
    assert outbox.flush(sessions, sender) == {}
    _enqueue(sessions, "b")
    outbox.flush(sessions, sender)
    assert sender.sent == [("post", "a"), ("update", "b")]


def test_outbox_waits_on_retry_after_and_gives_up_on_refusal(
        sessions: sessionmaker[Session]) -> None:
    sender = FakeSender()
    sender.fail = outbox.Deferred("429", retry_after=30)
    _enqueue(sessions, "a")
    assert outbox.flush(sessions, sender)["deferred"] == 1
    assert outbox.flush(sessions, sender) == {}  # not due for 30 s
    with transaction(sessions) as s:
        row = s.scalar(select(OutboxMessage))
        assert (row.status, row.attempts) == ("pending", 1)
        assert (row.next_attempt_at - row.created_at).total_seconds() >= 29
    sender.fail = outbox.Undeliverable("channel_not_found")
    _enqueue(sessions, "x", key="other")
    assert outbox.flush(sessions, sender)["dead"] == 1


def test_parse_amount_is_exact() -> None:
    assert parse_amount("1,500.25", "USD") == 150_025
    assert parse_amount("$99", "USD") == 9_900
    assert parse_amount("1500 JPY", "JPY") == 1500
    for bad in ("1.005", "abc", "-5", "1e9"):
        with pytest.raises(BadInput):
            parse_amount(bad, "USD")


def test_credit_args_and_command_names() -> None:
    args = CreditArgs.from_text('INV-1 100 "late delivery" again')
    assert (args.invoice, args.amount, args.reason) == ("INV-1", "100", "late delivery again")
    with pytest.raises(BadInput):
        CreditArgs.from_text("INV-1 100")
    assert command_names()[Command.HELP] == "/closebot"


def test_message_builder_enforces_fifty_blocks() -> None:
    assert len(message([section("x")] * 50)) == 50
    with pytest.raises(TooManyBlocks):
        message([section("x")] * 51)
    assert len(section("y" * 5000).to_dict()["text"]["text"]) == 3000


def test_approver_policy_per_kind() -> None:
    class Groups:
        def user_for_email(self, email: str) -> None:
            return None

        def group_members(self, group_id: str) -> frozenset[str]:
            return frozenset({"UGROUP"}) if group_id == "S1" else frozenset()

    policy = ApproverPolicy(users=frozenset({"U1"}), credit_group="S1")
    assert policy.allows("discount", "U1", Groups())
    assert not policy.allows("credit", "U1", Groups())
    assert policy.allows("credit", "UGROUP", Groups())
