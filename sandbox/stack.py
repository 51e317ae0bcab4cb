"""Start the local stand-ins together and tell closebot where they are."""

from __future__ import annotations

from sandbox.intacct import IntacctEmulator
from sandbox.lifecycle import Startable
from sandbox.netsuite import NetSuiteEmulator
from sandbox.salesforce import SalesforceEmulator
from sandbox.slack import SlackRecorder
from sandbox.stripe import StripeEmulator

# A finance approver who is in the pretend workspace, so approval cards can be decided.
APPROVER = ("U0FINANCE1", "finance@closebot.example", "Finance Approver")


class SandboxStack(Startable):
    """Salesforce and Stripe emulators plus a recording Slack Web API, on free local ports;
    with `erp="netsuite"` or `erp="intacct"`, that ERP's emulator too (otherwise the embedded
    ledger is the ERP)."""

    def __init__(self, *, slack: bool = True, page_size: int = 2000, erp: str = "ledger",
                 erp_latency_s: float = 0.0, erp_concurrency_limit: int = 5) -> None:
        """`erp_latency_s`: how long the ERP emulator holds each request (a round trip);
        `erp_concurrency_limit`: the requests it takes at once before answering 429."""
        if erp not in ("ledger", "netsuite", "intacct"):
            raise ValueError(f"the ERP is ledger, netsuite or intacct, not {erp!r}")
        self.salesforce = SalesforceEmulator(page_size=page_size)
        self.stripe = StripeEmulator()
        self.slack = SlackRecorder() if slack else None
        self.netsuite = (NetSuiteEmulator(concurrency_limit=erp_concurrency_limit)
                         if erp == "netsuite" else None)
        self.intacct = (IntacctEmulator(concurrency_limit=erp_concurrency_limit)
                        if erp == "intacct" else None)
        for emulator in (self.netsuite, self.intacct):
            if emulator is not None:
                emulator.gate.latency_s = erp_latency_s

    def start(self) -> SandboxStack:
        self.salesforce.start()
        self.stripe.start()
        if self.slack is not None:
            self.slack.start()
            self.slack.add_user(*APPROVER)
        if self.netsuite is not None:
            self.netsuite.start()
        if self.intacct is not None:
            self.intacct.start()
        return self

    def stop(self) -> None:
        if self.intacct is not None:
            self.intacct.stop()
        if self.netsuite is not None:
            self.netsuite.stop()
        if self.slack is not None:
            self.slack.stop()
        self.stripe.stop()
        self.salesforce.stop()

    def env(self) -> dict[str, str]:
        """Environment variables that point closebot at this stack."""
        values = {
            "SALESFORCE_INSTANCE_URL": self.salesforce.url,
            "SALESFORCE_ACCESS_TOKEN": self.salesforce.token,
            "SALESFORCE_API_VERSION": self.salesforce.api_version,
            "SALESFORCE_CA_BUNDLE": str(self.salesforce.ca_bundle),
            "STRIPE_API_KEY": self.stripe.api_key,
            "STRIPE_API_BASE": self.stripe.url,
        }
        if self.slack is not None:
            values["SLACK_API_URL"] = self.slack.url + "/api/"
            values["SLACK_BOT_TOKEN"] = self.slack.bot_token
        if self.netsuite is not None:
            values["ERP"] = "netsuite"
            values.update(self.netsuite.env())
        if self.intacct is not None:
            values["ERP"] = "intacct"
            values.update(self.intacct.env())
        return values

    def app_env(self) -> dict[str, str]:
        """What closebot's Slack app also needs against this stack (`closebot serve`, approvals):
        the signing secret that requests to it are signed with, and an approver who is in the
        workspace. Kept apart from `env()`, which only connects closebot to the systems."""
        if self.slack is None:
            return {}
        return {"SLACK_SIGNING_SECRET": self.slack.signing_secret, "SLACK_APPROVERS": APPROVER[0]}

    def settings_overrides(self) -> dict[str, str]:
        return {key.lower(): value for key, value in self.env().items()}

