"""Approval cards (with a typed, versioned reference in each button) and their reminders."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import actions, button, context, header, outgoing, section
from handlers.ids import Action
from handlers.markup import mention, mrkdwn
from sync.ops.approval_cards import ApprovalCard
from sync.ops.approvals import ApprovalRef

Message = tuple[str, list[dict[str, Any]]]
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def card_blocks(card: ApprovalCard, *, buttons: bool = True) -> list[Block]:
    head = strings.CARD_HEADER.get(card.kind, "Approval needed")
    blocks: list[Block] = [
        header(f"{head}: {card.customer}"[:150]),
        section(f"*{card.title}*",
                fields=[f"*Customer*\n{card.customer}",
                        mrkdwn("*Requested by*\n{who}",
                               who=_person(card.requester_user, card.requester)),
                        f"*Status*\n{strings.CARD_STATUS.get(card.status, card.status)}"]),
    ]
    for reason in card.reasons[:10]:
        change = (f"\n_original_ {reason.get('original')} → _proposed_ {reason.get('proposed')}"
                  if reason.get("original") or reason.get("proposed") else "")
        blocks.append(section(f"• {reason.get('what', '')}{change}"))
    blocks.append(context(card.downstream))
    if card.needed > 1:
        blocks.append(context(f"Needs {card.needed} different approvers."))
    for d in card.decisions[-5:]:
        blocks.append(context(mrkdwn("{decision} by {who} at {at} UTC{colon}{why}",
                                     decision=str(d["decision"]).capitalize(),
                                     who=mention(d["user"]),
                                     at=str(d["at"])[:16].replace("T", " "),
                                     colon=": " if d.get("reason") else "",
                                     why=d.get("reason") or "")))
    if card.link:
        blocks.append(actions(button("Open record", Action.LINK, url=card.link)))
    if buttons and card.status == "pending":
        ref = ApprovalRef(id=card.id, v=card.version).encode()
        blocks.append(actions(button(strings.APPROVE, Action.APPROVE, ref, style="primary"),
                              button(strings.REJECT, Action.REJECT, ref, style="danger"),
                              block_id=f"approval-{card.id}"))
    return blocks


def approval_card(card: ApprovalCard) -> Message:
    status = strings.CARD_STATUS.get(card.status, card.status)
    return outgoing(f"{status}: {card.title} ({card.customer})", card_blocks(card))


def reminder(card: ApprovalCard, *, hours: int) -> Message:
    text = strings.REMINDER.format(hours=strings.count(hours, "hour"))
    return outgoing(text, [section(f"{text} *{card.title}*")])


def _person(user_id: str | None, fallback: str) -> str:
    """A mention, which Slack shows as the person's name; text when Slack doesn't know them."""
    return mention(user_id) if user_id and _SLACK_USER.match(user_id) else fallback
