"""Every sentence closebot says in Slack. Business words; no stack traces, no secrets."""

from __future__ import annotations

HELP_TITLE = "closebot: Salesforce → Stripe → ERP, steered from Slack"
HELP_LINES = (
    ("{invoice_status} <invoice number | customer name | opportunity ID | Stripe invoice ID>",
     "status, balance, due dates and links for matching invoices"),
    ("{sync_status}", "the last 24 hours, last successful runs, intake lag, open exceptions"),
    ("{deal_trace} <opportunity ID or name>", "one deal's chain of custody, hop by hop"),
    ("{credit} <invoice> <amount> <reason>", "request a credit (opens a form with no arguments)"),
    ("{help} dry-run <opportunity ID or name>",
     "what a sync of the deal would create in Stripe, the ERP and Salesforce; changes nothing"),
    ("{ar_aging} [customer]", "open receivables by days past due, per currency, with a chart"),
    ("{revenue} [month]", "the revenue still to be recognized, month by month, and the RPO "
     "(current and non-current), with a chart"),
    ("{payout} <payout ID or date>", "a Stripe payout's gross, refunds, fees, disputes and "
     "net, and whether the bank statement shows it"),
    ("{help} help", "this list"),
)
UNKNOWN_SUBCOMMAND = "I don't know “{text}”. Here is what I can do:"

INVOICE_USAGE = ("Usage: `{cmd} <invoice number | customer name | opportunity ID | Stripe "
                 "invoice ID>`, e.g. `{cmd} ACME-0001` or `{cmd} Acme`.")
INVOICE_NONE = ("No invoice matches “{query}”. Try an invoice number (`{cmd} ACME-0001`), "
                "the start of a customer name (`{cmd} Acme`), an opportunity ID or a Stripe "
                "invoice ID.")
INVOICE_PICK = "Several customers match “{query}”. Pick one:"
INVOICE_FOUND = "{invoices} for “{query}”"
INVOICE_MORE = "Showing the {n} most recent; narrow the search for older ones."
INVOICE_FIELDS = ("*Customer*\n{customer}", "*Amount*\n{total}", "*Status*\n{status}",
                  "*Issued / due*\n{issued} / {due}", "*Paid*\n{paid}",
                  "*Outstanding*\n{outstanding}")
DAYS_LATE = " ({days} past due)"
# A deal that matches but has no invoice, by its status: say why rather than "no match".
DEAL_NO_INVOICE = {
    "exception": "*{deal}* ({customer}) has no invoice: the deal is in exception. {reason}",
    "awaiting_approval": "*{deal}* ({customer}) has no invoice yet: it waits for approval "
                         "({reason}).",
    "rejected": "*{deal}* ({customer}) has no invoice: {reason}",
    "pending": "*{deal}* ({customer}) has no invoice yet: closebot is still syncing it.",
    "synced": "*{deal}* ({customer}) is synced and has no invoice yet: Stripe issues the first "
              "one on its billing date.",
}
DEAL_NO_REASON = {"exception": "See the alert in the alerts channel.",
                  "awaiting_approval": "see the approval card", "rejected": "it was rejected."}
DEALS_NO_INVOICE = "No invoice matches “{query}”; these deals match and have none yet:"

TRACE_USAGE = "Usage: `{cmd} <opportunity ID or name>`, e.g. `{cmd} 006000000000001AAA`."
TRACE_NONE = "No deal in closebot matches “{query}”. Example: `{cmd} Acme Renewal`."
TRACE_CRM_ONLY = ("“{query}” is in Salesforce but not (yet) in closebot: it isn't closed-won, "
                  "or the next intake hasn't run. Matches: {names}")
TRACE_PICK = "Several deals match “{query}”. Pick one:"
HOP_MARK = {"ok": "✅", "missing": "❌ missing", "not yet": "⏳ not yet", "exception": "⚠️"}

DRY_RUN_USAGE = ("Usage: `{cmd} dry-run <opportunity ID or name>`, e.g. `{cmd} dry-run "
                 "Acme Renewal`. Shows what a sync would create; changes nothing.")
