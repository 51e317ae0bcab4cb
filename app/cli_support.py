"""What every command shares: settings read once, one line (never a traceback) when something
is wrong, a check that the systems a command needs are configured before anything is touched,
and logging as `LOG_JSON` says."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.config_check import missing_systems
from app.entities_config import load_entities
from app.observability import JsonFormatter, RedactingFilter
from app.settings import Settings
from app.wiring import NotConfigured
from storage.db import normalize_url
from sync.contracts.entities import EntityConfigError
from sync.errors import CredentialsRefused, SyncError
from sync.ops.surface import UserError

log = logging.getLogger("closebot.cli")
F = TypeVar("F", bound=Callable[..., Any])
CHECK = "run `closebot config check` to see what is missing"


class CliFailure(Exception):
    """A command's own verdict: `message` is the one line, `code` the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"closebot: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(func: F) -> F:
    """Turn what a person can fix into one line on stderr and a non-zero exit code.

    2: closebot is not configured (or a setting is invalid); 1: a system or a person's input
    refused. The traceback of an unexpected error goes to the log at INFO (`--verbose`)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except CliFailure as error:
            raise fail(error.message, error.code) from None
        except NotConfigured as error:
            raise fail(f"{error}; {CHECK}", 2) from None
        except UserError as error:
            raise fail(error.message) from None
        except CredentialsRefused as error:
            raise fail(refusal_line(error, load_settings())) from None
        except SyncError as error:
            raise fail(error.reason) from None
        except SQLAlchemyError as error:
            log.info("database error", exc_info=True)
            cause = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
            raise fail(_scrub(f"closebot could not use its database (DATABASE_URL): {cause}")
                       ) from None
        except Exception as error:
            log.info("unexpected error", exc_info=True)  # the traceback, with --verbose
            raise fail(_scrub(f"unexpected error ({type(error).__name__}: {str(error)[:200]})")
                       ) from None

    return run  # type: ignore[return-value]


def _scrub(text: str) -> str:
    """An error's own words may quote a credential; mask every configured secret."""
    try:
        secrets = Settings().secrets()
    except ValidationError:
        return text
    return RedactingFilter(secrets).scrub(text)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: "
                             f"{e['msg'].removeprefix('Value error, ')}"
                             for e in error.errors())
        raise NotConfigured(f"a setting is invalid ({problems})") from None


def configured(*, slack: bool = False) -> Settings:
    """The settings, once every system the command needs has credentials; before any file or
    database is touched, so a command that can't run leaves nothing behind."""
    settings = load_settings()
    try:
        load_entities(settings)
    except EntityConfigError as error:
        raise NotConfigured(f"a setting is invalid ({error})") from None
    if missing := missing_systems(settings, slack=slack):
        names = " and ".join(missing)
        raise NotConfigured(f"{names} {'is' if len(missing) == 1 else 'are'} not configured")
    return settings


def refusal_line(error: CredentialsRefused | str, settings: Settings) -> str:
    """Which system refused closebot's credentials and which setting to fix; no secret."""
    system = error.system if isinstance(error, CredentialsRefused) else error
    if system == "salesforce":
        fix = ("set a fresh access token in SALESFORCE_ACCESS_TOKEN (sessions expire)"
               if settings.salesforce_access_token else
               "check SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN "
               "(and SALESFORCE_DOMAIN=test for a sandbox org)")
        return f"Salesforce refused closebot's credentials: {fix}"
    if system == "stripe":
        return ("Stripe refused the API key: set a valid secret (sk_…) or restricted (rk_…) key "
                "of your Stripe account in STRIPE_API_KEY")
    if system == "netsuite":
        return ("NetSuite refused closebot's token-based authentication: check NETSUITE_ACCOUNT_ID,"
                " NETSUITE_CONSUMER_KEY/SECRET and NETSUITE_TOKEN_ID/SECRET")
    if system == "intacct":
        return ("Sage Intacct refused closebot's OAuth client: check INTACCT_CLIENT_ID, "
                "INTACCT_CLIENT_SECRET and INTACCT_USERNAME (user@companyId)")
    return f"{system} refused closebot's credentials"


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time, so a progress bar that redirects it
    shows log lines above itself instead of being torn by them."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def setup_logging(settings: Settings, *, verbose: bool = False) -> None:
    """One handler on the root logger: JSON lines when `LOG_JSON` (the default), else text;
    secrets masked either way."""
    handler = logging.StreamHandler(_CurrentStderr())  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if settings.log_json else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter(settings.secrets()))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "closebot_cli", False)
                or isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    handler.closebot_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def existing_database(settings: Settings) -> sessionmaker[Session]:
    """closebot's database for a command that reads or acts on what is in it: never a new,
    empty one (a typo in DATABASE_URL would otherwise show "nothing to do")."""
    from app.wiring import open_database

    url = make_url(normalize_url(settings.database_url))
    path = url.database or ""
    if url.get_backend_name() == "sqlite" and path not in ("", ":memory:") and not (
            Path(path).exists()):
        raise CliFailure(f"there is no closebot database at {path}: run `closebot sync --once` "
                         "first, or point DATABASE_URL at it")
    _, sessions = open_database(settings)
    return sessions
