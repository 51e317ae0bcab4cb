"""Auth, API budget, pagination, routing errors and concurrent clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceRefusedRequest

from sandbox.salesforce import SalesforceEmulator
from sync.connectors.tls import PinnedCASession


def client(emu: SalesforceEmulator, token: str | None = None) -> Salesforce:
    return Salesforce(instance_url=emu.url, session_id=token or emu.token,
                      version=emu.api_version, session=PinnedCASession(str(emu.ca_bundle)))


@pytest.fixture()
def emu() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(daily_api_limit=50) as running:
        yield running


def test_limits_decrease_and_header(emu: SalesforceEmulator) -> None:
    sf = client(emu)
    first = sf.limits()["DailyApiRequests"]
    second = sf.limits()["DailyApiRequests"]
    assert first["Max"] == 50 and second["Remaining"] == first["Remaining"] - 1
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 50
    emu.seed("Account", {"Name": "not an API call"})
    assert sf.limits()["DailyApiRequests"]["Remaining"] == 47
    assert emu.calls == {"limits": 3}
    emu.reset_calls()
    assert emu.calls == {}


def test_budget_exhausted(emu: SalesforceEmulator) -> None:
    sf = client(emu)
    for _ in range(50):
        sf.query("SELECT COUNT() FROM Account")
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT COUNT() FROM Account")
    assert info.value.status == 403
    assert info.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert emu.calls == {"query": 50}


def test_bad_or_missing_token(emu: SalesforceEmulator) -> None:
    with pytest.raises(SalesforceExpiredSession) as info:
        client(emu, token="00Dwrong!token").query("SELECT Id FROM Account")
    assert info.value.status == 401
    assert info.value.content == [{"message": "Session expired or invalid",
                                   "errorCode": "INVALID_SESSION_ID"}]
    raw = requests.get(f"{emu.url}/services/data/v59.0/limits/", verify=str(emu.ca_bundle),
                       timeout=10)
    assert raw.status_code == 401 and raw.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert emu.api_usage() == (0, 50) and emu.calls == {}


def test_routing_errors_and_versions(emu: SalesforceEmulator) -> None:
    session = PinnedCASession(str(emu.ca_bundle))
    auth = {"Authorization": f"Bearer {emu.token}"}
    versions = session.get(f"{emu.url}/services/data/", timeout=10).json()
    assert {"label": "v59.0", "url": "/services/data/v59.0", "version": "59.0"} in versions
    missing = session.get(f"{emu.url}/services/data/v59.0/nothing/here", headers=auth, timeout=10)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    put = session.put(f"{emu.url}/services/data/v59.0/sobjects/Account/001000000000000AAA",
                      headers=auth, json={}, timeout=10)
    assert put.status_code == 405 and put.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    bad_json = session.post(f"{emu.url}/services/data/v58.0/sobjects/Account/", headers=auth,
                            data="{nope", timeout=10)
    assert bad_json.status_code == 400 and bad_json.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    locator = session.get(f"{emu.url}/services/data/v59.0/query/01gXXXXXXXXXXXXAAA-2000",
                          headers=auth, timeout=10)
    assert locator.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_pagination_across_pages_with_snapshot() -> None:
    with SalesforceEmulator() as emu:
        sf = client(emu)
        acct = emu.seed("Account", {"Name": "Acme"})
        for i in range(4500):
            emu.seed("Opportunity", {"Name": f"Deal {i:04d}", "AccountId": acct,
                                     "StageName": "Prospecting", "CloseDate": "2026-01-15"})
        first = sf.query("SELECT Id, Name FROM Opportunity ORDER BY Name")
        assert first["totalSize"] == 4500 and first["done"] is False
        assert len(first["records"]) == 2000
        assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
        assert first["nextRecordsUrl"].endswith("-2000")
        emu.seed("Opportunity", {"Name": "Deal late", "StageName": "Prospecting",
                                 "CloseDate": "2026-01-15"})
        second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
        third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
        assert len(second["records"]) == 2000 and third["done"] is True
        assert "nextRecordsUrl" not in third and len(third["records"]) == 500
        names = [r["Name"] for r in first["records"] + second["records"] + third["records"]]
        assert names == [f"Deal {i:04d}" for i in range(4500)]  # snapshot taken at query time
        everything = sf.query_all("SELECT Id FROM Opportunity")
        assert everything["totalSize"] == 4501
        assert emu.calls == {"query": 2, "queryMore": 4}


def test_large_subquery_is_fast() -> None:
    with SalesforceEmulator() as emu:
        sf = client(emu)
        product = emu.seed("Product2", {"Name": "Seats"})
        for i in range(5000):
            opp = emu.seed("Opportunity", {"Name": f"D{i}", "StageName": "Prospecting",
                                           "CloseDate": "2026-01-15"})
            emu.seed("OpportunityLineItem", {"OpportunityId": opp, "Product2Id": product,
                                             "Quantity": 1, "UnitPrice": i + 1})
        started = time.perf_counter()
        result = sf.query_all("SELECT Id, Amount, (SELECT Id, TotalPrice, Product2.Name FROM "
                              "OpportunityLineItems) FROM Opportunity")
        elapsed = time.perf_counter() - started
        assert result["totalSize"] == 5000
        assert all(r["OpportunityLineItems"]["totalSize"] == 1 for r in result["records"])
        assert elapsed < 10


def test_concurrent_clients() -> None:
    with SalesforceEmulator() as emu:
        opp_ids = [emu.seed("Opportunity", {"Name": f"D{i}", "StageName": "Prospecting",
                                            "CloseDate": "2026-01-15", "Amount": 0})
                   for i in range(20)]
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                sf = client(emu)
                for round_ in range(15):
                    target = opp_ids[(n + round_) % len(opp_ids)]
                    sf.Opportunity.update(target, {"Amount": n * 100 + round_})
                    rows = sf.query("SELECT Id, Amount, Account.Name FROM Opportunity")
                    assert rows["totalSize"] == 20
                    created = sf.Account.create({"Name": f"T{n}-{round_}"})
                    assert sf.Account.get(created["id"])["Name"] == f"T{n}-{round_}"
            except BaseException as exc:  # surfaced to the main thread below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert len(emu.records("Account")) == 8 * 15
        assert emu.calls["sobject.update"] == 120 and emu.calls["query"] == 120
        assert len({r["Id"] for r in emu.records("Account")}) == 120
