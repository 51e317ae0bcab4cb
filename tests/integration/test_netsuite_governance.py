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
    # The account allows 1 request at a time; closebot is configured for 4, more than its
    # share, so the account refuses some: each refused one is paused and sent again.
    with NetSuiteEmulator(concurrency_limit=1, limit_refusal=refusal) as emu:
        ns = _client(emu, concurrency=4, backoff=0.01, limit_retries=12)
        ids = _upsert_all(ns)
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
        assert emu.calls["throttled"] == 3 and ns.calls == 3
        emu.gate.leave()
