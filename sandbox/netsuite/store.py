"""The account's records, their external-id index and the invoice application ledger.

Everything here is called with `lock` held: a write validates against the store and commits in
one critical section, so concurrent upserts of one external id can't both create.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.netsuite import oneworld
from sandbox.netsuite.schema import (
    ACCOUNT,
    CURRENCY,
    RECORD_TYPES,
    SEEDED_ACCOUNTS,
    SEEDED_CURRENCIES,
    RecordType,
)

Record = dict[str, Any]
Source = tuple[str, str]  # (record type, internal id) of a payment or credit memo


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._tables: dict[str, dict[str, Record]] = {t.name: {} for t in RECORD_TYPES.values()}
        self._eids: dict[str, dict[str, str]] = {t.name: {} for t in RECORD_TYPES.values()}
        self._sequences: dict[str, int] = defaultdict(int)
        self._numbers: dict[str, int] = defaultdict(int)
        self._applied: dict[str, dict[Source, Decimal]] = defaultdict(dict)
        self.closed_periods: set[str] = set()  # "2026-11": Setup > Accounting > Manage Periods
        # sales order id → invoice id → {order line number: amount that invoice bills of it}
        self._billed: dict[str, dict[str, dict[int, Decimal]]] = defaultdict(dict)
        self.one_world = False  # set by the emulator: customers then need a subsidiary
        for symbol, name, precision in SEEDED_CURRENCIES:
            self.insert(CURRENCY, {"symbol": symbol, "name": name, "precision": precision})
        for number, name, kind in SEEDED_ACCOUNTS:
            self.insert(ACCOUNT, {"acctNumber": number, "acctName": name, "acctType": kind})
        oneworld.seed(self)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, rtype: RecordType, record_id: str) -> Record | None:
        return self._tables[rtype.name].get(record_id)

    def by_external_id(self, rtype: RecordType, external_id: str) -> Record | None:
        record_id = self._eids[rtype.name].get(external_id)
        return None if record_id is None else self._tables[rtype.name][record_id]

    def all(self, rtype: RecordType) -> list[Record]:
        """Records in internal-id order (ids only grow, so insertion order is id order)."""
        return list(self._tables[rtype.name].values())

    def account_id(self, number: str) -> str:
        return next(r["id"] for r in self.all(ACCOUNT) if r["acctNumber"] == number)

    def currency_places(self, currency_id: str) -> int:
        return int(self._tables[CURRENCY.name][currency_id]["precision"])

    def applied_to(self, invoice_id: str, *, excluding: Source | None = None) -> Decimal:
        """What payments and credit memos apply to an invoice, less one source's own share."""
        return sum(
            (amount for source, amount in self._applied[invoice_id].items()
             if source != excluding),
            Decimal(0),
        )

    def applied_by_kind(self, invoice_id: str, kind: str) -> Decimal:
        return sum(
            (amount for (source_type, _), amount in self._applied[invoice_id].items()
             if source_type == kind),
            Decimal(0),
        )

    def billed(self, order_id: str) -> dict[int, Decimal]:
        """What the invoices created from a sales order bill of each of its lines."""
        out: dict[int, Decimal] = defaultdict(Decimal)
        for lines in self._billed[order_id].values():
            for number, amount in lines.items():
                out[number] += amount
        return dict(out)

    def snapshot(self, record: Record) -> Record:
        return copy.deepcopy(record)

    # -- writes --------------------------------------------------------------------------------

    def next_number(self, rtype: RecordType) -> int:
        self._numbers[rtype.name] += 1
        return self._numbers[rtype.name]

    def insert(self, rtype: RecordType, record: Record) -> str:
        self._sequences[rtype.sequence] += 1
        record_id = str(self._sequences[rtype.sequence])
        now = _now()
        record.update(id=record_id, createdDate=now, lastModifiedDate=now)
        self._save(rtype, record, None)
        return record_id

    def replace(self, rtype: RecordType, record: Record) -> None:
        previous = self._tables[rtype.name][record["id"]]
        record["lastModifiedDate"] = _now()
        self._save(rtype, record, previous)

    def _save(self, rtype: RecordType, record: Record, previous: Record | None) -> None:
        eids = self._eids[rtype.name]
        if previous is not None and previous.get("externalId") is not None:
            eids.pop(previous["externalId"], None)
        if record.get("externalId") is not None:
            eids[record["externalId"]] = record["id"]
        self._tables[rtype.name][record["id"]] = record
        if "apply" in record:
            source = (rtype.name, record["id"])
            for line in (previous or {}).get("apply", []):
                self._applied[line["doc"]].pop(source, None)
            for line in record["apply"]:
                self._applied[line["doc"]][source] = line["amount"]
        if record.get("createdFrom") is not None:
            billed: dict[int, Decimal] = defaultdict(Decimal)
            for line in record.get("item", []):
                if line.get("orderLine") is not None:
                    billed[line["orderLine"]] += line["amount"]
            self._billed[record["createdFrom"]][record["id"]] = dict(billed)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
