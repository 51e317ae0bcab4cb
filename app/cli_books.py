"""`closebot books trial-balance | schedule | deal`: the embedded ledger read as finance reads
it, amounts as `USD 120,000.00`, or as JSON in minor units. NetSuite keeps its own books."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Any

import typer
from sqlalchemy.orm import Session, sessionmaker

from app import sandbox_clock
from app.cli_support import existing_database, fail, load_settings, one_line_errors
from sync.money import format_money

books_cli = typer.Typer(help="Read the books: trial balance, a deal's schedule and entries.",
                        no_args_is_help=True)
DEAL_HELP = "Opportunity ID (15 or 18 characters) or the start of the deal's name."


def _ledger() -> sessionmaker[Session]:
    settings = load_settings()
    if settings.erp != "ledger":
        where = "Sage Intacct" if settings.erp == "intacct" else "NetSuite"
        raise fail(f"the books live in {where} (ERP={settings.erp}): read them there; "
                   "`closebot books` reads the embedded ledger only.", 2)
    return existing_database(settings)


def _opportunity(sessions: sessionmaker[Session], query: str) -> tuple[str, str]:
    """(opportunity ID, name) of the one deal the query names, as `closebot trace` finds it."""
    from sync.ops.queries import find_trace, read

    answer = read(sessions, find_trace, query=query, erp="ledger")
    if answer.choices:
        names = "; ".join(f"{name} ({oid})" for oid, name in answer.choices)
        raise fail(f"several deals match “{answer.query}”: {names}. Name one by its ID.")
    if not answer.opportunity_id:
        raise fail(f"no deal in closebot's database matches “{answer.query}”.")
    return answer.opportunity_id, answer.name or answer.opportunity_id


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"--as-of “{value}” is not a date: write it as 2026-01-31.", 2) from None


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


@books_cli.command("trial-balance")
@one_line_errors
def trial_balance(
    as_of: str | None = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default today."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, amounts in minor units."),
    functional: bool = typer.Option(False, "--functional", help="In the functional currency "
                                    "(FUNCTIONAL_CURRENCY), every currency converted."),
) -> None:
    """Every account's debit or credit balance on a date, with totals, per currency."""
    from sync.ledger import fx
    from sync.ledger.books import trial_balances
    from sync.ops.queries import read

    day = _as_of(as_of)
    sessions = _ledger()
    day = day or sandbox_clock.today(sessions)
    books = read(sessions, fx.trial_balances if functional else trial_balances, as_of=day)
    if as_json:
        _json({"as_of": day, "currencies": [
            {"currency": b.currency, "accounts": [asdict(a) for a in b.accounts],
             "debits_minor": b.debits, "credits_minor": b.credits,
             "balanced": b.debits == b.credits} for b in books]})
        return
    typer.echo(f"Trial balance as of {day:%d %b %Y}")
    if not books:
        typer.echo("No entries posted yet.")
    for book in books:
        cur = book.currency
        typer.echo(f"\n{'Account':<34} {'Debit':>20} {'Credit':>20}")
        for a in book.accounts:
            debit = format_money(a.debit_minor, cur) if a.debit_minor else ""
            credit = format_money(a.credit_minor, cur) if a.credit_minor else ""
            typer.echo(f"{a.code} {a.name:<29} {debit:>20} {credit:>20}")
        mark = "balanced" if book.debits == book.credits else "OUT OF BALANCE"
        typer.echo(f"{'Total':<34} {format_money(book.debits, cur):>20} "
                   f"{format_money(book.credits, cur):>20}  {mark}")


