"""Hostile Salesforce data and hostile typing never reach Slack as live markup.

Anyone who can edit a deal controls its name, its account's name and its products' names, and
anyone in Slack controls a credit or reject reason. Slack reads `<!channel>`, `<@U…>`, `<#C…>`
and `<http…>` as mentions and links wherever it renders text (the top-level `text` drives
notifications), so every one of them must arrive escaped. The deals run through the real
pipeline and every Slack flow; then every recorded Web API call, every response_url post and
every HTTP answer is searched for the raw markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, SyncException
from sync.ops import alerts, approvals, digest
from tests.handlers.conftest import APPROVERS, OWNER, Harness, slack_settings, start, wait_for
from tests.integration.conftest import make_settings

DEAL = "<!channel> Urgent *deal* <!here>"
ACCOUNT = "<@UHOSTILE1> Corp <#C0HOSTILE|finance> <!everyone>"
PRODUCT = "<!subteam^S0HOSTILE> Seats & <http://evil.example/p|more>"
CREDIT_REASON = "<!here> goodwill <http://evil.example/c|click> <@UHOSTILE2>"
REJECT_REASON = "<!channel> not agreed <http://evil.example/r> <#C0HOSTILE>"
DISMISS_REASON = "<!everyone> fixed <@UHOSTILE3> & done"
RAW = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S0HOSTILE>", "<@UHOSTILE",
       "<#C0HOSTILE", "<http://evil.example")


def _deals() -> list[DealSpec]:
    owner = OWNER[1]
    return [
        DealSpec(f"{DEAL} billed", ACCOUNT, owner, "USD", "Annual", "Net 30", 12,
                 [LineSpec(PRODUCT, 1, Decimal("24000"), "Recurring")]),
        DealSpec(f"{DEAL} discounted", f"{ACCOUNT} II", owner, "USD", "Monthly", "Net 30", 12,
                 [LineSpec(PRODUCT, 10, Decimal("1200"), "Recurring", Decimal("35"))]),
        DealSpec(f"{DEAL} broken", f"{ACCOUNT} III", owner, "USD", None, "Net 30", 12,
                 [LineSpec(PRODUCT, 1, Decimal("12000"), "Recurring")]),
    ]


@pytest.fixture
def hostile(recorder: SlackRecorder, db_url: str,
            sessions: sessionmaker[Session]) -> Iterator[Harness]:
    with SandboxStack(slack=False) as stack:
        base = make_settings(stack, db_url)
        settings = slack_settings(recorder, db_url, **{
            k: getattr(base, k) for k in ("salesforce_instance_url", "salesforce_access_token",
                                          "salesforce_api_version", "salesforce_ca_bundle",
                                          "stripe_api_key", "stripe_api_base", "max_attempts",
                                          "backoff_base_s", "backoff_max_s")})
        runtime = build_runtime(settings, sessions)
        seeder = BookSeeder(stack.salesforce)
        for deal in _deals():
            seeder.seed(deal)
        sync_once(runtime)
        yield from start(settings, sessions, recorder, runtime)


def _answers(harness: Harness, sent: list[httpx.Response]) -> list[str]:
    """Everything closebot said to Slack: Web API calls, response_url posts, HTTP answers."""
    calls = [json.dumps(c["args"], ensure_ascii=False) for c in harness.recorder.calls()]
    hooks = [json.dumps(r["payload"], ensure_ascii=False) for r in harness.recorder.responses()]
    return calls + hooks + [r.text for r in sent]


def test_hostile_names_reach_slack_escaped_everywhere(hostile: Harness) -> None:
    harness = hostile
    deps, slack, sent = harness.surface.deps, harness.slack, []
    # The broken deal: an alert in the channel and a DM to its owner, then a hostile dismissal.
    alerts.sweep(deps)
    harness.surface.flush()
    with transaction(harness.sessions) as s:
        exc_id = s.scalar(select(SyncException.id))
    sent.append(slack.click("exception.dismiss", str(exc_id), user=APPROVERS[0]))
    sent.append(slack.submit("exception.dismiss_modal", {"reason": DISMISS_REASON},
                             user=APPROVERS[0], metadata=str(exc_id)))
    # The discounted deal: an approval card, seen in the App Home, reminded, then rejected.
    approvals.post_new_cards(deps)
    harness.surface.flush()
    (card,) = harness.recorder.messages("C0APPROVALS")
    ref = card["blocks"][-1]["elements"][0]["value"]
    sent.append(slack.event({"type": "app_home_opened", "user": APPROVERS[0], "tab": "home",
                             "channel": "D0HOME"}))
    wait_for(lambda: [v for v in harness.recorder.views() if v["type"] == "home"])
    later = deps.now() + timedelta(hours=25)
    now = deps.now
    deps.now = lambda: later
    assert approvals.remind(deps) == 1
    deps.now = now
    sent.append(slack.click("approval.reject", ref, user=APPROVERS[1]))
    sent.append(slack.submit("approval.reject_modal", {"reason": REJECT_REASON},
                             user=APPROVERS[1], metadata=ref))
    # The billed deal: a credit with a hostile reason, approved and applied.
    with transaction(harness.sessions) as s:
        number = s.scalar(select(BillingInvoice.number))
    sent.append(slack.command("/credit", f"{number} 100 {CREDIT_REASON}", user="UREQUEST1"))
    wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                      if "Credit" in m["text"]])
    with transaction(harness.sessions) as s:
        credit = s.scalar(select(Approval).where(Approval.kind == "credit"))
        credit_ref = approvals.ApprovalRef(id=credit.id, v=credit.version).encode()
    sent.append(slack.click("approval.approve", credit_ref, user=APPROVERS[0]))
    wait_for(lambda: _applied(harness.sessions))
    # The digest, and what people type and read back.
    digest.post_digest(deps)
    sent.append(slack.command("/invoice-status", ACCOUNT[:12]))
    sent.append(slack.command("/invoice-status", "<!channel> nothing"))
    sent.append(slack.command("/deal-trace", "<!channel>"))
    sent.append(slack.command("/sync-status"))
    sent.append(slack.command("/credit", f"{number} <!here> {CREDIT_REASON}"))
    sent.append(slack.command("/closebot", "<!everyone>"))
    wait_for(lambda: harness.recorder.responses())  # the /deal-trace answer
    alerts.sweep(deps)
    harness.surface.flush()

    said = _answers(harness, sent)
    assert any("&lt;!channel&gt; Urgent *deal*" in s for s in said)  # the names did arrive
    assert any("&lt;@UHOSTILE1&gt; Corp" in s for s in said)
    assert any("&lt;!here&gt; goodwill" in s for s in said)
    assert any("&lt;!channel&gt; not agreed" in s for s in said)
    assert any("&lt;!everyone&gt; fixed &lt;@UHOSTILE3&gt; &amp; done" in s for s in said)
    methods = {c["method"] for c in harness.recorder.calls()}
    assert {"chat.postMessage", "chat.update", "views.publish"} <= methods
    assert len(harness.recorder.messages("DOWNER01")) == 1
    leaks = [(raw, s[:300]) for s in said for raw in RAW if raw in s]
    assert leaks == []


def _applied(sessions: sessionmaker[Session]) -> bool:
    with transaction(sessions) as s:
        ap = s.scalar(select(Approval).where(Approval.kind == "credit"))
        return bool(ap.payload.get("applied"))