DRY_RUN_WORKING = "Working out what a sync of “{query}” would do. Nothing will be changed."
DRY_RUN_NOT_READY = ("A dry run needs Salesforce, Stripe and the ERP configured for closebot "
                     "here; `closebot config check` says what is missing.")
DRY_RUN_TITLE = "Dry run: {deal}"
DRY_RUN_VERDICT = "*{verdict}*{amount}. Nothing was changed in any system."
DRY_RUN_INVALID = "Nothing would be created. Fix in Salesforce:"
DRY_RUN_FAILED = "It would stop here:"
DRY_RUN_APPROVAL = "Nothing is created until someone approves:"
DRY_RUN_PHASE = {"now": "Now", "after approval": "Once approved"}
DRY_RUN_NOTHING = "Nothing to do: closebot has already synced this deal as it stands."
DRY_RUN_MISSING = "Salesforce has no closed-won opportunity {opp}: closebot syncs only those."
DRY_RUN_MORE = "…and {n} more records; `closebot dry-run --opportunity {opp}` lists them all."

STATUS_TITLE = "Sync status: last 24 hours"
STATUS_RUNS = "*Last successful run*\n{runs}"
STATUS_LAG = "*Intake lag*: {lag}"
STATUS_NO_EXCEPTIONS = "No open exceptions. 🎉"
STATUS_MORE = "…and {more}."

CREDIT_USAGE = ("Usage: `{cmd} <invoice> <amount> <reason>`, e.g. `{cmd} ACME-0001 1500 "
                "service outage in May`, or `{cmd}` alone for a form.")
CREDIT_REQUESTED = ("Credit request sent for approval in {channel}. You'll see the decision on "
                    "the card.")
CREDIT_MODAL_TITLE = "Request a credit"
CREDIT_INVOICE = "Invoice number"
CREDIT_AMOUNT = "Amount (in the invoice's currency)"
CREDIT_REASON = "Reason"

APPROVE = "Approve"
REJECT = "Reject"
RETRY = "Retry"
DISMISS = "Dismiss"
SUBMIT = "Submit"
CANCEL = "Cancel"
REJECT_MODAL_TITLE = "Reject request"
REJECT_REASON = "Why is this rejected? (goes to Salesforce)"
DISMISS_MODAL_TITLE = "Dismiss exception"
DISMISS_REASON = "Why can this be dismissed?"
FIRST_APPROVAL = ("Recorded your approval. This request needs a second approver, someone other "
                  "than you.")
DECIDED = "Recorded: {status}."
RETRY_QUEUED = "Retrying now; the alert updates when it is through."
DISMISSED = "Dismissed."
ASK = "Ask {who}."

CARD_HEADER = {"credit": "💳 Credit request", "discount": "🏷️ Discount above policy",
               "terms": "📅 Unusual payment terms", "amendment": "📈 Large amendment",
               "flagged": "🚩 Flagged for review", "close": "🗓️ Month-end close"}
CARD_STATUS = {"pending": "⏳ Waiting for approval", "approved": "✅ Approved",
               "rejected": "⛔ Rejected"}
REMINDER = "⏰ Reminder: this request has been waiting for {hours} or more."

ALERT_TITLE = {"open": "🔴 {reason}", "resolved": "✅ Resolved: {reason}",
               "dismissed": "⚪ Dismissed: {reason}"}
ALERT_DM = ("Hi! Your deal *{deal}* can't be billed until these Salesforce fields are fixed: "
            "{fields}. Once they are, it flows on by itself.")
ALERT_DM_FIXED = "✅ Your deal *{deal}* is fixed and flowing on. Thanks!"
GROUP_ALERT = "🔴 {system} unreachable: {deals} waiting, next retry at {next}"
GROUP_RECOVERED = "✅ Recovered. Was: {cause}"

DIGEST_TITLE = "closebot daily digest · {day}"
TIEOUT_TITLE = "*Three-way tie-out, {currency}* (nightly reconciliation, {at})"
TIEOUT_NONE = "Three-way tie-out: the nightly reconciliation hasn't run yet."
TIEOUT_AGREE = "✅ Salesforce, Stripe and the ERP agree: no variance."
TIEOUT_MORE = "and {more} more variance(s): see the reconciliation alerts."
TIEOUT_ENTITY = ("*{entity}*, {currency}: booked {booked} · billed {billed} · invoiced "
                 "{invoiced} · {variances} variance(s)")
