"""Which way closebot logs in to Salesforce, chosen from the settings, and what it still lacks.

In order of preference: the JWT bearer flow (`SALESFORCE_JWT_KEY_FILE` set), the refresh-token
flow (`SALESFORCE_REFRESH_TOKEN` set), both with `SALESFORCE_CLIENT_ID`; then a fixed access
token, then username and password. Only the first two let closebot log in again by itself when
a session ends (docs/salesforce-auth.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.settings import Settings
from sync.connectors.salesforce_oauth import (
    JwtBearerFlow,
    LoginFlow,
    RefreshTokenFlow,
    load_private_key,
)
from sync.errors import PermanentError

JWT, REFRESH, TOKEN, PASSWORD = "jwt", "refresh", "token", "password"
FLOW_NAMES = {JWT: "JWT bearer flow", REFRESH: "refresh-token flow"}
NOTHING_SET = (
    "set SALESFORCE_CLIENT_ID with SALESFORCE_JWT_KEY_FILE and SALESFORCE_USERNAME (JWT bearer "
    "flow) or SALESFORCE_REFRESH_TOKEN (refresh-token flow), or SALESFORCE_INSTANCE_URL and "
    "SALESFORCE_ACCESS_TOKEN; see docs/salesforce-auth.md"
)


def login_url(settings: Settings) -> str:
    url = settings.salesforce_login_url or f"https://{settings.salesforce_domain}.salesforce.com"
    return url.rstrip("/")


def choose(settings: Settings) -> tuple[str | None, list[str]]:
    """The flow the settings pick, and what is missing or wrong for it (empty: ready)."""
    client_id = settings.salesforce_client_id
    if settings.salesforce_jwt_key_file:
        missing = [name for name, value in (("SALESFORCE_CLIENT_ID", client_id),
                                            ("SALESFORCE_USERNAME", settings.salesforce_username))
                   if not value]
        problems = [f"set {', '.join(missing)}"] if missing else []
        key_file = Path(settings.salesforce_jwt_key_file)
        if not key_file.is_file():
            problems.append(f"SALESFORCE_JWT_KEY_FILE: no file at {key_file}")
        else:
            try:
                load_private_key(key_file)
            except PermanentError as error:
                problems.append(error.reason)
        return JWT, problems
    if settings.salesforce_refresh_token:
        return REFRESH, [] if client_id else ["set SALESFORCE_CLIENT_ID"]
    if client_id:
        return None, ["with SALESFORCE_CLIENT_ID set SALESFORCE_JWT_KEY_FILE and "
                      "SALESFORCE_USERNAME (JWT bearer flow) or SALESFORCE_REFRESH_TOKEN "
                      "(refresh-token flow)"]
    if settings.salesforce_access_token and settings.salesforce_instance_url:
        return TOKEN, []
    if settings.salesforce_username and settings.salesforce_password:
        return PASSWORD, []
    return None, [NOTHING_SET]


def login_flow(settings: Settings) -> LoginFlow | None:
    """The OAuth login flow to hand the connector, or None for a fixed session or password."""
    flow, problems = choose(settings)
    if problems or flow not in (JWT, REFRESH):
        return None
    assert settings.salesforce_client_id
    if flow == JWT:
        return JwtBearerFlow(
            client_id=settings.salesforce_client_id,
            username=str(settings.salesforce_username),
            key_file=Path(str(settings.salesforce_jwt_key_file)),
            login_url=login_url(settings),
        )
    assert settings.salesforce_refresh_token
    secret = settings.salesforce_client_secret
    return RefreshTokenFlow(
        client_id=settings.salesforce_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        refresh_token=settings.salesforce_refresh_token.get_secret_value(),
        login_url=login_url(settings),
    )


def describe(settings: Settings, kind_of: Callable[[str | None], str]) -> tuple[str, bool]:
    """`closebot config check`'s Salesforce line (after the label); `kind_of(url)` says sandbox
    or real. Never a secret: only which settings are set."""
    flow, problems = choose(settings)
    if problems:
        lead = f"{FLOW_NAMES[flow]} MISSING" if flow in FLOW_NAMES else "MISSING"
        return f"{lead}: {'; '.join(problems)}", False
    url = login_url(settings)
    kind = kind_of(settings.salesforce_instance_url if flow == TOKEN else url)
    if flow == JWT:
        return (f"configured ({kind}, JWT bearer flow as {settings.salesforce_username}, key "
                f"file {settings.salesforce_jwt_key_file}, login {url})"), True
    if flow == REFRESH:
        secret = ("client secret set" if settings.salesforce_client_secret
                  else "no client secret (only if the connected app requires none)")
        return f"configured ({kind}, refresh-token flow, {secret}, login {url})", True
    if flow == TOKEN:
        return (f"configured ({kind}, {settings.salesforce_instance_url}, access token set; "
                "closebot cannot log in again when it ends)"), True
    return f"configured (real, username {settings.salesforce_username})", True
