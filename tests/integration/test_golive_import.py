"""`closebot import` against the emulators: Stripe and ERP records made before go-live (through
their own APIs) are linked to Salesforce by rules, reported when unmatched or ambiguous, never
duplicated by the pipeline afterwards, and a killed import finishes on the next run."""

from __future__ import annotations

import json
import multiprocessing
import os
import pty
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.jobs import sync_once
from app.settings import Settings
from app.wiring import build_runtime, open_database
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import IdLink
from tests.integration import legacy
from tests.integration.conftest import make_settings

runner = CliRunner()


@dataclass
class GoLive:
    stack: SandboxStack
    db_url: str
    sessions: sessionmaker[Session]
    opp: dict[str, str]
    account: dict[str, str]
    stripe: dict[str, str]
    erp: dict[str, str]

    def env(self) -> dict[str, str]:
        return {**self.stack.env(), "DATABASE_URL": self.db_url}

    def run(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["import", *args], env=self.env())
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result.exit_code, result.output

    def links(self) -> dict[tuple[str, str, str], str]:
        with transaction(self.sessions) as session:
            return {(r.scope, r.system, r.kind): r.external_id
                    for r in session.scalars(select(IdLink))}


@pytest.fixture(params=["ledger", "netsuite"])
def golive(request: pytest.FixtureRequest, db_url: str,
           sessions: sessionmaker[Session]) -> Iterator[GoLive]:
    with SandboxStack(slack=False, erp=request.param) as stack:
        seeder = BookSeeder(stack.salesforce)
        demo = {d.account: d for d in demo_deals()}
        opp = {name: seeder.seed(demo[name]) for name in ("Acme Corp", "Umbrella Health",
                                                          "Wayne Enterprises GmbH")}
        opp["Globex 1"], opp["Globex 2"] = seeder.seed(demo["Globex"]), seeder.seed(demo["Globex"])
        account = {k: stack.salesforce.get("Opportunity", v)["AccountId"] for k, v in opp.items()}
        old = legacy.LegacyStripe(stack)
        cus = {
            "acme": old.customer("ACME Corporation", "billing@acme.example"),  # email domain
            "umbrella": old.customer("umbrella health"),  # exact name, case aside
            "wayne": old.customer("Wayne Enterprise"),  # fuzzy name
            "globex": old.customer("Globex"),  # two accounts are called Globex
            "zeta": old.customer("Zeta Labs", "ap@zeta.example"),  # nobody
        }
        acme_sub, acme_invoice = old.subscription(cus["acme"], 10_000_000)
        umbrella_sub, _ = old.subscription(cus["umbrella"], 3_000_000,
                                           sf_opportunity_id=opp["Umbrella Health"])
        number = next(i["number"] for i in stack.stripe.objects("invoice")
                      if i["id"] == acme_invoice)
        erp_acme = legacy.erp_customer(stack, sessions, "Acme Corp", "LEGACY-ACME")
        erp_invoice = legacy.erp_invoice(stack, sessions, erp_acme, number=number,
                                         total_minor=10_000_000, external_id="LEGACY-INV-1")
        yield GoLive(stack, db_url, sessions, opp, account,
                     {**cus, "acme_sub": acme_sub, "umbrella_sub": umbrella_sub,
                      "acme_invoice": acme_invoice, "number": number},
                     {"customer": erp_acme, "invoice": erp_invoice, "name": request.param})


def _by_id(report: dict) -> dict[str, dict]:
    """Records by ID, and by "kind ID" (NetSuite numbers customers and invoices alike)."""
    return {**{r["id"]: r for r in report["records"]},
            **{f"{r['kind']} {r['id']}": r for r in report["records"]}}


def test_import_links_by_rules_and_reports_the_rest(golive: GoLive) -> None:
    code, out = golive.run("--json")
    assert code == 1, out  # Globex is ambiguous
    found = _by_id(json.loads(out))
    acme, umbrella = found[golive.stripe["acme"]], found[golive.stripe["umbrella"]]
    assert (acme["status"], acme["rule"], acme["target_id"]) == (
        "linked", "email domain", golive.account["Acme Corp"])
    assert (umbrella["status"], umbrella["rule"]) == ("linked", "exact name")
    wayne = found[golive.stripe["wayne"]]
    assert (wayne["status"], wayne["rule"]) == ("linked", "fuzzy name")
    assert 0.85 <= wayne["score"] < 1
    globex = found[golive.stripe["globex"]]
    assert globex["status"] == "ambiguous" and len(globex["candidates"]) == 2
    assert found[golive.stripe["zeta"]]["status"] == "unmatched"
    subs = (found[golive.stripe["acme_sub"]], found[golive.stripe["umbrella_sub"]])
    assert [(s["status"], s["rule"]) for s in subs] == [
        ("linked", "only deal of the account"), ("linked", "metadata")]
    assert found[f"customer {golive.erp['customer']}"]["rule"] == "exact name"
    assert found[f"open invoice {golive.erp['invoice']}"]["rule"] == "invoice number"
    links = golive.links()
    erp = golive.erp["name"]
    assert links[(f"account:{golive.account['Acme Corp']}", "stripe", "customer")] == \
        golive.stripe["acme"]
    assert links[(f"contract:{golive.opp['Acme Corp']}:v1", "stripe", "subscription")] == \
        golive.stripe["acme_sub"]
    assert links[(f"account:{golive.account['Acme Corp']}", erp, "customer")] == \
        golive.erp["customer"]
    assert links[(f"invoice:{golive.stripe['acme_invoice']}", erp, "invoice")] == \
        golive.erp["invoice"]
    assert golive.stripe["globex"] not in links.values()
    code, text = golive.run()
    assert code == 1 and "Ambiguous: not linked" in text and "Linked before" in text
    assert f"“Wayne Enterprise” → Wayne Enterprises GmbH ({golive.account['Wayne Enterprises GmbH']}) by fuzzy name, score 0.9" in text  # noqa: E501
    assert "Zeta Labs" in text and "Matched nothing" in text


