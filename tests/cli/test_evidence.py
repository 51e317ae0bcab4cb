"""`closebot evidence`: a period's approvals, credits, retries and dismissals, each linked to the
Stripe and ERP records it led to, with the audit's result, as CSV and as a readable PDF.

The book is made the way it happens in production: a revoked Stripe key turns every valid deal
into an exception, people retry two of them and dismiss one from their alerts, approve a held
deal and a credit from their cards, all through signed Slack requests to the real Bolt app."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.jobs import sync_once
from app.settings import Settings
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, Deal, IdLink, SyncException
from sync.ops import alerts, approvals
from sync.ops.audit import run_audit
from tests.handlers.conftest import (
    APPROVERS,
    SECRET,
    Harness,
    slack_settings,
    start,
    wait_for,
)
from tests.integration.conftest import make_settings

runner = CliRunner()
THIS_MONTH = datetime.now(UTC).strftime("%Y-%m")
SYSTEM_FIELDS = ("salesforce_instance_url", "salesforce_access_token", "salesforce_api_version",
                 "salesforce_ca_bundle", "stripe_api_key", "stripe_api_base", "max_attempts",
                 "backoff_base_s", "backoff_max_s")


@dataclass
class Book:
    harness: Harness
    stack: SandboxStack
    settings: Settings
    ids: dict[str, str]
    sessions: sessionmaker[Session]

    def link(self, scope: str, kind: str) -> str:
        with transaction(self.sessions) as s:
            return str(s.scalar(select(IdLink.external_id).where(
                IdLink.scope == scope, IdLink.kind == kind)))


def _exception_of(sessions: sessionmaker[Session], opp: str) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(SyncException.id).where(
            SyncException.opportunity_id == opp, SyncException.status == "open")))


def _status(sessions: sessionmaker[Session], opp: str) -> str:
    with transaction(sessions) as s:
        return str(s.get(Deal, opp).status)


@pytest.fixture
def book(db_url: str, sessions: sessionmaker[Session], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Book]:
    with SandboxStack(slack=False) as stack, SlackRecorder() as recorder:
        for user in (*APPROVERS, "UREQUEST1"):
            recorder.add_user(user, f"{user.lower()}@example.com", user)
        base = make_settings(stack, db_url)
        settings = slack_settings(recorder, db_url,
                                  **{k: getattr(base, k) for k in SYSTEM_FIELDS})
        seeder = BookSeeder(stack.salesforce)
        ids = {d.account: seeder.seed(d) for d in demo_deals()}
        revoked = settings.model_copy(update={"stripe_api_key": SecretStr("sk_test_revoked")})
        sync_once(build_runtime(revoked, sessions))
        runtime = build_runtime(settings, sessions)
        serving = start(settings, sessions, recorder, runtime)
        harness = next(serving)
        try:
            deps = harness.surface.deps
            alerts.sweep(deps)
            harness.surface.flush()
            for account in ("Acme Corp", "Umbrella Health"):
                harness.slack.click("exception.retry", str(_exception_of(sessions, ids[account])),
                                    user=APPROVERS[1])
                wait_for(lambda a=account: _status(sessions, ids[a]) == "synced", timeout=20)
            wayne = _exception_of(sessions, ids["Wayne Enterprises GmbH"])
            harness.slack.submit("exception.dismiss_modal", {"reason": "billed by hand in Stripe"},
                                 user=APPROVERS[1], metadata=str(wayne))
            approvals.post_new_cards(deps)
            harness.surface.flush()
            card = wait_for(lambda: harness.recorder.messages("C0APPROVALS"))[0]
            harness.slack.click("approval.approve", card["blocks"][-1]["elements"][0]["value"],
                                user=APPROVERS[0])
            sync_once(runtime)
            with transaction(sessions) as s:
                number = s.scalar(select(BillingInvoice.number).where(
                    BillingInvoice.opportunity_id == ids["Acme Corp"]))
            answer = harness.slack.command("/credit", f"{number} 1500 goodwill after outage",
                                           user="UREQUEST1")
            assert "sent for approval" in answer.json()["text"], answer.text
            credit_card = wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                                            if "Credit" in m["text"]])[0]
            harness.slack.click("approval.approve",
                                credit_card["blocks"][-1]["elements"][0]["value"],
                                user=APPROVERS[0])
            wait_for(lambda: _credit_applied(sessions), timeout=20)
            alerts.sweep(deps)
            harness.surface.flush()
            env = {**stack.env(), "DATABASE_URL": db_url,
                   "SLACK_BOT_TOKEN": recorder.bot_token, "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": recorder.url + "/api/", "SLACK_APPROVERS": ",".join(APPROVERS),
                   "SLACK_ALERTS_CHANNEL": "C0ALERTS", "SLACK_APPROVALS_CHANNEL": "C0APPROVALS"}
            monkeypatch.chdir(tmp_path)
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            yield Book(harness, stack, settings, ids, sessions)
        finally:
            serving.close()


def _credit_applied(sessions: sessionmaker[Session]) -> bool:
    with transaction(sessions) as s:
        ap = s.scalar(select(Approval).where(Approval.kind == "credit"))
        return bool(ap and ap.payload.get("applied"))


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_csv_links_every_decision_to_the_records_it_produced(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "evidence.csv"
    result = runner.invoke(cli, ["evidence", "--period", THIS_MONTH, "--format", "csv",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.stdout
    rows = _rows(out)
    actions = [r for r in rows if r["section"] == "action"]
    by_kind: dict[str, list[dict[str, str]]] = {}
    for row in actions:
        by_kind.setdefault(row["action"], []).append(row)
    assert sorted(by_kind) == ["approval decision", "credit request", "dismissal", "retry"]
    assert [r["when_utc"] for r in actions] == sorted(r["when_utc"] for r in actions)

    initech, acme = book.ids["Initech"], book.ids["Acme Corp"]
    deal_approval, credit_approval = sorted(by_kind["approval decision"],
                                            key=lambda r: r["reference"])
    assert deal_approval["opportunity_id"] == initech
    assert deal_approval["who"] == APPROVERS[0] and deal_approval["decision"] == "approved"
    assert "35% off list" in deal_approval["request"]
    assert deal_approval["before"].startswith("USD ") and deal_approval["after"].startswith("USD ")
    assert deal_approval["before"] != deal_approval["after"]
    subscription = book.link(f"contract:{initech}:v1", "subscription")
    sales_order = book.link(f"contract:{initech}:v1", "sales_order")
    assert subscription.startswith("sub_") and subscription in deal_approval["stripe_records"]
    assert sales_order.startswith("SO-") and sales_order in deal_approval["erp_records"]

    with transaction(book.sessions) as s:
        ap = s.scalar(select(Approval).where(Approval.kind == "credit"))
        note, memo = ap.payload["credit_note"], ap.payload["credit_memo"]
    (note_obj,) = book.stack.stripe.objects("credit_note")
    assert note == note_obj["id"] and note_obj["amount"] == 150_000
    assert credit_approval["opportunity_id"] == acme and credit_approval["who"] == APPROVERS[0]
    assert note in credit_approval["stripe_records"] and memo in credit_approval["erp_records"]
    (request,) = by_kind["credit request"]
    assert request["who"] == "UREQUEST1" and request["reason"] == "goodwill after outage"
    assert request["before"].startswith("open balance USD ")
    assert request["after"] == "credit of USD 1,500.00" and note in request["stripe_records"]

    retries = {r["opportunity_id"]: r for r in by_kind["retry"]}
    assert set(retries) == {acme, book.ids["Umbrella Health"]}
    assert all(r["who"] == APPROVERS[1] for r in retries.values())
    assert "could not be billed in Stripe" in retries[acme]["request"]
    assert (retries[acme]["before"], retries[acme]["after"]) == (
        "exception open", "bill step queued again")
    assert book.link(f"contract:{acme}:v1", "subscription") in retries[acme]["stripe_records"]
    (dismissal,) = by_kind["dismissal"]
    assert dismissal["opportunity_id"] == book.ids["Wayne Enterprises GmbH"]
    assert dismissal["reason"] == "billed by hand in Stripe" and dismissal["after"] == "dismissed"
    assert dismissal["stripe_records"] == "" and dismissal["erp_records"] == ""

    audit_rows = [r for r in rows if r["section"] == "audit"]
    report = run_audit(build_runtime(book.settings, book.sessions))
    verdict = audit_rows[0]
    assert verdict["decision"] == ("books intact" if report.ok else "violations found")
    assert [r["reason"] for r in audit_rows[1:] if r["action"] == "violation"] == \
        report.problems()
    assert SECRET not in out.read_text() and book.stack.stripe.api_key not in out.read_text()


def _pdf_text(path: Path) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def _dark_share(png: Path) -> float:
    from PIL import Image

    histogram = Image.open(png).convert("L").histogram()
    return sum(histogram[:128]) / sum(histogram)


def test_pdf_reads_well(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "evidence.pdf"
    result = runner.invoke(cli, ["evidence", "--period", THIS_MONTH, "--format", "pdf",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    text = " ".join(_pdf_text(out).split())
    assert f"SOX evidence for {THIS_MONTH}" in text
    for expected in ("Initech - Expansion", "approved", APPROVERS[0], "goodwill after outage",
                     "billed by hand in Stripe", "Audit",
                     book.link(f"contract:{book.ids['Initech']}:v1", "subscription")):
        assert expected in text, expected

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(out))
    page = pdf[0]
    width, height = page.get_size()
    assert width > height  # landscape: the action table is wide
    png = tmp_path / "evidence-page1.png"
    page.render(scale=1.5).to_pil().save(png)
    pdf.close()
    assert 0.005 < _dark_share(png) < 0.3  # text on a white page, neither blank nor a blot


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_renders_with_poppler_too(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "evidence.pdf"
    assert runner.invoke(cli, ["evidence", "--period", THIS_MONTH, "--format", "pdf",
                               "--out", str(out)]).exit_code == 0
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "poppler")], check=True, capture_output=True, timeout=60)
    (png,) = tmp_path.glob("poppler*.png")
    assert 0.005 < _dark_share(png) < 0.3


@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_an_empty_period_is_still_evidence(book: Book, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"empty.{fmt}"
    result = runner.invoke(cli, ["evidence", "--period", "2020-01", "--format", fmt,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "no approvals, credits or manual actions in 2020-01" in result.stdout
    text = _pdf_text(out) if fmt == "pdf" else out.read_text()
    assert "no approvals, credits or manual actions in 2020-01" in " ".join(text.split())
    assert "Audit" in text or "audit" in text


@pytest.mark.parametrize("args", [["--period", "2026-13"], ["--period", "October"],
                                  ["--period", "2026-10", "--format", "xlsx"]])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["evidence", *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert not list(tmp_path.iterdir())  # nothing written, not even a database


def test_default_file_name(book: Book, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["evidence", "--period", THIS_MONTH])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"closebot-evidence-{THIS_MONTH}.csv").exists()



def test_no_database_is_one_line_and_creates_none(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = runner.invoke(cli, ["evidence", "--period", "2026-10"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"No closebot database at {Path('closebot.db')}: run this where closebot runs, or set "
        "DATABASE_URL to its database."]
    assert not list(tmp_path.iterdir())


def test_evidence_without_the_audit_says_why_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'closebot.db'}")
    for name in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_USERNAME",
                 "STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["evidence", "--period", "2026-10", "--out", "e.csv"])
    assert result.exit_code == 1, result.output
    assert "audit: not run: Salesforce is not configured" in result.stdout
    audit = [r for r in _rows(tmp_path / "e.csv") if r["action"] == "audit result"]
    assert audit[0]["decision"] == "not run"
    assert "Salesforce is not configured" in audit[0]["reason"]
