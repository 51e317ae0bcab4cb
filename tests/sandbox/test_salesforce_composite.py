"""sObject Collections through `sf.restful('composite/sobjects', ...)`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.salesforce import SalesforceEmulator
from sync.connectors.tls import PinnedCASession


@pytest.fixture()
def org() -> Iterator[tuple[SalesforceEmulator, Salesforce]]:
    with SalesforceEmulator() as emu:
        sf = Salesforce(instance_url=emu.url, session_id=emu.token, version=emu.api_version,
                        session=PinnedCASession(str(emu.ca_bundle)))
        yield emu, sf


def account(name: str | None) -> dict[str, Any]:
    return {"attributes": {"type": "Account"}, "Name": name}


def test_create_partial_success_reports_in_order(org: Any) -> None:
    emu, sf = org
    body = {"allOrNone": False, "records": [account("A"), account(None), account("C")]}
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"] == [{"statusCode": "REQUIRED_FIELD_MISSING",
                                     "message": "Required fields are missing: [Name]",
                                     "fields": ["Name"]}]
    assert results[0]["id"].startswith("001") and results[1]["id"] is None
    assert sorted(r["Name"] for r in emu.records("Account")) == ["A", "C"]
    assert emu.calls == {"composite.create": 1}


def test_create_all_or_none_rolls_back(org: Any) -> None:
    emu, sf = org
    body = {"allOrNone": True, "records": [account("A"), account(None), account("C")]}
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert emu.records("Account") == []


def test_update_both_modes(org: Any) -> None:
    emu, sf = org
    a = emu.seed("Account", {"Name": "A"})
    b = emu.seed("Account", {"Name": "B"})
    before = emu.get("Account", a)["SystemModstamp"]

    def patch(all_or_none: bool, name_b: str | None) -> list[dict[str, Any]]:
        records = [{"attributes": {"type": "Account"}, "Id": a, "Name": "A2"},
                   {"attributes": {"type": "Account"}, "id": b, "Name": name_b},
                   {"attributes": {"type": "Account"}, "Name": "no id"}]
        body = {"allOrNone": all_or_none, "records": records}
        return sf.restful("composite/sobjects", method="PATCH", json=body)

    rolled = patch(True, "B2")
    assert [r["success"] for r in rolled] == [False, False, False]
    assert rolled[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert emu.get("Account", a)["Name"] == "A" and emu.get("Account", a)[
        "SystemModstamp"] == before
    partial = patch(False, None)
    assert [(r["id"], r["success"]) for r in partial] == [(a, True), (b, False), (None, False)]
    assert emu.get("Account", a)["Name"] == "A2" and emu.get("Account", b)["Name"] == "B"
    assert emu.get("Account", a)["SystemModstamp"] >= before
    assert emu.calls == {"composite.update": 2}


def test_whole_request_errors(org: Any) -> None:
    emu, sf = org
    too_many = {"records": [account(f"A{i}") for i in range(201)]}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite/sobjects", method="POST", json=too_many)
    assert info.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    bad_type = {"records": [{**account("A"), "Foo__c": 1}]}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite/sobjects", method="POST", json=bad_type)
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert emu.records("Account") == []
    exactly = {"records": [account(f"A{i}") for i in range(200)]}
    assert all(r["success"] for r in sf.restful("composite/sobjects", method="POST",
                                                json=exactly))
    assert len(emu.records("Account")) == 200
