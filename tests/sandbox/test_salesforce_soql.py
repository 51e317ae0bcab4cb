"""SOQL subset, clause by clause, through simple-salesforce over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.salesforce import SalesforceEmulator
from sync.connectors.tls import PinnedCASession


@pytest.fixture(scope="module")
def org() -> Iterator[tuple[SalesforceEmulator, Salesforce, dict[str, str]]]:
    with SalesforceEmulator() as emu:
        sf = Salesforce(instance_url=emu.url, session_id=emu.token, version=emu.api_version,
                        session=PinnedCASession(str(emu.ca_bundle)))
        ids = {
            "acme": emu.seed("Account", {"Name": "Acme", "Billing_Email__c": "ap@acme.test"}),
            "globex": emu.seed("Account", {"Name": "Globex"}),
        }
        deals = [
            ("Acme renewal", "acme", 1200, "Closed Won", "2026-01-15", "Monthly"),
            ("Acme expansion", "acme", 800.5, "Negotiation/Review", "2026-02-01", None),
            ("Globex new", "globex", None, "Closed Lost", "2025-12-31", "Annual"),
            ("O'Brien 100% deal", None, 50, "Prospecting", "2026-03-10", "Monthly"),
        ]
        for name, acct, amount, stage, close, cadence in deals:
            ids[name] = emu.seed("Opportunity", {
                "Name": name, "AccountId": ids.get(acct or ""), "Amount": amount,
                "StageName": stage, "CloseDate": close, "Billing_Cadence__c": cadence,
            })
        product = emu.seed("Product2", {"Name": "Seats", "IsActive": True})
        for qty, price in ((10, 100), (1, 50), (3, 7)):
            emu.seed("OpportunityLineItem", {
                "OpportunityId": ids["Acme renewal"], "Product2Id": product,
                "Quantity": qty, "UnitPrice": price,
            })
        yield emu, sf, ids


def names(result: dict[str, Any]) -> list[str]:
    return [r["Name"] for r in result["records"]]


def q(org: Any, soql: str) -> dict[str, Any]:
    return org[1].query(soql)


def test_field_list_and_attributes(org: Any) -> None:
    result = q(org, "select id, NAME, amount from OPPORTUNITY where name = 'Acme renewal'")
    assert result["totalSize"] == 1 and result["done"] is True
    record = result["records"][0]
    assert list(record) == ["attributes", "Id", "Name", "Amount"]  # canonical casing
    assert record["attributes"]["type"] == "Opportunity"
    url = f"/services/data/v59.0/sobjects/Opportunity/{record['Id']}"
    assert record["attributes"]["url"] == url
    assert record["Amount"] == 1071.0  # roll-up of the three line items, not the seeded 1200


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'acme RENEWAL'", ["Acme renewal"]),  # string equality ignores case
        ("Name != 'Acme renewal' AND Name <> 'Globex new'",
         ["Acme expansion", "O'Brien 100% deal"]),
        ("Amount > 800.5", ["Acme renewal"]),
        ("Amount >= 800.5", ["Acme renewal", "Acme expansion"]),
        ("Amount < 800.5", ["O'Brien 100% deal"]),
        ("Amount <= 50", ["O'Brien 100% deal"]),
        ("Amount = null", ["Globex new"]),
        ("Amount != null AND Amount < 1000", ["Acme expansion", "O'Brien 100% deal"]),
        ("Billing_Cadence__c != 'Monthly'", ["Acme expansion", "Globex new"]),  # nulls match !=
        ("StageName IN ('Closed Won', 'Closed Lost')", ["Acme renewal", "Globex new"]),
        ("StageName NOT IN ('Closed Won', 'Closed Lost')", ["Acme expansion", "O'Brien 100% deal"]),
        ("Name LIKE 'acme%'", ["Acme renewal", "Acme expansion"]),
        ("Name LIKE '_lobex%'", ["Globex new"]),
        ("Name LIKE '%100\\%%'", ["O'Brien 100% deal"]),
        ("Name LIKE '%1_0\\% %'", ["O'Brien 100% deal"]),
        ("Name = 'O\\'Brien 100% deal'", ["O'Brien 100% deal"]),
        ("IsWon = true", ["Acme renewal"]),
        ("IsClosed = true AND IsWon = false", ["Globex new"]),
        ("NOT IsClosed = true", ["Acme expansion", "O'Brien 100% deal"]),
        ("CloseDate > 2026-01-15", ["Acme expansion", "O'Brien 100% deal"]),
        ("CloseDate = 2025-12-31", ["Globex new"]),
        ("(Amount > 1000 OR Amount < 100) AND IsClosed = true", ["Acme renewal"]),
        ("NOT (Amount > 1000 OR Amount = null)", ["Acme expansion", "O'Brien 100% deal"]),
        ("Account.Name = 'Acme' AND Amount < 1000", ["Acme expansion"]),
        ("Account.Billing_Email__c = null", ["Globex new", "O'Brien 100% deal"]),
        ("CreatedDate > 2000-01-01T00:00:00Z", None),
        ("CreatedDate < 2000-01-01T00:00:00.000+0000", []),
        ("CreatedDate > 2000-01-01T01:00:00+01:00", None),
    ],
)
def test_where(org: Any, where: str, expected: list[str] | None) -> None:
    result = q(org, f"SELECT Name FROM Opportunity WHERE {where} ORDER BY CloseDate")
    everything = ["Globex new", "Acme renewal", "Acme expansion", "O'Brien 100% deal"]
    wanted = everything if expected is None else expected
    assert sorted(names(result)) == sorted(wanted)


def test_injection_shaped_string_is_plain_text(org: Any) -> None:
    result = q(org, "SELECT Name FROM Opportunity WHERE Name = 'x\\' OR Name != \\'x'")
    assert result["totalSize"] == 0
    backslashes = q(org, "SELECT Name FROM Opportunity WHERE Name = 'a\\\\b\\n'")
    assert backslashes["totalSize"] == 0


def test_order_by_several_fields_and_nulls(org: Any) -> None:
    asc = q(org, "SELECT Name FROM Opportunity ORDER BY Amount")
    assert names(asc)[0] == "Globex new"  # nulls first by default
    last = q(org, "SELECT Name FROM Opportunity ORDER BY Amount ASC NULLS LAST")
    assert names(last) == ["O'Brien 100% deal", "Acme expansion", "Acme renewal", "Globex new"]
    desc = q(org, "SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS LAST")
    assert names(desc) == ["Acme renewal", "Acme expansion", "O'Brien 100% deal", "Globex new"]
    multi = q(org, "SELECT Name FROM Opportunity ORDER BY Billing_Cadence__c DESC NULLS LAST, "
                   "Name ASC")
    assert names(multi) == ["Acme renewal", "O'Brien 100% deal", "Globex new", "Acme expansion"]
    by_parent = q(org, "SELECT Name FROM Opportunity WHERE AccountId != null "
                       "ORDER BY Account.Name DESC, Name")
    assert names(by_parent) == ["Globex new", "Acme expansion", "Acme renewal"]


def test_limit_offset_count(org: Any) -> None:
    page = q(org, "SELECT Name FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 1")
    assert names(page) == ["Acme renewal", "Globex new"] and page["totalSize"] == 2
    count = q(org, "SELECT COUNT() FROM Opportunity WHERE IsClosed = false")
    assert count == {"totalSize": 2, "done": True, "records": []}


def test_parent_fields_nest_and_null_lookup(org: Any) -> None:
    result = q(org, "SELECT Name, account.name, Account.Id, Owner.Email FROM Opportunity "
                    "ORDER BY Name")
    by_name = {r["Name"]: r for r in result["records"]}
    acme = by_name["Acme renewal"]["Account"]
    assert acme["Name"] == "Acme" and acme["attributes"]["type"] == "Account"
    assert acme["Id"] == org[2]["acme"]
    assert by_name["O'Brien 100% deal"]["Account"] is None
    assert by_name["Globex new"]["Owner"]["Email"] == "integration@closebot.example"


def test_child_subquery(org: Any) -> None:
    result = q(org, "SELECT Name, (SELECT Quantity, TotalPrice, Product2.Name FROM "
                    "OpportunityLineItems WHERE Quantity > 1 ORDER BY Quantity DESC LIMIT 5) "
                    "FROM Opportunity WHERE Account.Name = 'Acme' ORDER BY Name")
    expansion, renewal = result["records"]
    assert expansion["OpportunityLineItems"] is None
    items = renewal["OpportunityLineItems"]
    assert items["totalSize"] == 2 and items["done"] is True
    assert [i["Quantity"] for i in items["records"]] == [10, 3]
    assert [i["TotalPrice"] for i in items["records"]] == [1000, 21]
    assert items["records"][0]["Product2"]["Name"] == "Seats"
    accounts = q(org, "SELECT Name, (SELECT Name FROM Opportunities ORDER BY Name) FROM Account "
                      "WHERE Name = 'Acme'")
    assert names(accounts["records"][0]["Opportunities"]) == ["Acme expansion", "Acme renewal"]


def _error(org: Any, soql: str) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as info:
        q(org, soql)
    assert info.value.status == 400
    return info.value.content[0]


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Foo FROM Opportunity", "INVALID_FIELD", "No such column 'Foo' on entity "
         "'Opportunity'"),
        ("SELECT Account.Foo FROM Opportunity", "INVALID_FIELD", "on entity 'Account'"),
        ("SELECT Bogus.Name FROM Opportunity", "INVALID_FIELD", "Didn't understand relationship"),
        ("SELECT Id FROM Foo", "INVALID_TYPE", "sObject type 'Foo' is not supported."),
        ("SELECT Id, (SELECT Id FROM Lines) FROM Opportunity", "INVALID_TYPE", "'Lines'"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT FROM Opportunity", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Opportunity GROUP BY Id", "MALFORMED_QUERY", "GROUP"),
        ("SELECT Id FROM Opportunity WHERE Amount > 1 AND Amount < 5 OR Name = 'x'",
         "MALFORMED_QUERY", "'OR'"),
        ("SELECT Id FROM Opportunity WHERE Name = 'open", "MALFORMED_QUERY", "string literal"),
        ("SELECT Id FROM Opportunity WHERE Name = 'a\\qb'", "MALFORMED_QUERY", "\\q"),
        ("SELECT Id FROM Opportunity WHERE Id IN (SELECT OpportunityId FROM "
         "OpportunityLineItem)", "MALFORMED_QUERY", "semi-join"),
        ("SELECT Id FROM Opportunity WHERE CloseDate > 2026-13-45", "MALFORMED_QUERY", ""),
        ("SELECT Id FROM Opportunity WHERE CloseDate > '2026-01-01'", "INVALID_FIELD",
         "must be of type date and should not be enclosed in quotes"),
        ("SELECT Id FROM Opportunity WHERE Amount = '5'", "INVALID_FIELD", "type double"),
        ("SELECT Id FROM Opportunity WHERE Name = 5", "INVALID_FIELD", "should be enclosed"),
        ("SELECT Id FROM Opportunity WHERE CreatedDate > 2026-01-01", "INVALID_FIELD",
         "dateTime"),
        ("SELECT Id FROM Opportunity WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR",
         "invalid ID field: abc"),
        ("SELECT Id FROM Opportunity WHERE Description = 'x'", "INVALID_FIELD", "can not be "
         "filtered"),
        ("SELECT Id, Id FROM Opportunity", "MALFORMED_QUERY", "duplicate field selected: Id"),
        ("SELECT Id FROM Opportunity OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "2000"),
        ("SELECT COUNT(), Name FROM Opportunity", "MALFORMED_QUERY", ""),
        ("", "MALFORMED_QUERY", ""),
    ],
)
def test_query_errors(org: Any, soql: str, code: str, fragment: str) -> None:
    error = _error(org, soql)
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_id_filters_accept_15_char_ids(org: Any) -> None:
    full = org[2]["acme"]
    result = q(org, f"SELECT Name FROM Account WHERE Id = '{full[:15]}'")
    assert names(result) == ["Acme"]
    lower = q(org, f"SELECT Name FROM Account WHERE Id IN ('{full.lower()}')")
    assert names(lower) == ["Acme"]
