"""`closebot trace` finds a deal however it is typed: the 18- or 15-character Salesforce ID in
any case, or the deal's name; several matches are listed, and amounts read as finance reads
them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from sandbox.book import BookSeeder, demo_deals, generated_deals
from sandbox.stack import SandboxStack

runner = CliRunner()


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        ids = {deal.name: seeder.seed(deal) for deal in demo_deals()}
        for deal in generated_deals(2):
            seeder.seed(deal)
        env = {**stack.env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert runner.invoke(cli, ["sync", "--once"]).exit_code == 0
        yield ids


def test_trace_by_id_in_every_form_and_by_name(synced: dict[str, str]) -> None:
    acme = synced["Acme Corp - Platform 2026"]
    for query in (acme, acme[:15], acme.lower(), "acme corp", "Acme Corp - Platform 2026"):
        result = runner.invoke(cli, ["trace", query])
        assert result.exit_code == 0, (query, result.output)
        assert "Stripe subscription: sub_" in result.stdout, query
        assert "Acme Corp - Platform 2026 · USD 120,000.00" in result.stdout


def test_trace_of_a_deal_in_exception_names_the_field_by_its_label(
    synced: dict[str, str]
) -> None:
    result = runner.invoke(cli, ["trace", "globex"])
    assert result.exit_code == 0, result.output
    assert "Billing Cadence is empty" in result.stdout
    assert "Billing_Cadence__c" not in result.stdout


def test_trace_lists_several_matches_and_finds_nothing_clearly(synced: dict[str, str]) -> None:
    several = runner.invoke(cli, ["trace", "Deal 0"])
    assert several.exit_code == 1
    assert "Deal 000000" in several.output and "Deal 000001" in several.output
    none = runner.invoke(cli, ["trace", "Nobody Ltd"])
    assert none.exit_code == 1 and "No deal" in none.output
