"""`closebot config check`: what is configured, what is missing; never a secret value."""

from __future__ import annotations

from app.entities_config import entities_line
from app.salesforce_auth import choose
from app.salesforce_auth import describe as describe_salesforce
from app.settings import Settings

LOCAL = ("127.0.0.1", "localhost")


def _kind(url: str | None) -> str:
    return "sandbox" if url and any(h in url for h in LOCAL) else "real"


def check(settings: Settings) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = True
    db = settings.database_url.split("@")[-1] if "@" in settings.database_url else (
        settings.database_url)
    lines.append(f"database    : {db}")
    salesforce, salesforce_ok = describe_salesforce(settings, _kind)
    ok = ok and salesforce_ok
    lines.append(f"salesforce  : {salesforce}")
    if settings.stripe_api_key:
        key = settings.stripe_api_key.get_secret_value()
        mode = "test mode" if key.startswith(("sk_test", "rk_test")) else "live mode"
        where = _kind(settings.stripe_api_base) if settings.stripe_api_base else "real"
        lines.append(f"stripe      : configured ({where}, {mode}, key set)")
    else:
        ok = False
        lines.append("stripe      : MISSING: set STRIPE_API_KEY")
    if not settings.stripe_webhook_secret and not settings.stripe_connect_webhook_secret:
        lines.append("stripe hooks: not set (STRIPE_WEBHOOK_SECRET); events are polled instead")
    if settings.erp == "ledger":
        lines.append("erp         : ledger (embedded ledger in the database)")
    else:
        erp_line, erp_ok = _erp_line(settings)
        lines.append(erp_line)
        ok = ok and erp_ok
    # Socket Mode authenticates with the app token; only HTTP mode verifies signatures.
    front = settings.slack_app_token or settings.slack_signing_secret
    if settings.slack_bot_token and front:
        mode = "socket mode" if settings.slack_app_token else f"HTTP on :{settings.http_port}"
        where = _kind(settings.slack_api_url) if settings.slack_api_url else "real"
        lines.append(f"slack       : configured ({where}, {mode}, tokens set)")
    elif settings.slack_bot_token:
        lines.append("slack       : bot token set (workers post alerts); `closebot serve` also "
                     "needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)")
    else:
        lines.append("slack       : not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET); "
                     "alerts are kept in the outbox")
    lines.append(f"channels    : alerts {settings.slack_alerts_channel}, approvals "
                 f"{settings.slack_approvals_channel}, digest {settings.slack_digest_channel}")
    lines.append(approvers_line(settings))
    entities, entities_ok = entities_line(settings)
    lines.append(entities)
    return lines, ok and entities_ok


def _erp_line(settings: Settings) -> tuple[str, bool]:
    """NetSuite's or Sage Intacct's settings: what is missing, or where it points."""
    if settings.erp == "intacct":
        missing, url = settings.missing_intacct(), settings.intacct_base_url
        who = f"user {settings.intacct_username}, OAuth client set"
    else:
        missing, url = settings.missing_netsuite(), settings.netsuite_base_url
        who = f"account {settings.netsuite_account_id}, token-based auth set"
        placed = [f"{name} {value}" for name, value in (
            ("subsidiary", settings.netsuite_subsidiary),
            ("department", settings.netsuite_department), ("class", settings.netsuite_class),
            ("location", settings.netsuite_location),
            ("income account", settings.netsuite_income_account),
            ("tax code", settings.netsuite_tax_code)) if value]
        if placed:
            who += f", books to {', '.join(placed)}"
    if missing:
        return f"erp         : {settings.erp} MISSING: set {', '.join(missing)}", False
    return (f"erp         : {settings.erp} configured ({_kind(url) if url else 'real'}, {who})",
            True)


def approvers_line(settings: Settings) -> str:
    """Who may decide approvals; a warning, not a failure: closebot runs, but held deals wait."""
    who = []
    if settings.approver_ids:
        count = len(settings.approver_ids)
        who.append(f"{count} {'person' if count == 1 else 'people'} (SLACK_APPROVERS)")
    if settings.slack_approver_group:
        who.append(f"user group {settings.slack_approver_group} (SLACK_APPROVER_GROUP)")
    if who:
        return f"approvers   : {' and '.join(who)}"
    return ("approvers   : NONE: SLACK_APPROVERS and SLACK_APPROVER_GROUP are unset, so nobody "
            "can approve: deals held for approval (discounts, payment terms, amendments) and "
            "credits wait until one is set")


def missing_systems(settings: Settings, *, slack: bool = False) -> list[str]:
    """The systems a command needs that have no credentials yet, by name (no network)."""
    missing = []
    if choose(settings)[1]:
        missing.append("Salesforce")
    if not settings.stripe_api_key:
        missing.append("Stripe")
    if settings.erp == "netsuite" and settings.missing_netsuite():
        missing.append("NetSuite")
    if settings.erp == "intacct" and settings.missing_intacct():
        missing.append("Sage Intacct")
    # The signing secret is needed in HTTP mode only; `serve` says so itself (SLACK_SIGNING_SECRET).
    if slack and not settings.slack_bot_token:
        missing.append("Slack")
    return missing
