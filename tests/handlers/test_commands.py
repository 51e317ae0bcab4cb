"""Slash commands through signed HTTP requests into the real Bolt app."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from storage.db import transaction
from storage.tables import Approval
from tests.handlers import seed
from tests.handlers.conftest import Harness, wait_for

INJECTION = "x' OR Name != '"


def _text(answer: dict) -> str:
    return answer["text"] + " ".join(str(b) for b in answer.get("blocks", []))


def test_bad_signature_and_old_timestamp_are_refused(harness: Harness) -> None:
    assert harness.slack.command("/sync-status", signature="v0=deadbeef").status_code == 401
    old = int(time.time()) - 6 * 60
    assert harness.slack.command("/sync-status", timestamp=old).status_code == 401


def test_invoice_status_by_number_id_and_opportunity(harness: Harness) -> None:
    billing_id = seed.invoice(harness.sessions, "ACME-0001", "Acme Corp", due_days=-5, opp="006X")
    for query in ("ACME-0001", billing_id, "006X"):
        answer = harness.slack.command("/invoice-status", query).json()
        assert answer["response_type"] == "ephemeral"
        body = _text(answer)
        assert "ACME-0001" in body and "USD 1,500.00" in body
        assert "overdue (5 days past due)" in body
        assert "dashboard.stripe.com/test/invoices/" + billing_id in body
        assert "lightning/r/Opportunity/006X" in body


def test_invoice_status_by_name_prefix_lists_then_picks(harness: Harness) -> None:
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp")
    seed.invoice(harness.sessions, "ACME-0002", "Acme Corp")
    seed.invoice(harness.sessions, "ACMI-0001", "Acmi Ltd")
    one = harness.slack.command("/invoice-status", "acme").json()
    assert "ACME-0001" in _text(one) and "ACME-0002" in _text(one)
    many = harness.slack.command("/invoice-status", "Acm").json()
    assert "Several customers" in many["text"]
    buttons = many["blocks"][1]["elements"]
    assert [b["value"] for b in buttons] == ["acme corp", "acmi ltd"]
    assert len({b["action_id"] for b in buttons}) == 2  # unique within the block
    clicked = harness.slack.click(buttons[1]["action_id"], "acmi ltd", user="UREQUEST1")
    assert clicked.status_code == 200
    reply = wait_for(lambda: harness.recorder.responses())[0]["payload"]
    assert reply["replace_original"] is True and "ACMI-0001" in _text(reply)


def test_invoice_status_usage_none_and_injection(harness: Harness) -> None:
    usage = harness.slack.command("/invoice-status", "").json()
    assert "Usage" in usage["text"]
    none = harness.slack.command("/invoice-status", "Nobody Inc").json()
    assert "No invoice matches" in none["text"] and "ACME-0001" in none["text"]
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp")
    for text in (INJECTION, "%", "_", "' OR 1=1 --"):
        answer = harness.slack.command("/invoice-status", text).json()
        assert "No invoice matches" in answer["text"], text


def test_deal_trace_by_id_name_and_injection(harness: Harness) -> None:
    seed.deal(harness.sessions, "006A", name="Acme Renewal", status="synced")
    seed.deal(harness.sessions, "006B", name="Acme Expansion", status="synced")
    assert harness.slack.command("/deal-trace", "006A").status_code == 200
    first = wait_for(lambda: harness.recorder.responses())[0]["payload"]
    assert "Chain of custody: Acme Renewal" in first["text"]
    assert "Stripe customer" in _text(first) and "missing" in _text(first)
    harness.slack.command("/deal-trace", "acme")
    picks = wait_for(lambda: harness.recorder.responses()[1:])[0]["payload"]
    assert "Several deals" in picks["text"]
    harness.slack.command("/deal-trace", INJECTION)
    plain = wait_for(lambda: harness.recorder.responses()[2:])[0]["payload"]
    assert "No deal in closebot matches" in plain["text"]
    assert "Usage" in harness.slack.command("/deal-trace", "").json()["text"]


def test_sync_status_lists_exceptions_with_buttons(harness: Harness) -> None:
    seed.deal(harness.sessions, "006A", status="exception")
    exc_id = seed.exception(harness.sessions, "006A")
    answer = harness.slack.command("/sync-status").json()
    body = _text(answer)
    assert "Sync status" in answer["text"] and "could not be billed" in body
    assert f"'value': '{exc_id}'" in body and "exception.retry" in body


def test_help_and_unknown_subcommand(harness: Harness) -> None:
    help_text = _text(harness.slack.command("/closebot", "help").json())
    for command in ("/invoice-status", "/sync-status", "/deal-trace", "/credit"):
        assert command in help_text
    unknown = _text(harness.slack.command("/closebot", "frobnicate").json())
    assert "I don't know “frobnicate”" in unknown and "/credit" in unknown


def test_credit_command_opens_approval(harness: Harness) -> None:
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp", total=1_000_000)
    answer = harness.slack.command("/credit", "ACME-0001 1,500.00 outage in May").json()
    assert "sent for approval" in answer["text"]
    card = wait_for(lambda: harness.recorder.messages("C0APPROVALS"))[0]
    assert "Credit of USD 1,500.00 on invoice ACME-0001" in card["text"]
    with transaction(harness.sessions) as s:
        ap = s.scalar(select(Approval))
        assert (ap.kind, ap.amount_minor, ap.requested_by) == ("credit", 150_000, "UREQUEST1")
    # The card's ts is recorded once Slack has answered, a moment after the recorder saw it.
    assert wait_for(lambda: _card_ts(harness)) == card["ts"]


def _card_ts(harness: Harness) -> str | None:
    with transaction(harness.sessions) as s:
        return s.scalar(select(Approval.card_ts))


def test_credit_bad_input_and_modal(harness: Harness) -> None:
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp", total=100_000)
    too_much = harness.slack.command("/credit", "ACME-0001 5000 goodwill").json()
    assert "at most USD 1,000.00" in too_much["text"]
    assert "not an amount" in harness.slack.command("/credit", "ACME-0001 lots why").json()["text"]
    assert "Give the invoice" in harness.slack.command("/credit", "ACME-0001").json()["text"]
    assert harness.slack.command("/credit", "").status_code == 200
    (view,) = wait_for(lambda: harness.recorder.views())
    assert view["callback_id"] == "credit.request_modal"
    bad = harness.slack.submit("credit.request_modal",
                               {"invoice": "NOPE", "amount": "10", "reason": "x"}, user="UREQUEST1")
    assert bad.json() == {"response_action": "errors",
                          "errors": {"invoice": bad.json()["errors"]["invoice"]}}
    ok = harness.slack.submit("credit.request_modal",
                              {"invoice": "ACME-0001", "amount": "10", "reason": "late"},
                              user="UREQUEST1")
    assert ok.status_code == 200 and not ok.text
    with transaction(harness.sessions) as s:
        assert s.scalar(select(func.count()).select_from(Approval)) == 1


def test_unknown_error_shows_an_error_id(harness: Harness, monkeypatch) -> None:
    from sync.ops import queries

    def boom(*_a, **_k):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(queries, "sync_status", boom)
    answer = harness.slack.command("/sync-status").json()
    assert "error ID" in answer["text"] and "exploded" not in answer["text"]