HOME_TITLE = "closebot"
HOME_WAITING = "Approvals waiting for you"
HOME_NONE = "Nothing waits for you. 🎉"

ERROR_UNKNOWN = ("Something went wrong on our side (error ID `{error_id}`). Nothing was changed "
                 "twice; please try again, and quote the ID if it persists.")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 invoice`, `2 invoices`: a number with its noun, never `invoice(s)`."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis rather than mid-word."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"

PAYOUT_USAGE = ("Usage: `{cmd} <payout ID or arrival date>`, e.g. `{cmd} po_1Pabc` or "
                "`{cmd} 2026-03-05`.")
PAYOUT_NONE = "No Stripe payout matches “{query}”. Try its ID (`po_…`) or its arrival date."
PAYOUT_NO_STRIPE = "Stripe is not configured, so closebot can't read payouts."
PAYOUT_TITLE = "Payout {id}: {amount}, arriving {arrival} ({status})"
PAYOUT_LINES = (("Gross", "gross"), ("Refunds", "refunds"), ("Fees", "fees"),
                ("Disputes", "disputes"), ("Other", "other"), ("Net", "net"))
PAYOUT_ADDS_UP = "Its {count} balance transactions add up to the payout."
PAYOUT_OFF = ("Its {count} balance transactions come to {net}, not the payout's {amount}: "
              "a difference of {diff} to look into in Stripe.")
PAYOUT_BANK = {
    "matched": "Bank: matched to the line of {posted_on} (`{line}`, by {how}).",
    "waiting": "Bank: no line yet; statements imported run to {covered}.",
    "missing": ("Bank: *no line* though the statements imported run to {covered}: ask the bank "
                "or Stripe where it is."),
    "not_arriving": "Bank: none expected; the payout {status}.",
}

AGING_TITLE = "AR aging as of {as_of}"
AGING_CURRENCY = "*{currency}*: open balances by days past due"
AGING_NONE = "No open invoices: nothing is receivable."
AGING_NONE_FOR = "No open invoices for customers matching “{customer}”."
AGING_MORE = "and {count} more customers: `closebot books ar-aging` lists them all."
AGING_NO_ERP = "closebot has no ERP connection here, so it can't read open invoices."
CHART_NOT_IN_CHANNEL = ("Invite closebot to this channel (`/invite @closebot`) to get the {what} "
                        "here.")

REVENUE_TITLE = "Revenue waterfall as of {as_of:%d %b %Y}"
REVENUE_USAGE = ("Usage: `{cmd} [month]`, e.g. `{cmd}` for this month on or `{cmd} 2027-01`: "
                 "what is still to be recognized, month by month, and the RPO.")
REVENUE_PAST = ("{period} is over: the waterfall shows what is still to be recognized from "
                "today on, so ask for {current} or a later month (`closebot close` prints a past "
                "month's deferred-revenue roll-forward).")
REVENUE_NOT_LEDGER = ("The revenue waterfall comes from closebot's embedded ledger; with "
                      "{erp} as the ERP, its revenue schedules are kept there.")
REVENUE_NONE = "Nothing left to recognize: no contract has revenue still planned."
REVENUE_RPO = ("*{currency}* remaining performance obligations: *{total}*\n"
               "current (next 12 months) {current} · non-current {non_current}")
REVENUE_MORE = "and {count} more: `closebot books waterfall` lists them all."

DELIVERY_AWAITING = "*{product}* ({amount}) waits for its delivery"
DELIVERY_PENDING = "*{product}* ({amount}) delivered on {on:%d %b %Y}, not recognized yet"
DELIVERY_MARK = "Mark delivered"
DELIVERY_UNDO = "Undo delivery"
DELIVERED = ("{product}: delivered on {on:%d %b %Y}, marked by <@{user}>; {amount} is recognized "
             "on that day.")
DELIVERY_UNDONE = ("{product}: delivery undone by <@{user}>; {amount} waits for its delivery "
                   "again.")
