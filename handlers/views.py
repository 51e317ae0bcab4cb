"""Modal submissions: reject reason, dismiss reason, credit request form."""

from __future__ import annotations

from typing import Any

from handlers.commands import flush_after
from handlers.context import surface
from handlers.ids import View
from handlers.requests import Submission, int_value
from sync.ops import alerts, approvals, credits


def reject_submitted(ack: Any, body: dict[str, Any], context: Any) -> None:
    sub, s = Submission.parse(body), surface(context)
    ref = approvals.ApprovalRef.decode(sub.metadata)
    approvals.decide(s.deps, ref, user=sub.user, approve=False, reason=sub.values.get("reason"))
    ack()


def dismiss_submitted(ack: Any, body: dict[str, Any], context: Any) -> None:
    sub, s = Submission.parse(body), surface(context)
    alerts.dismiss(s.deps, int_value(sub.metadata), user=sub.user,
                   reason=sub.values.get("reason", ""))
    ack()


def credit_submitted(ack: Any, body: dict[str, Any], context: Any) -> None:
    sub, s = Submission.parse(body), surface(context)
    credits.request(s.deps, invoice=sub.values.get("invoice", ""),
                    amount=sub.values.get("amount", ""), reason=sub.values.get("reason", ""),
                    user=sub.user)
    ack()


VIEWS = {
    View.REJECT: (reject_submitted, [flush_after]),
    View.DISMISS: (dismiss_submitted, [flush_after]),
    View.CREDIT: (credit_submitted, [flush_after]),
}
