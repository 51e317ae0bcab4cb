"""Slack payloads parsed into small typed models, so listeners never dig through raw dicts."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import BaseModel

from sync.ops.surface import BadInput


class SlashCommand(BaseModel):
    command: str
    text: str = ""
    user_id: str
    channel_id: str | None = None
    trigger_id: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SlashCommand:
        return cls.model_validate({**body, "text": str(body.get("text") or "").strip()})


class Click(BaseModel):
    """A button press: who, which action, and the typed value the button carried."""

    user: str
    action_id: str
    value: str = ""
    trigger_id: str | None = None
    channel: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Click:
        action = (body.get("actions") or [{}])[0]
        return cls(user=body["user"]["id"], action_id=action.get("action_id", ""),
                   value=str(action.get("value") or ""), trigger_id=body.get("trigger_id"),
                   channel=(body.get("channel") or {}).get("id"))


class Submission(BaseModel):
    """A modal submission: plain-text inputs by block id, and the metadata the modal carried."""

    user: str
    metadata: str = ""
    values: dict[str, str] = {}

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Submission:
        view = body["view"]
        values: dict[str, str] = {}
        for block_id, actions in (view.get("state") or {}).get("values", {}).items():
            for element in actions.values():
                values[block_id] = str(element.get("value") or "").strip()
        return cls(user=body["user"]["id"], metadata=view.get("private_metadata") or "",
                   values=values)


class CreditArgs(BaseModel):
    invoice: str
    amount: str
    reason: str

    @classmethod
    def from_text(cls, text: str) -> CreditArgs:
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        if len(words) < 3:
            raise BadInput("Give the invoice, the amount and a reason.")
        return cls(invoice=words[0], amount=words[1], reason=" ".join(words[2:]))


def int_value(value: str) -> int:
    if not value.isdigit():
        raise BadInput("That button is not from a closebot message.")
    return int(value)
