"""Every slash command, action, view and event closebot listens to, named in one place.

`manifest.yml` must list exactly these (a test checks both directions). Command names can be
changed with the `SLACK_COMMANDS` setting, e.g. `invoice-status=/inv,credit=/cb-credit`.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    INVOICE_STATUS = "invoice-status"
    SYNC_STATUS = "sync-status"
    DEAL_TRACE = "deal-trace"
    CREDIT = "credit"
    PAYOUT = "payout"
    AR_AGING = "ar-aging"
    REVENUE = "revenue"
    HELP = "closebot"


class Subcommand(StrEnum):
    """Words after `/closebot`; `help` (or nothing) lists them all."""

    DRY_RUN = "dry-run"


class Action(StrEnum):
    APPROVE = "approval.approve"
    REJECT = "approval.reject"
    RETRY = "exception.retry"
    DISMISS = "exception.dismiss"
    PICK_CUSTOMER = "invoice.pick_customer"
    PICK_DEAL = "trace.pick_deal"
    DELIVER = "delivery.mark"
    UNDO_DELIVERY = "delivery.undo"
    LINK = "link.open"  # link buttons; Slack still sends a click, which is acknowledged


class View(StrEnum):
    REJECT = "approval.reject_modal"
    DISMISS = "exception.dismiss_modal"
    CREDIT = "credit.request_modal"


class Event(StrEnum):
    APP_HOME_OPENED = "app_home_opened"


def command_names(overrides: str = "") -> dict[Command, str]:
    """Each command's slash name, after any `key=/name` overrides."""
    names = {c: f"/{c.value}" for c in Command}
    for pair in filter(None, (p.strip() for p in overrides.split(","))):
        key, _, name = pair.partition("=")
        command = Command(key.strip())
        names[command] = "/" + name.strip().lstrip("/")
    return names
