"""`closebot sandbox up | seed | messages`: the local stand-ins as a user drives them from a
shell. `up` runs them and prints the exports; `seed` and `messages` run in another terminal
with those exports pasted, and only ever talk to local emulators."""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import httpx
import typer

from app.settings import Settings

if TYPE_CHECKING:
    from sandbox.book import DealSpec

sandbox_cli = typer.Typer(help="Local stand-ins for Salesforce, Stripe and Slack.",
                          no_args_is_help=True)
NEXT_STEPS = ("closebot sandbox seed", "closebot sync --once", "closebot audit",
              "closebot sandbox messages", "closebot serve")


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _known_erp(value: str) -> str:
    if value not in ("ledger", "netsuite", "intacct"):
        raise typer.BadParameter("the ERP is ledger, netsuite or intacct")
    return value


def _deals(count: int) -> list[DealSpec]:
    from sandbox.book import demo_deals, generated_deals

    return generated_deals(count) if count else demo_deals()


@sandbox_cli.command("up")
def sandbox_up(
    erp: str = typer.Option("ledger", "--erp", callback=_known_erp,
                            help="netsuite or intacct also starts that ERP's emulator."),
    with_book: bool = typer.Option(False, "--seed", help="Load the demo book before printing."),
    deals: int = typer.Option(0, "--deals", min=0, help="With --seed: N generated deals."),
) -> None:
    """Start the emulators and a Slack recorder until Ctrl-C; print the exports for closebot.

    The exports include a fresh database, removed when the sandbox stops."""
    from sandbox.book import BookSeeder, slack_people
    from sandbox.stack import SandboxStack

    with (SandboxStack(erp=erp) as stack,
          tempfile.TemporaryDirectory(prefix="closebot-sandbox-") as tmp):
        if with_book:
            book = _deals(deals)
            seeder = BookSeeder(stack.salesforce)
            for deal in book:
                seeder.seed(deal)
            for person in slack_people(book) if stack.slack else []:
                stack.slack.add_user(*person)  # type: ignore[union-attr]
            typer.echo(f"Seeded {len(book)} deals.")
        typer.echo(f"Salesforce emulator: {stack.salesforce.url}")
        typer.echo(f"Stripe emulator:     {stack.stripe.url}")
        if stack.netsuite:
            typer.echo(f"NetSuite emulator:   {stack.netsuite.url}")
        if stack.intacct:
            typer.echo(f"Intacct emulator:    {stack.intacct.url}")
        if stack.slack:
            typer.echo(f"Slack recorder:      {stack.slack.url}")
        exports = {**stack.env(), **stack.app_env(),
                   "DATABASE_URL": f"sqlite:///{Path(tmp) / 'closebot.db'}"}
        typer.echo("\nPoint closebot at them with (in another terminal):")
        for key, value in exports.items():
            # Quoted: an access token's `!` would set off a shell's history expansion.
            typer.echo(f"export {key}={shlex.quote(value)}")
        steps = NEXT_STEPS[1:] if with_book else NEXT_STEPS
        typer.echo("\nThen: " + "; ".join(steps) + ".")
        typer.echo("\nCtrl-C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


@sandbox_cli.command("seed")
def sandbox_seed(
    deals: int = typer.Option(0, "--deals", min=0,
                              help="N generated deals instead of the five demo deals."),
) -> None:
    """Load closed-won deals into the running sandbox (their owners into its Slack too)."""
    from sandbox.book import BookSeeder, slack_people
    from sandbox.rest_org import NotLocal, RestOrg, SeedFailed, is_local

    settings = Settings()
    url, token = settings.salesforce_instance_url, settings.salesforce_access_token
    if not url or not token:
        _fail("No sandbox to seed: run `closebot sandbox up` and paste the export lines it "
              "prints.")
    try:
        org = RestOrg(url, token.get_secret_value(), api_version=settings.salesforce_api_version,
                      ca_bundle=settings.salesforce_ca_bundle)
    except NotLocal:
        _fail(f"SALESFORCE_INSTANCE_URL ({url}) is not a local emulator: `closebot sandbox seed` "
              "only writes sample deals into the sandbox.")
    book = _deals(deals)
    seeder = BookSeeder(org)
    try:
        ids = [(seeder.seed(deal), deal.name) for deal in book]
    except (httpx.HTTPError, SeedFailed) as error:
        _fail(f"Could not seed the Salesforce emulator at {url} ({error}); is `closebot sandbox "
              "up` still running?")
    finally:
        org.close()
    typer.echo(f"Seeded {len(ids)} deals into the Salesforce emulator at {url}:")
    for opportunity_id, name in ids[:20]:
        typer.echo(f"  {opportunity_id}  {name}")
    if len(ids) > 20:
        typer.echo(f"  … and {len(ids) - 20} more")
    if settings.slack_api_url and is_local(settings.slack_api_url):
        people = [{"id": i, "email": e, "name": n} for i, e, n in slack_people(book)]
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(_recorder(settings.slack_api_url) + "/sandbox/users",
                       json={"users": people}).raise_for_status()
            typer.echo(f"Added their {len(people)} owners to the Slack recorder.")
    typer.echo("Next: closebot sync --once")


def _recorder(api_url: str) -> str:
    return api_url.rstrip("/").removesuffix("/api")


@sandbox_cli.command("messages")
def sandbox_messages(
    as_json: bool = typer.Option(False, "--json", help="Every call with its blocks, as JSON."),
) -> None:
    """What closebot posted and edited in the sandbox's Slack, oldest first."""
    from sandbox.rest_org import is_local

    api_url = Settings().slack_api_url
    if not api_url or not is_local(api_url):
        _fail("SLACK_API_URL does not point at the sandbox's Slack recorder: run `closebot "
              "sandbox up` and paste the export lines it prints.")
    try:
        answer = httpx.get(_recorder(api_url) + "/sandbox/messages")
        answer.raise_for_status()
    except httpx.HTTPError:
        _fail(f"The Slack recorder at {_recorder(api_url)} does not answer; is `closebot "
              "sandbox up` still running?")
    messages = answer.json()["messages"]
    if as_json:
        typer.echo(json.dumps(messages, indent=2, ensure_ascii=False))
        return
    if not messages:
        typer.echo("Nothing posted yet: `closebot sync --once` posts alerts and approval cards.")
    for m in messages:
        text = (m.get("text") or "").splitlines()[0] if m.get("text") else "(blocks only)"
        refused = "" if m["ok"] else f"  ✗ refused: {m.get('error')}"
        typer.echo(f"{m['channel'] or '-':<20} {m['method']:<16} {text}{refused}")


@sandbox_cli.command("advance")
def sandbox_advance(
    days: int = typer.Option(..., "--days", min=1, max=3660, help="How many days to move on."),
) -> None:
    """Move the sandbox's time N days on: the Stripe emulator's clock (renewals, due dates,
    retries happen on the way) and closebot's today for revenue recognition. Then run
    `closebot sync --once`."""
    from datetime import UTC, datetime

    from app import sandbox_clock
    from app.cli_support import existing_database
    from sandbox.rest_org import is_local

    settings = Settings()
    base, key = settings.stripe_api_base, settings.stripe_api_key
    if not base or not key or not is_local(base):
        _fail("STRIPE_API_BASE does not point at the sandbox's Stripe emulator: `closebot "
              "sandbox advance` only moves the sandbox's clock.")
    if not settings.salesforce_instance_url or not is_local(settings.salesforce_instance_url):
        _fail("SALESFORCE_INSTANCE_URL does not point at the sandbox's Salesforce emulator: "
              "`closebot sandbox advance` only moves the sandbox's clock.")
    sessions = existing_database(settings)
    clock = base.rstrip("/") + "/sandbox/clock"
    auth = {"Authorization": f"Bearer {key.get_secret_value()}"}
    try:
        now = httpx.get(clock, headers=auth).raise_for_status().json()["frozen_time"]
        moved = httpx.post(clock, headers=auth, data={"frozen_time": now + days * 86_400},
                           timeout=120).raise_for_status().json()["frozen_time"]
    except httpx.HTTPError as error:
        _fail(f"The Stripe emulator at {base} did not move its clock ({error}); is `closebot "
              "sandbox up` still running?")
    ahead = sandbox_clock.move_ahead(sessions, days)
    stripe_day = datetime.fromtimestamp(moved, UTC).date()
    typer.echo(f"Moved {days} days on: Stripe's clock reads {stripe_day:%d %b %Y}; closebot's "
               f"today is {sandbox_clock.today(sessions):%d %b %Y} ({ahead} days ahead).")
    typer.echo("Next: closebot sync --once")
