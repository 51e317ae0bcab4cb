"""Modals: reject reason, dismiss reason, credit request."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View as SlackView

from handlers import strings
from handlers.blocks import shown
from handlers.ids import View


def _input(block_id: str, label: str, *, multiline: bool = False,
           initial: str | None = None) -> InputBlock:
    return InputBlock(block_id=block_id, label=PlainTextObject(text=shown(label, 2000)),
                      element=PlainTextInputElement(action_id="value", multiline=multiline,
                                                    initial_value=initial, max_length=2000))


def _modal(callback_id: str, title: str, blocks: list[InputBlock], metadata: str) -> dict:
    view = SlackView(type="modal", callback_id=callback_id,
                     title=PlainTextObject(text=shown(title, 24)),
                     submit=PlainTextObject(text=shown(strings.SUBMIT, 24)),
                     close=PlainTextObject(text=shown(strings.CANCEL, 24)), blocks=blocks,
                     private_metadata=metadata[:3000])
    view.validate_json()
    return view.to_dict()


def reject_modal(ref: str) -> dict[str, Any]:
    return _modal(View.REJECT, strings.REJECT_MODAL_TITLE,
                  [_input("reason", strings.REJECT_REASON, multiline=True)], ref)


def dismiss_modal(exception_id: int) -> dict[str, Any]:
    return _modal(View.DISMISS, strings.DISMISS_MODAL_TITLE,
                  [_input("reason", strings.DISMISS_REASON, multiline=True)], str(exception_id))


def credit_modal(channel: str | None) -> dict[str, Any]:
    return _modal(View.CREDIT, strings.CREDIT_MODAL_TITLE,
                  [_input("invoice", strings.CREDIT_INVOICE),
                   _input("amount", strings.CREDIT_AMOUNT),
                   _input("reason", strings.CREDIT_REASON, multiline=True)], channel or "")
