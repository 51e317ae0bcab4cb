"""Salesforce logins that outlive a token: the JWT bearer and refresh-token flows through
simple-salesforce and requests over HTTPS to the emulator, a session ending mid-run, and the
refusals a person has to fix, each in one plain message that carries no secret."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job, sync_once
from app.settings import Settings
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.salesforce.certs import KeyPair, self_signed
from sandbox.salesforce.oauth import ConnectedApp
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, SyncException, SyncRun
from sync.engine.runtime import Runtime
from tests.integration.conftest import make_settings

PAIR = self_signed()
STRANGER = self_signed("someone else")
REVOKED = ("Salesforce refused the refresh token (revoked or expired): create a new one for "
           "the connected app and set SALESFORCE_REFRESH_TOKEN")


def oauth_settings(stack: SandboxStack, db_url: str, **auth: Any) -> Settings:
    """The stack's settings with its static session taken away: only the flow can log in."""
    return make_settings(stack, db_url, salesforce_access_token=None,
                         salesforce_instance_url=None,
                         salesforce_login_url=stack.salesforce.login_url, **auth)


def jwt_runtime(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
                tmp_path: Path, *, key: KeyPair = PAIR) -> tuple[Runtime, ConnectedApp, Path]:
    app = stack.salesforce.add_connected_app(certificate_pem=PAIR.certificate_pem)
    key_file, _ = key.write(tmp_path)
    settings = oauth_settings(stack, db_url, salesforce_client_id=app.consumer_key,
                              salesforce_username=stack.salesforce.integration_username,
                              salesforce_jwt_key_file=str(key_file))
    return build_runtime(settings, sessions), app, key_file


def refresh_runtime(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
                    **app_options: Any) -> tuple[Runtime, ConnectedApp, str]:
    app = stack.salesforce.add_connected_app(**app_options)
    refresh = stack.salesforce.issue_refresh_token(app.consumer_key)
    settings = oauth_settings(stack, db_url, salesforce_client_id=app.consumer_key,
                              salesforce_client_secret=app.consumer_secret,
                              salesforce_refresh_token=refresh)
    return build_runtime(settings, sessions), app, refresh


def status(sessions: sessionmaker[Session], opportunity_id: str) -> str:
    with transaction(sessions) as session:
        deal = session.get(Deal, opportunity_id)
        return deal.status if deal else "not taken in"


def assert_synced(stack: SandboxStack, sessions: sessionmaker[Session], opp: str) -> None:
    assert status(sessions, opp) == "synced"
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Sync_Status__c"] == "Synced"
    assert str(record["Stripe_Subscription_Id__c"]).startswith("sub_")


def last_intake_error(sessions: sessionmaker[Session]) -> str | None:
    with transaction(sessions) as session:
        run = session.scalars(select(SyncRun).where(SyncRun.job == "intake")
                              .order_by(SyncRun.id.desc())).first()
        assert run is not None and run.status == "failed"
        return run.error


def test_jwt_bearer_login_syncs_a_deal(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    runtime, _, _ = jwt_runtime(stack, db_url, sessions, tmp_path)
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])

    sync_once(runtime)

    assert_synced(stack, sessions, opp)
    assert stack.salesforce.calls["oauth2.token"] == 1  # one login served the whole pass


