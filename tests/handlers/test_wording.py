"""What people read in Slack: field labels rather than API names, people rather than user IDs,
one way of writing an amount, and proper plurals."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import transaction
from storage.tables import Approval, Deal
from sync.engine import exceptions
from sync.ops import alerts, approvals
from tests.handlers import seed
from tests.handlers.conftest import APPROVERS, OWNER, Harness, wait_for


def _cards(harness: Harness) -> list[dict]:
    approvals.post_new_cards(harness.surface.deps)
    harness.surface.flush()
    return harness.recorder.messages("C0APPROVALS")


def test_cards_mention_who_asked_instead_of_an_id_or_address(harness: Harness) -> None:
    seed.deal(harness.sessions)
    seed.approval(harness.sessions)
    (card,) = _cards(harness)
    assert f"*Requested by*\\n<@{OWNER[0]}>" in str(card["blocks"])
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp", total=1_000_000)
    harness.slack.command("/credit", "ACME-0001 100 goodwill", user="UREQUEST1")
    credit = wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                               if "Credit of" in m["text"]])[0]
    assert "*Requested by*\\n<@UREQUEST1>" in str(credit["blocks"])


def test_an_owner_slack_does_not_know_is_shown_by_address(harness: Harness) -> None:
    seed.deal(harness.sessions, owner="nobody@elsewhere.example")
    seed.approval(harness.sessions)
    with transaction(harness.sessions) as s:
        s.scalar(select(Approval)).requested_by = "nobody@elsewhere.example"
    (card,) = _cards(harness)
    assert "*Requested by*\\nnobody@elsewhere.example" in str(card["blocks"])


def test_a_rejection_written_to_salesforce_names_the_approver(harness: Harness) -> None:
    harness.recorder.add_user(APPROVERS[1], "pat@example.com", "Pat Approver")
    seed.deal(harness.sessions)
    seed.approval(harness.sessions)
    (card,) = _cards(harness)
    ref = card["blocks"][-1]["elements"][0]["value"]
    harness.slack.click("approval.reject", ref, user=APPROVERS[1])
    wait_for(lambda: harness.recorder.views())
    harness.slack.submit("approval.reject_modal", {"reason": "Discount not agreed"},
                         user=APPROVERS[1], metadata=ref)
    with transaction(harness.sessions) as s:
        message = s.get(Deal, "006A").message
    assert message == "Rejected in Slack by Pat Approver: Discount not agreed"


def test_alerts_and_owner_messages_name_fields_by_their_labels(harness: Harness) -> None:
    seed.deal(harness.sessions, status="exception")
    with transaction(harness.sessions) as s:
        exceptions.raise_exception(
            s, opportunity_id="006A", kind="validation", system="salesforce",
            fields=["Billing_Cadence__c", "Contract_Start_Date__c"],
            reason="Deal Acme Renewal can't be billed: Billing Cadence is empty")
    alerts.sweep(harness.surface.deps)
    harness.surface.flush()
    (alert,) = harness.recorder.messages("C0ALERTS")
    (dm,) = harness.recorder.messages("D" + OWNER[0][1:])
    for shown in (str(alert["blocks"]), dm["text"]):
        assert "Billing Cadence" in shown and "Contract Start Date" in shown
        assert "__c" not in shown


def test_counts_read_as_words(harness: Harness) -> None:
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp", due_days=-1)
    answer = harness.slack.command("/invoice-status", "ACME-0001").json()
    assert answer["text"] == "1 invoice for “ACME-0001”"
    assert "(1 day past due)" in str(answer["blocks"])
    for n in range(11):
        seed.deal(harness.sessions, f"006E{n:02d}", status="exception")
        seed.exception(harness.sessions, f"006E{n:02d}", error=f"cause {n}")
    status = harness.slack.command("/sync-status").json()
    assert "…and 1 more open exception." in str(status["blocks"])
