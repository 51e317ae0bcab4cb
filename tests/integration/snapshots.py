"""Every system's whole state, as plain values, so a test can say "nothing changed anywhere":
the Salesforce org, the Stripe account, NetSuite's records and every table of closebot's own
database (the embedded ledger included)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import MetaData, select

from sandbox.netsuite.schema import RECORD_TYPES
from sandbox.stack import SandboxStack
from storage.db import make_engine


def salesforce(stack: SandboxStack) -> dict[str, list[dict[str, Any]]]:
    sf = stack.salesforce
    return {obj.name: sorted(sf.records(obj.name), key=lambda r: r["Id"])
            for obj in sf.schema.objects()}


def stripe(stack: SandboxStack) -> dict[str, Any]:
    st = stack.stripe.state
    with st.lock:
        return copy.deepcopy({"objects": st.objects, "internal": st.internal})


def netsuite(stack: SandboxStack) -> dict[str, list[dict[str, Any]]]:
    if stack.netsuite is None:
        return {}
    return {name: stack.netsuite.records(name) for name in RECORD_TYPES}


def database(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                    for name, table in sorted(meta.tables.items())}
    finally:
        engine.dispose()


def everything(stack: SandboxStack, db_url: str) -> dict[str, Any]:
    return {"salesforce": salesforce(stack), "stripe": stripe(stack),
            "netsuite": netsuite(stack), "closebot": database(db_url)}
