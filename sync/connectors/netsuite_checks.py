"""`closebot doctor` for NetSuite: the connection and token, what the audit reads through SuiteQL,
and the standing service items every posting uses.

The items are upserted by their external IDs, as the first posting would do: that proves the
role may create and edit service items and leaves them in place. It is the only write, and it
touches nothing but closebot's own items (the three every posting uses, and "Bad debt", whose
account, 6200 Bad Debt Expense, is checked first).
"""

from __future__ import annotations

from sync.connectors.netsuite import CREDIT_ITEM, ONE_TIME_ITEM, RECURRING_ITEM, NetSuiteErp
from sync.connectors.netsuite_closures import BAD_DEBT_ITEM
from sync.connectors.netsuite_setup import FIELDS
from sync.connectors.netsuite_transport import BAD_DEBT_EXPENSE
from sync.errors import PermanentError, SyncError
from sync.ports import Check

SYSTEM = "NetSuite"
ROLE = "Setup → Users/Roles → Manage Roles"
ITEMS = (RECURRING_ITEM, ONE_TIME_ITEM, CREDIT_ITEM)


def _fix(error: SyncError) -> str:
    if isinstance(error, PermanentError) and "credentials" in error.reason:
        return ("check NETSUITE_ACCOUNT_ID and the NETSUITE_CONSUMER_*/NETSUITE_TOKEN_* values "
                "(Setup → Users/Roles → Access Tokens), and that the token's role has REST Web "
                "Services and SuiteAnalytics Workbook")
    if isinstance(error, PermanentError):
        return f"give the token's role the permission it lacks: {ROLE}"
    return "check NETSUITE_BASE_URL (unset for the real NetSuite) and the network; try again"


def diagnose(erp: NetSuiteErp) -> list[Check]:
    try:
        currencies = list(erp.suiteql("SELECT id, symbol FROM currency"))
    except SyncError as error:
        what = ("NetSuite refused closebot's token-based credentials"
                if "credentials" in error.reason else f"can't reach NetSuite: {error.reason}")
        return [Check(SYSTEM, False, what, _fix(error))]
    checks = [Check(SYSTEM, True, f"connected to account {erp.account_id} with token-based "
                                  f"auth ({len(currencies)} currencies)")]
    try:
        next(iter(erp.suiteql("SELECT externalid FROM customer WHERE externalid IS NOT NULL")),
             None)
        next(iter(erp.suiteql("SELECT externalid, type FROM transaction "
                              "WHERE externalid IS NOT NULL")), None)
        checks.append(Check(SYSTEM, True,
                            "the role can read customers and transactions (SuiteQL)"))
    except SyncError as error:
        checks.append(Check(SYSTEM, False, f"the role can't read the books: {error.reason}",
                            _fix(error)))
    try:
        for item in ITEMS:
            erp._item_id(item)
        checks.append(Check(SYSTEM, True, "closebot's service items exist and its role can "
                                          f"write them ({', '.join(ITEMS)})"))
    except SyncError as error:
        checks.append(Check(SYSTEM, False, f"closebot can't create its service items: "
                                           f"{error.reason}", _fix(error)))
    return [*checks, _bad_debt(erp), *_setup(erp)]


def _bad_debt(erp: NetSuiteErp) -> Check:
    """A write-off books through the "Bad debt" item to Bad Debt Expense (and a void after it
    takes it back from there): a chart without that account would stop the first write-off."""
    try:
        if BAD_DEBT_EXPENSE not in erp.account_ids():
            return Check(SYSTEM, False, f"NetSuite has no account number {BAD_DEBT_EXPENSE} (Bad "
                                        "Debt Expense), which write-offs book to",
                         f"add it under Lists → Accounting → Accounts, numbered {BAD_DEBT_EXPENSE}")
        erp._item_id(BAD_DEBT_ITEM)
    except SyncError as error:
        return Check(SYSTEM, False, f"closebot can't create its \"{BAD_DEBT_ITEM}\" item: "
                                    f"{error.reason}", _fix(error))
    return Check(SYSTEM, True, f"write-offs book to account {BAD_DEBT_EXPENSE} Bad Debt Expense "
                               f"(the \"{BAD_DEBT_ITEM}\" item)")


def _setup(erp: NetSuiteErp) -> list[Check]:
    """The subsidiary, segments, income account and tax code closebot is set to book to."""
    found: list[str] = []
    for field, value in erp.setup.configured():
        label, setting, record_type = FIELDS[field]
        try:
            record = erp._get(f"{record_type}/{value}")
        except PermanentError:
            return [Check(SYSTEM, False, f"NetSuite has no {label} with internal ID {value}",
                          f"set {setting} to the internal ID of an existing {label}")]
        except SyncError as error:
            return [Check(SYSTEM, False, f"can't read the {label}: {error.reason}", _fix(error))]
        name = record.get("name") or record.get("acctName") or record.get("itemId") or value
        found.append(f"{label} {name}")
    if not found:
        return []
    return [Check(SYSTEM, True, f"records book to {', '.join(found)}")]