def test_the_pipeline_uses_imported_records_instead_of_duplicating_them(golive: GoLive) -> None:
    stripe_before = {kind: len(golive.stack.stripe.objects(kind))
                     for kind in ("customer", "subscription")}
    golive.run()
    sync_once(build_runtime(make_settings(golive.stack, golive.db_url), golive.sessions))
    stripe = golive.stack.stripe
    # Acme's customer and subscription are the imported ones: exactly one of each.
    assert len(stripe.objects("customer")) == stripe_before["customer"]
    acme_subs = [s for s in stripe.objects("subscription")
                 if s["customer"] == golive.stripe["acme"]]
    assert [s["id"] for s in acme_subs] == [golive.stripe["acme_sub"]]
    # Wayne (linked customer, no subscription) gets the only new subscription.
    assert len(stripe.objects("subscription")) == stripe_before["subscription"] + 1
    record = golive.stack.salesforce.get("Opportunity", golive.opp["Acme Corp"])
    assert record["Stripe_Subscription_Id__c"] == golive.stripe["acme_sub"]
    assert record["ERP_Customer_Id__c"] == golive.erp["customer"]
    assert record["ERP_Invoice_Id__c"] == golive.erp["invoice"]
    customers, invoices = _erp_books(golive)
    assert customers.count("Acme Corp") == 1
    assert invoices.count(golive.stripe["number"]) == 1


def _erp_books(golive: GoLive) -> tuple[list[str], list[str | None]]:
    if golive.stack.netsuite is not None:
        ns = golive.stack.netsuite
        return ([c["companyName"] for c in ns.records("customer")],
                [i.get("tranId") for i in ns.records("invoice")])
    from storage.ledger import LedgerCustomer, LedgerInvoice

    with transaction(golive.sessions) as session:
        return (list(session.scalars(select(LedgerCustomer.name))),
                list(session.scalars(select(LedgerInvoice.billing_number))))


def test_a_killed_import_links_the_rest_on_the_next_run(golive: GoLive) -> None:
    values = make_settings(golive.stack, golive.db_url).model_dump()
    values.update({k: v.get_secret_value() for k, v in values.items()
                   if hasattr(v, "get_secret_value")})
    child = multiprocessing.get_context("spawn").Process(target=_import_then_die,
                                                         args=(values, 2))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL
    kept = golive.links()
    assert 0 < len(kept) < 7  # two chunks of two committed, the third lost with the process
    code, out = golive.run("--json")
    assert code == 1
    report = json.loads(out)["records"]
    done = [r for r in report if r["status"] in ("linked", "already linked")]
    assert len(done) == 7
    assert sum(r["status"] == "already linked" for r in done) == len(kept)
    with transaction(golive.sessions) as session:
        twice = session.execute(select(IdLink.system, IdLink.kind, IdLink.external_id)
                                .group_by(IdLink.system, IdLink.kind, IdLink.external_id)
                                .having(func.count() > 1)).all()
        assert twice == [] and session.scalar(select(func.count()).select_from(IdLink)) == 7


def _import_then_die(settings_values: dict[str, Any], chunks: int) -> None:
    from storage import links
    from sync.ops.golive_import import run_import

    settings = Settings(**settings_values)
    _, sessions = open_database(settings)
    original, calls = links.record_many, [0]

    def record_then_die(session: Session, rows: Any) -> Any:
        calls[0] += 1
        if calls[0] > chunks:  # mid-import: this chunk's transaction is still open
            os.kill(os.getpid(), signal.SIGKILL)
        return original(session, rows)

    links.record_many = record_then_die  # type: ignore[assignment]
    run_import(build_runtime(settings, sessions), chunk=2)


def test_progress_shows_on_a_terminal_only(golive: GoLive, tmp_path: Path) -> None:
    quiet = golive.run()[1]
    assert "Reading Stripe customers" not in quiet
    shown = _in_terminal(["import"], golive.env(), tmp_path)
    assert "Reading Stripe customers" in shown and "Linking" in shown
    assert "Reading" not in _in_terminal(["import", "--json"], golive.env(), tmp_path)


def _in_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run the installed `closebot` with a pseudo-terminal as its stdout and stderr."""
    main, child = pty.openpty()
    closebot = Path(sys.executable).with_name("closebot")
    proc = subprocess.Popen([str(closebot), *args], stdout=child, stderr=child, cwd=cwd,
                            env={**os.environ, **env, "COLUMNS": "120"})
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode(errors="replace")
