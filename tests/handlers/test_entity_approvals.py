"""An entity's approvers, and only they, decide the requests of the deals that entity sells."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session, sessionmaker

from sandbox.slack import SlackRecorder
from storage.db import transaction
from storage.tables import ContractVersion
from sync.ops import approvals
from tests.handlers import seed
from tests.handlers.conftest import APPROVERS, Harness, slack_settings, start, wait_for
from tests.handlers.test_approvals import _state

# UAPPROVE1 approves for the company at large (SLACK_APPROVERS) but not for the UK entity.
ENTITIES = json.dumps([
    {"name": "Acme Inc", "countries": ["US"], "functional_currency": "USD",
     "approvers": [APPROVERS[0]]},
    {"name": "Acme Ltd", "countries": ["GB"], "functional_currency": "GBP",
     "approvers": [APPROVERS[1]]},
])


def _contract(sessions: sessionmaker[Session], entity: str | None) -> None:
    with transaction(sessions) as s:
        s.add(ContractVersion(opportunity_id="006A", version=1, terms_hash="h", currency="USD",
                              total_minor=12_000_000, body={"entity": entity}))


def _card(h: Harness, entity: str | None) -> str:
    """The card of a deal sold by `entity`; its Approve button's value."""
    seed.deal(h.sessions)
    _contract(h.sessions, entity)
    seed.approval(h.sessions)
    approvals.post_new_cards(h.surface.deps)
    h.surface.flush()
    (card,) = h.recorder.messages("C0APPROVALS")
    return card["blocks"][-1]["elements"][0]["value"]


def _harness(recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]):
    settings = slack_settings(recorder, db_url, entities=ENTITIES)
    return start(settings, sessions, recorder)


def test_only_the_entitys_approvers_decide_its_deal(recorder: SlackRecorder, db_url: str,
                                                     sessions: sessionmaker[Session]) -> None:
    for h in _harness(recorder, db_url, sessions):
        ref = _card(h, "Acme Ltd")
        h.slack.click("approval.approve", ref, user=APPROVERS[0])
        reply = wait_for(lambda h=h: h.recorder.responses())[0]["payload"]
        assert reply["text"] == ("Only Acme Ltd's approvers can decide this request for a deal "
                                 "Acme Ltd sells. Nothing was changed.")
        assert _state(h) == ("pending", 1, "awaiting_approval", "held")
        h.slack.click("approval.approve", ref, user=APPROVERS[1])
        assert _state(h) == ("approved", 2, "pending", "pending")


def test_a_deal_without_an_entity_keeps_the_company_approvers(
        recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]) -> None:
    for h in _harness(recorder, db_url, sessions):
        ref = _card(h, None)
        h.slack.click("approval.approve", ref, user=APPROVERS[0])
        assert _state(h) == ("approved", 2, "pending", "pending")


def test_the_refusal_comes_before_the_reject_modal(recorder: SlackRecorder, db_url: str,
                                                   sessions: sessionmaker[Session]) -> None:
    for h in _harness(recorder, db_url, sessions):
        ref = _card(h, "Acme Inc")
        h.slack.click("approval.reject", ref, user=APPROVERS[1])
        reply = wait_for(lambda h=h: h.recorder.responses())[0]["payload"]
        assert "Only Acme Inc's approvers" in reply["text"]
        assert h.recorder.views() == []
        assert _state(h) == ("pending", 1, "awaiting_approval", "held")
