"""NetSuite's concurrency governance: closebot keeps within its configured share of the
account's limit, and when the account refuses a request anyway (other integrations share the
limit) it backs off and sends it again, whether refused with HTTP 429 or with the 400
SSS_REQUEST_LIMIT_EXCEEDED; each record is still made once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox.netsuite import NetSuiteEmulator
from sync.connectors.netsuite import NetSuiteErp
from sync.errors import TransientError
from sync.model import Customer

CUSTOMERS = 24


def _client(emu: NetSuiteEmulator, **options: object) -> NetSuiteErp:
    env = emu.env()
    return NetSuiteErp(account_id=env["NETSUITE_ACCOUNT_ID"], base_url=env["NETSUITE_BASE_URL"],
                       consumer_key=env["NETSUITE_CONSUMER_KEY"],
                       consumer_secret=env["NETSUITE_CONSUMER_SECRET"],
                       token_id=env["NETSUITE_TOKEN_ID"], token_secret=env["NETSUITE_TOKEN_SECRET"],
                       ca_bundle=env["NETSUITE_CA_BUNDLE"], **options)  # type: ignore[arg-type]


def _upsert_all(ns: NetSuiteErp) -> list[str]:
    customers = [Customer(crm_account_id=f"001ACC{i:04d}", name=f"Customer {i}")
                 for i in range(CUSTOMERS)]
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda c: ns.upsert_customer(c, currency="USD"), customers))


@pytest.mark.parametrize("refusal", ["429", "SSS"])
def test_refused_requests_are_sent_again_after_a_pause(refusal: str) -> None:
    # The account allows 2 requests at a time and another integration holds one of them, so
    # the account refuses some of closebot's (2, the limit it read): each refused one is
    # paused and sent again.
    with NetSuiteEmulator(concurrency_limit=2, limit_refusal=refusal) as emu:
        assert emu.gate.enter()  # the other integration's request, held open
        ns = _client(emu, concurrency=4, backoff=0.01, limit_retries=12)
        ids = _upsert_all(ns)
        emu.gate.leave()
        assert ns.concurrency == 2
        assert emu.calls["throttled"] > 0
        assert len(set(ids)) == CUSTOMERS == len(emu.records("customer"))
        assert ns.calls == sum(emu.calls.values())  # the refused ones count as calls too


def test_within_its_share_closebot_is_never_refused() -> None:
    with NetSuiteEmulator(concurrency_limit=2) as emu:
        ns = _client(emu, concurrency=2)
        _upsert_all(ns)
        assert emu.calls.get("throttled", 0) == 0
        assert len(emu.records("customer")) == CUSTOMERS


@pytest.mark.parametrize("refusal", ["429", "SSS"])
def test_a_limit_that_never_frees_up_is_a_retryable_failure(refusal: str) -> None:
    # Every slot is taken by another integration: after its pauses closebot reports NetSuite
    # as busy (a transient failure the run retries later), never as a rejected record.
    with NetSuiteEmulator(concurrency_limit=1, limit_refusal=refusal) as emu:
        assert emu.gate.enter()  # the other integration's request, held open
        ns = _client(emu, backoff=0.001, limit_retries=2)
        with pytest.raises(TransientError, match="over its concurrency limit"):
            ns.upsert_customer(Customer(crm_account_id="001BUSY", name="Busy"), currency="USD")
        # The limit can't be read either (refused too): 1 + 3 tries, all refused.
        assert emu.calls["throttled"] == 4 and ns.calls == 4
        emu.gate.leave()


@pytest.mark.parametrize(("integration_limit", "share"), [(None, 3), (2, 2)])
def test_the_share_is_cut_to_the_limit_netsuite_reports(
    integration_limit: int | None, share: int
) -> None:
    # The account allows 3; closebot is configured for 5. It reads governanceLimits first and
    # keeps to 3, or to the 2 an administrator allocated to its integration: never refused.
    with NetSuiteEmulator(concurrency_limit=3, integration_limit=integration_limit) as emu:
        ns = _client(emu, concurrency=5)
        _upsert_all(ns)
        assert ns.concurrency == share
        assert emu.calls["GET governanceLimits"] == 1
        assert emu.calls.get("throttled", 0) == 0
        assert len(emu.records("customer")) == CUSTOMERS