@books_cli.command("schedule")
@one_line_errors
def schedule(deal: str = typer.Argument(..., help=DEAL_HELP),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """A deal's obligations: allocated price, each period, recognized and deferred to date."""
    from sync.ledger.books import deal_schedule
    from sync.ops.queries import read

    sessions = _ledger()
    opportunity_id, name = _opportunity(sessions, deal)
    today = sandbox_clock.today(sessions)
    obligations = read(sessions, deal_schedule, opportunity_id=opportunity_id, today=today)
    if as_json:
        _json({"opportunity_id": opportunity_id, "name": name, "today": today, "obligations": [
            {**asdict(o), "recognized_minor": o.recognized_minor,
             "deferred_minor": o.deferred_minor} for o in obligations]})
        return
    typer.echo(f"{name} ({opportunity_id}): revenue schedule as of {today:%d %b %Y}")
    if not obligations:
        typer.echo("No sales order in the ledger yet: `closebot trace` shows where the deal is.")
    for o in obligations:
        money = lambda minor, cur=o.currency: format_money(minor, cur)  # noqa: E731
        version = f"v{o.version}" + ("" if o.current else ", superseded")
        typer.echo(f"\n{o.sales_order} ({version}) {o.description} [{o.line}]: allocated "
                   f"{money(o.allocated_minor)}, {o.recognition.replace('_', ' ')}, "
                   f"account {o.revenue_account}")
        for p in o.periods:
            typer.echo(f"  {p.number:>3}  {p.start} to {p.end}  recognize on {p.recognize_on}  "
                       f"{money(p.amount_minor):>18}  {p.state}")
        typer.echo(f"  recognized {money(o.recognized_minor)} · deferred "
                   f"{money(o.deferred_minor)}")


@books_cli.command("deal")
@one_line_errors
def deal_entries(deal: str = typer.Argument(..., help=DEAL_HELP),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every journal entry of one deal with its legs and the record it came from."""
    from sync.ledger.books_deal import deal_entries as entries_of
    from sync.ledger.books_deal import deal_modifications
    from sync.ops.queries import read

    sessions = _ledger()
    opportunity_id, name = _opportunity(sessions, deal)
    entries = read(sessions, entries_of, opportunity_id=opportunity_id)
    changes = read(sessions, deal_modifications, opportunity_id=opportunity_id)
    if as_json:
        _json({"opportunity_id": opportunity_id, "name": name,
               "modifications": [asdict(m) for m in changes],
               "entries": [asdict(e) for e in entries]})
        return
    typer.echo(f"{name} ({opportunity_id}): {len(entries)} journal entries")
    for m in changes:
        typer.echo(f"\nContract change v{m.amends} → v{m.version} from {m.effective_on}: "
                   f"{m.kind}. {m.reason[:1].upper()}{m.reason[1:]}.")
    for e in entries:
        total = format_money(e.total_minor, e.currency)
        typer.echo(f"\n{e.number}  {e.posted_on}  {e.kind}  {total}  {e.record} · {e.source}")
        for leg in e.legs:
            side = (f"Dr {format_money(leg.debit_minor, e.currency)}" if leg.debit_minor
                    else f"   Cr {format_money(leg.credit_minor, e.currency)}")
            typer.echo(f"    {leg.account} {leg.name:<28} {side}")


@books_cli.command("contract-assets")
@one_line_errors
def contract_assets(
    as_of: str | None = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default today."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, amounts in minor units."),
) -> None:
    """Contract assets (revenue recognized ahead of billing) and contract liabilities (billed
    ahead of revenue), per contract, and Deferred Revenue split into the two per currency."""
    from sync.ledger.contract_assets import positions, summaries
    from sync.ops.queries import read

    sessions = _ledger()
    day = _as_of(as_of) or sandbox_clock.today(sessions)
    found = read(sessions, positions, as_of=day)
    totals = summaries(found)
    if as_json:
        _json({"as_of": day, "contracts": [asdict(p) for p in found if p.asset_minor],
               "currencies": [{**asdict(t), "deferred_minor": t.deferred_minor}
                              for t in totals]})
        return
    typer.echo(f"Contract assets and liabilities as of {day:%d %b %Y}")
    if not totals:
        typer.echo("No contract has billed or recognized anything yet.")
    for t in totals:
        money = lambda minor, cur=t.currency: format_money(minor, cur)  # noqa: E731
        typer.echo(f"\n{t.currency}: contract assets (unbilled receivables) "
                   f"{money(t.assets_minor)}; contract liabilities (deferred revenue) "
                   f"{money(t.liabilities_minor)}; Deferred Revenue as booked "
                   f"{money(t.deferred_minor)}")
        for p in found:
            if p.currency == t.currency and p.asset_minor:
                typer.echo(f"  {p.opportunity_id}  contract asset {money(p.asset_minor)}")


@books_cli.command("entities")
@one_line_errors
def entities(as_json: bool = typer.Option(False, "--json",
                                          help="Print JSON, amounts in minor units.")) -> None:
    """Each legal entity's trial balance (every entry to date), per currency: each balances."""
    from sync.engine.entity_accounts import entities_of
    from sync.ledger.entity_books import trial_balances_by_entity
    from sync.ops.queries import read

    def both(session: Session) -> dict[str, dict[str, dict[str, int]]]:
        return trial_balances_by_entity(session, entities_of(session))

    books = read(_ledger(), both)
    if as_json:
        _json({"entities": [
            {"entity": entity, "currency": cur, "accounts": accounts,
             "balanced": sum(accounts.values()) == 0}
            for entity, currencies in books.items() for cur, accounts in currencies.items()]})
        return
    if not books:
        typer.echo("No entries posted yet.")
    for entity, currencies in books.items():
        for cur, accounts in currencies.items():
            typer.echo(f"\n{entity}, {cur}")
            for code, net in accounts.items():
                side = "Dr" if net > 0 else "Cr"
                typer.echo(f"  {code} {side} {format_money(abs(net), cur):>20}")
            mark = "balanced" if sum(accounts.values()) == 0 else "OUT OF BALANCE"
            typer.echo(f"  {mark}")
