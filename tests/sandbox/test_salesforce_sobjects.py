"""sObject REST: CRUD, describe, server-maintained fields and save-time errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as ClientError

from sandbox.salesforce import SalesforceEmulator, SalesforceError
from sync.connectors.tls import PinnedCASession

DEAL = {"Name": "Acme renewal", "StageName": "Prospecting", "CloseDate": "2026-01-15"}


@pytest.fixture()
def org() -> Iterator[tuple[SalesforceEmulator, Salesforce]]:
    with SalesforceEmulator() as emu:
        sf = Salesforce(instance_url=emu.url, session_id=emu.token, version=emu.api_version,
                        session=PinnedCASession(str(emu.ca_bundle)))
        yield emu, sf


def fails(call: Any, *args: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ClientError) as info:
        call(*args)
    return info.value.status, info.value.content[0]


def test_crud_round_trip(org: Any) -> None:
    emu, sf = org
    created = sf.Opportunity.create({**DEAL, "Amount": "1200.50", "Requires_Approval__c": True})
    assert created["success"] is True and created["errors"] == []
    opp_id = created["id"]
    assert len(opp_id) == 18 and opp_id.startswith("006")
    got = sf.Opportunity.get(opp_id)
    assert got["Amount"] == 1200.5 and got["CloseDate"] == "2026-01-15"
    assert got["IsClosed"] is False and got["OwnerId"] == emu.owner_id
    assert got["CreatedDate"].endswith("+0000") and len(got["CreatedDate"]) == 28
    assert sf.Opportunity.update(opp_id, {"stagename": "Closed Won"}) == 204
    after = sf.Opportunity.get(opp_id)
    assert after["IsClosed"] is True and after["IsWon"] is True
    assert after["SystemModstamp"] >= got["SystemModstamp"]
    partial = sf.restful(f"sobjects/Opportunity/{opp_id}", params={"fields": "Name,IsWon"})
    assert list(partial) == ["attributes", "Name", "IsWon"]
    assert sf.Opportunity.delete(opp_id) == 204
    status, error = fails(sf.Opportunity.get, opp_id)
    assert status == 404 and error["errorCode"] == "ENTITY_IS_DELETED"
    assert emu.calls["sobject.create"] == 1 and emu.calls["sobject.update"] == 1
    assert emu.calls["sobject.delete"] == 1 and emu.calls["sobject.get"] == 4


def test_system_modstamp_moves_forward_on_every_write(org: Any) -> None:
    emu, sf = org
    opp_id = sf.Opportunity.create(DEAL)["id"]
    first = emu.get("Opportunity", opp_id)
    time.sleep(0.01)
    emu.update("Opportunity", opp_id, {"StageName": "Closed Lost"})
    second = emu.get("Opportunity", opp_id)
    assert second["SystemModstamp"] > first["SystemModstamp"]
    assert second["CreatedDate"] == first["CreatedDate"]
    assert second["IsClosed"] is True and second["IsWon"] is False
    time.sleep(0.01)
    found = sf.query(f"SELECT Id FROM Opportunity WHERE SystemModstamp > "
                     f"{sf.Opportunity.get(opp_id)['CreatedDate']}")
    assert [r["Id"] for r in found["records"]] == [opp_id]


def test_line_item_pricing_and_rollup(org: Any) -> None:
    emu, sf = org
    opp_id = sf.Opportunity.create(DEAL)["id"]
    product = emu.seed("Product2", {"Name": "Seats", "IsActive": True})
    entry = emu.seed("PricebookEntry", {"Pricebook2Id": emu.standard_pricebook_id,
                                        "Product2Id": product, "UnitPrice": 120,
                                        "IsActive": True})
    line = sf.OpportunityLineItem.create({"OpportunityId": opp_id, "PricebookEntryId": entry,
                                          "Quantity": 3, "UnitPrice": 99.99, "Discount": 10})
    stored = emu.get("OpportunityLineItem", line["id"])
    assert str(stored["TotalPrice"]) == "269.97"  # 3 * 99.99 * 0.9 = 269.973, 2 places
    assert stored["Product2Id"] == product and str(stored["ListPrice"]) == "120.00"
    assert stored["Name"] == "Acme renewal Seats"
    by_total = sf.OpportunityLineItem.create({"OpportunityId": opp_id, "Product2Id": product,
                                              "Quantity": 4, "TotalPrice": 1000})
    assert str(emu.get("OpportunityLineItem", by_total["id"])["UnitPrice"]) == "250.00"
    assert str(emu.get("Opportunity", opp_id)["Amount"]) == "1269.97"
    status, error = fails(sf.OpportunityLineItem.update, line["id"], {"TotalPrice": 5})
    assert (status, error["errorCode"]) == (400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    sf.OpportunityLineItem.update(line["id"], {"Quantity": 1, "Discount": None})
    assert str(emu.get("OpportunityLineItem", line["id"])["TotalPrice"]) == "99.99"
    status, error = fails(sf.OpportunityLineItem.create, {"OpportunityId": opp_id, "Quantity": 1,
                                                          "UnitPrice": 1, "TotalPrice": 1})
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    status, error = fails(sf.OpportunityLineItem.create, {"OpportunityId": opp_id, "Quantity": 1})
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    sf.Opportunity.delete(opp_id)
    assert emu.records("OpportunityLineItem") == []


def test_describe(org: Any) -> None:
    _, sf = org
    describe = sf.Opportunity.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "006"
    assert fields["IsWon"]["createable"] is False and fields["IsWon"]["updateable"] is False
    assert fields["Contract_Start_Date__c"]["type"] == "date"
    assert fields["Contract_Start_Date__c"]["custom"] is True
    assert fields["Name"]["nillable"] is False and fields["Amount"]["type"] == "currency"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert {f["name"] for f in sf.describe()["sobjects"]} >= {"Account", "PricebookEntry"}


def test_add_field(org: Any) -> None:
    emu, sf = org
    emu.add_field("Account", "Tier__c", "picklist")
    acct = sf.Account.create({"Name": "Acme", "Tier__c": "Gold"})["id"]
    assert sf.query("SELECT Tier__c FROM Account WHERE Tier__c = 'gold'")["records"][0][
        "Tier__c"] == "Gold"
    assert emu.get("Account", acct)["Tier__c"] == "Gold"


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({**DEAL, "Foo__c": 1}, "INVALID_FIELD", None),
        ({**DEAL, "IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsWon"]),
        ({**DEAL, "SystemModstamp": "2026-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE",
         ["SystemModstamp"]),
        ({"Name": "x"}, "REQUIRED_FIELD_MISSING", ["StageName", "CloseDate"]),
        ({**DEAL, "Amount": "abc"}, "JSON_PARSER_ERROR", None),
        ({**DEAL, "CloseDate": "2026-02-30"}, "JSON_PARSER_ERROR", None),
        ({**DEAL, "Requires_Approval__c": "maybe"}, "JSON_PARSER_ERROR", None),
        ({**DEAL, "Last_Sync_Time__c": "yesterday"}, "JSON_PARSER_ERROR", None),
        ({**DEAL, "AccountId": "nope"}, "MALFORMED_ID", ["AccountId"]),
        ({**DEAL, "AccountId": "001000000000000AAA"}, "INVALID_CROSS_REFERENCE_KEY", []),
        ({**DEAL, "Name": "x" * 121}, "STRING_TOO_LONG", ["Name"]),
        ({**DEAL, "Amount": 10**17}, "NUMBER_OUTSIDE_VALID_RANGE", ["Amount"]),
    ],
)
def test_create_errors(org: Any, body: dict[str, Any], code: str, fields: Any) -> None:
    emu, sf = org
    status, error = fails(sf.Opportunity.create, body)
    assert status == 400 and error["errorCode"] == code
    assert error.get("fields") == fields
    assert emu.records("Opportunity") == []


def test_update_and_lookup_errors(org: Any) -> None:
    emu, sf = org
    opp_id = sf.Opportunity.create(DEAL)["id"]
    status, error = fails(sf.Opportunity.update, opp_id, {"Name": None})
    assert (status, error["errorCode"]) == (400, "REQUIRED_FIELD_MISSING")
    status, error = fails(sf.Opportunity.update, opp_id, {"Id": opp_id})
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    acct = emu.seed("Account", {"Name": "Acme"})
    status, error = fails(sf.Opportunity.update, opp_id, {"AccountId": opp_id})
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    sf.Opportunity.update(opp_id, {"AccountId": acct[:15]})
    assert emu.get("Opportunity", opp_id)["AccountId"] == acct
    assert fails(sf.Opportunity.get, "006000000000000AAA")[1]["errorCode"] == "NOT_FOUND"
    assert fails(sf.Opportunity.get, "006000000000000AAA")[0] == 404
    with pytest.raises(ClientError) as info:
        sf.restful("sobjects/Nope/describe")
    assert info.value.status == 404
    with pytest.raises(SalesforceError) as direct:
        emu.seed("Account", {"Name": "x" * 300})
    assert direct.value.code == "STRING_TOO_LONG"
