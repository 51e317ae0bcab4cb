"""What `closebot doctor` reads from each emulator, driven through the real clients: Salesforce
describe after an admin removes a field or makes one read-only, Stripe's balance and restricted
keys, Slack's channels, members and token scopes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as ClientError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.salesforce import SalesforceEmulator
from sandbox.slack import SlackRecorder
from sandbox.slack.recorder import DEFAULT_SCOPES
from sandbox.stripe import StripeEmulator
from sync.connectors.tls import PinnedCASession
from tests.reference import reference_file

SPEC = reference_file("slack-web-openapi-v2.json")


def _fields(sf: Salesforce, sobject: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in getattr(sf, sobject).describe()["fields"]}


def test_salesforce_field_removed_and_made_read_only() -> None:
    with SalesforceEmulator() as emu:
        sf = Salesforce(instance_url=emu.url, session_id=emu.token, version=emu.api_version,
                        session=PinnedCASession(str(emu.ca_bundle)))
        opp = emu.seed("Opportunity", {"Name": "Acme", "StageName": "Prospecting",
                                       "CloseDate": "2026-01-15"})
        emu.remove_field("Opportunity", "Sync_Status__c")
        assert "Sync_Status__c" not in _fields(sf, "Opportunity")
        with pytest.raises(ClientError) as info:
            sf.query("SELECT Id, Sync_Status__c FROM Opportunity")
        assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
        emu.make_read_only("Opportunity", "Invoice_Number__c")
        described = _fields(sf, "Opportunity")["Invoice_Number__c"]
        assert (described["createable"], described["updateable"]) == (False, False)
        with pytest.raises(ClientError) as info:
            sf.Opportunity.update(opp, {"Invoice_Number__c": "INV-1"})
        assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
        with pytest.raises(ValueError):
            emu.remove_field("Opportunity", "Name")  # standard fields can't be deleted


@pytest.fixture
def stripe_emu() -> Iterator[StripeEmulator]:
    with StripeEmulator() as emu:
        yield emu


def _client(emu: StripeEmulator, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": emu.url}, max_network_retries=0)


def test_stripe_balance(stripe_emu: StripeEmulator) -> None:
    balance = _client(stripe_emu, stripe_emu.api_key).v1.balance.retrieve()
    assert balance.object == "balance" and balance.livemode is False
    assert [(f.amount, f.currency) for f in balance.available] == [(0, "usd")]


def test_stripe_restricted_key(stripe_emu: StripeEmulator) -> None:
    key = "rk_test_readsomething"
    stripe_emu.add_restricted_key(key, {"customer": "read", "invoice": "write"})
    client = _client(stripe_emu, key)
    assert client.v1.customers.list({"limit": 1}).data == []
    assert client.v1.invoices.list({"limit": 1}).data == []  # write implies read
    with pytest.raises(stripe.PermissionError) as refused:
        client.v1.credit_notes.list({"limit": 1})
    assert refused.value.http_status == 403
    assert "Having the 'rak_credit_note_read' permission" in str(refused.value)
    assert key not in str(refused.value)  # Stripe masks the key in its message
    with pytest.raises(stripe.PermissionError) as refused:
        client.v1.customers.create({"name": "Acme"})
    assert "'rak_customer_write'" in str(refused.value)
    with pytest.raises(stripe.AuthenticationError):
        _client(stripe_emu, "rk_test_unknown").v1.customers.list()
    with pytest.raises(ValueError):
        stripe_emu.add_restricted_key("sk_test_other", {"customer": "read"})


@pytest.fixture
def slack() -> Iterator[tuple[SlackRecorder, WebClient]]:
    with SlackRecorder() as rec:
        yield rec, WebClient(token=rec.bot_token, base_url=rec.url + "/api/")


def test_channels_the_bot_sees_and_is_in(slack: tuple[SlackRecorder, WebClient]) -> None:
    rec, client = slack
    secret = rec.add_channel("finance-secret", private=True, members=["U0SOMEONE"])
    mine = rec.add_channel("finance-board", private=True)
    listed = client.conversations_list(types="public_channel,private_channel")
    names = {c["name"]: c["is_member"] for c in listed["channels"]}
    assert names == {"general": False, "finance-alerts": True, "finance-approvals": True,
                     "finance-digest": True, "finance-board": True}
    assert client.conversations_list()["response_metadata"]["next_cursor"] == ""
    first = client.conversations_list(limit=2)
    second = client.conversations_list(limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert len(first["channels"]) == 2 and len(second["channels"]) == 2
    assert not {c["id"] for c in first["channels"]} & {c["id"] for c in second["channels"]}
    info = client.conversations_info(channel=mine, include_num_members=True)["channel"]
    assert info["is_private"] and info["is_member"] and info["num_members"] == 1
    with pytest.raises(SlackApiError) as hidden:
        client.conversations_info(channel=secret)
    assert hidden.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as by_name:
        client.conversations_info(channel="#finance-alerts")  # IDs only, as Slack
    assert by_name.value.response["error"] == "channel_not_found"
    alerts = next(c["id"] for c in listed["channels"] if c["name"] == "finance-alerts")
    assert client.conversations_members(channel=alerts)["members"] == [rec.bot_user_id]
    rec.remove_from_channel("#finance-alerts")
    assert client.conversations_info(channel=alerts)["channel"]["is_member"] is False
    assert client.conversations_members(channel=alerts)["members"] == []


@pytest.mark.skipif(not SPEC.exists(), reason="reference spec not present")
def test_conversation_objects_carry_what_slack_describes(
    slack: tuple[SlackRecorder, WebClient]
) -> None:
    _, client = slack
    spec = json.loads(SPEC.read_text())
    required = spec["definitions"]["objs_conversation"]["items"][0]["required"]
    for channel in client.conversations_list()["channels"]:
        assert set(required) <= channel.keys()
        assert channel["id"][0] in "CG" and len(channel["id"]) >= 9  # defs_channel's pattern


def test_token_scopes_header_and_missing_scope(slack: tuple[SlackRecorder, WebClient]) -> None:
    rec, client = slack
    answer = client.auth_test()
    assert set(answer.headers["x-oauth-scopes"].split(",")) == set(DEFAULT_SCOPES)
    rec.set_scopes(DEFAULT_SCOPES - {"channels:read", "groups:read"})
    with pytest.raises(SlackApiError) as refused:
        client.conversations_list()
    body = refused.value.response
    assert (body["error"], body["needed"]) == ("missing_scope", "channels:read")
    assert "channels:read" not in body["provided"].split(",")
    assert "channels:read" not in refused.value.response.headers["x-oauth-scopes"]
    assert client.chat_postMessage(channel="C0FINALERTS", text="hi")["ok"]  # chat:write
    rec.set_scopes({"commands"})
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C0FINALERTS", text="hi")
    assert refused.value.response["needed"] == "chat:write"
    rec.reset()
    assert client.conversations_list()["ok"]  # reset restores the default scopes
