"""`closebot doctor` for Sage Intacct: the OAuth client signs in, the query service reads what the
audit reads, and the GL accounts closebot posts to exist in the chart of accounts. Nothing is
written."""

from __future__ import annotations

from collections.abc import Mapping

from sync.connectors.intacct import IntacctErp
from sync.connectors.intacct_cash import cash_accounts
from sync.errors import CredentialsRefused, SyncError
from sync.ports import Check

SYSTEM = "Sage Intacct"


def diagnose(erp: IntacctErp, cash: Mapping[str, str] | None = None) -> list[Check]:
    """`cash` is INTACCT_CASH_ACCOUNTS: the cash entries' accounts are checked with the rest."""
    try:
        next(iter(erp.query("accounts-receivable/customer", ["key"])), None)
    except CredentialsRefused as error:
        return [Check(SYSTEM, False, "Sage Intacct refused closebot's OAuth client",
                      error.reason.partition(": ")[2])]
    except SyncError as error:
        return [Check(SYSTEM, False, f"can't reach Sage Intacct: {error.reason}",
                      "check INTACCT_BASE_URL (unset for the real Sage Intacct) and the network")]
    checks = [Check(SYSTEM, True, f"signed in as {erp.username} with OAuth 2.0; the query "
                                  "service reads customers")]
    wanted = {"INTACCT_DEFERRED_REVENUE_ACCOUNT": erp.accounts.deferred_revenue,
              "INTACCT_SALES_TAX_ACCOUNT": erp.accounts.sales_tax,
              "INTACCT_BAD_DEBT_ACCOUNT": erp.accounts.bad_debt,
              "INTACCT_CREDITS_ALLOWANCES_ACCOUNT": erp.accounts.credits_allowances,
              "INTACCT_UNDEPOSITED_FUNDS_ACCOUNT": erp.accounts.undeposited_funds,
              "INTACCT_CUSTOMER_ADVANCES_ACCOUNT": erp.accounts.customer_advances}
    try:
        wanted.update({f"INTACCT_CASH_ACCOUNTS {role}": account
                       for role, account in cash_accounts(erp.accounts, cash or {}).items()})
    except ValueError as error:
        checks.append(Check(SYSTEM, False, str(error), "fix INTACCT_CASH_ACCOUNTS"))
    try:
        have = {r["id"] for r in erp.query("general-ledger/account", ["id"],
                                           [{"$in": {"id": sorted(set(wanted.values()))}}])}
    except SyncError as error:
        return [*checks, Check(SYSTEM, False, f"can't read the chart of accounts: {error.reason}",
                               "give the Web Services user read access to General Ledger")]
    missing = [f"{name}={account}" for name, account in wanted.items() if account not in have]
    if missing:
        checks.append(Check(SYSTEM, False, f"GL accounts missing: {', '.join(missing)}",
                            "add them in General Ledger > Accounts or change the settings"))
    else:
        checks.append(Check(SYSTEM, True, "the GL accounts closebot posts to exist ("
                                          f"{', '.join(sorted(set(wanted.values())))})"))
    return checks