def test_a_session_ending_mid_run_is_renewed_and_nothing_is_lost(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    runtime, _, _ = jwt_runtime(stack, db_url, sessions, tmp_path)
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    run_job(runtime, "intake")
    stack.salesforce.expire_sessions()  # the session times out between intake and write-back

    run_job(runtime, "worker")

    assert_synced(stack, sessions, opp)
    assert stack.salesforce.calls["oauth2.token"] == 2
    assert len(stack.stripe.objects("customer")) == 1
    assert len(stack.stripe.objects("subscription")) == 1
    with transaction(sessions) as session:
        assert session.scalars(select(SyncException)).all() == []


def test_refresh_token_login_renews_expired_sessions(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    runtime, _, _ = refresh_runtime(stack, db_url, sessions)
    seeder = BookSeeder(stack.salesforce)
    first = seeder.seed(demo_deals()[0])
    sync_once(runtime)
    assert_synced(stack, sessions, first)

    stack.salesforce.expire_sessions()
    second = seeder.seed(demo_deals()[3])
    sync_once(runtime)

    assert_synced(stack, sessions, second)
    assert stack.salesforce.calls["oauth2.token"] == 2


def test_a_rotated_refresh_token_is_the_one_used_next(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    runtime, _, _ = refresh_runtime(stack, db_url, sessions, rotate_refresh_tokens=True)
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    run_job(runtime, "intake")
    stack.salesforce.expire_sessions()  # the first refresh token is spent: only its heir works

    run_job(runtime, "worker")

    assert_synced(stack, sessions, opp)


def test_a_wrong_jwt_key_is_one_plain_message_without_secrets(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime, app, key_file = jwt_runtime(stack, db_url, sessions, tmp_path, key=STRANGER)
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])

    run_job(runtime, "intake")

    error = last_intake_error(sessions)
    assert error == (
        "Salesforce refused closebot's signed login: the private key in "
        f"SALESFORCE_JWT_KEY_FILE ({key_file}) does not match the certificate uploaded to the "
        "connected app; upload the matching certificate or point SALESFORCE_JWT_KEY_FILE at "
        "the right key")
    assert status(sessions, opp) == "not taken in"
    failures = [r for r in caplog.records if "signed login" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None
    key_body = STRANGER.private_key_pem.decode().splitlines()[1]
    for text in (caplog.text, error):
        assert key_body not in text and "PRIVATE KEY" not in text
        assert "eyJ" not in text  # no assertion (a signed JWT) either
        assert app.consumer_secret not in text


def test_a_revoked_refresh_token_says_what_to_do(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime, app, refresh = refresh_runtime(stack, db_url, sessions)
    stack.salesforce.revoke_refresh_token(refresh)

    run_job(runtime, "intake")

    error = last_intake_error(sessions)
    assert error == REVOKED
    failures = [r for r in caplog.records if REVOKED in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None
    for secret in (refresh, app.consumer_secret):
        assert secret not in caplog.text and secret not in str(error)


def test_a_fresh_session_refused_again_is_permanent_not_a_loop(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    runtime, _, _ = jwt_runtime(stack, db_url, sessions, tmp_path)
    stack.salesforce.session_ttl_s = 0  # every session Salesforce hands out is dead on arrival

    run_job(runtime, "intake")

    error = last_intake_error(sessions)
    assert error is not None and error.startswith(
        "Salesforce refused a session it had just issued")
    assert stack.salesforce.calls["oauth2.token"] == 2  # the login and one renewal, no more


def test_an_ended_static_session_names_the_way_out(
    stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    """A bare access token cannot be renewed: the message says what to set up instead."""
    stack.salesforce.expire_sessions()

    run_job(runtime, "intake")

    assert last_intake_error(sessions) == (
        "Salesforce ended closebot's session (expired or revoked) and closebot cannot log in "
        "again on its own: set up the JWT bearer or refresh-token flow (docs/salesforce-auth.md)"
        ", or set a new SALESFORCE_ACCESS_TOKEN")


def test_threads_share_one_renewal(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    runtime, _, _ = jwt_runtime(stack, db_url, sessions, tmp_path)
    BookSeeder(stack.salesforce).seed(demo_deals()[0])
    assert runtime.crm.find_opportunities("Acme")  # logged in
    stack.salesforce.expire_sessions()

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: runtime.crm.find_opportunities("Acme"), range(16)))

    assert all(len(rows) == 1 for rows in found)
    assert stack.salesforce.calls["oauth2.token"] == 2  # one login, one renewal for all threads
