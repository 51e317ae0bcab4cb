"""The emulator's login server: JWT bearer and refresh-token grants over HTTPS with httpx, the
sessions they issue, and the refusals Salesforce answers with."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from sandbox.salesforce import SalesforceEmulator
from sandbox.salesforce.certs import KeyPair, self_signed
from sandbox.salesforce.oauth import JWT_BEARER, ConnectedApp

PAIR = self_signed()
OTHER = self_signed()


@pytest.fixture()
def emu() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator() as running:
        yield running


@pytest.fixture()
def http(emu: SalesforceEmulator) -> Iterator[httpx.Client]:
    trust = ssl.create_default_context(cafile=str(emu.ca_bundle))
    with httpx.Client(base_url=emu.url, verify=trust) as client:
        yield client


def assertion(app: ConnectedApp, emu: SalesforceEmulator, *, pair: KeyPair = PAIR,
              **claims: Any) -> str:
    body = {"iss": app.consumer_key, "sub": emu.integration_username, "aud": emu.login_url,
            "exp": int(time.time()) + 170, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None},
                      pair.private_key_pem, algorithm="RS256")


def token(http: httpx.Client, **form: str) -> httpx.Response:
    return http.post("/services/oauth2/token", data=form)


def limits(http: httpx.Client, access_token: str) -> httpx.Response:
    return http.get("/services/data/v59.0/limits",
                    headers={"Authorization": f"Bearer {access_token}"})


def test_jwt_bearer_issues_a_session_for_the_user(
    emu: SalesforceEmulator, http: httpx.Client
) -> None:
    app = emu.add_connected_app(certificate_pem=PAIR.certificate_pem)
    answer = token(http, grant_type=JWT_BEARER, assertion=assertion(app, emu))
    assert answer.status_code == 200
    body = answer.json()
    assert {"access_token", "scope", "instance_url", "id", "token_type"} <= body.keys()
    assert "refresh_token" not in body
    assert body["instance_url"] == emu.url and body["token_type"] == "Bearer"
    assert body["id"].endswith(f"/{emu.owner_id}")
    assert limits(http, body["access_token"]).status_code == 200
    assert emu.calls["oauth2.token"] == 1
    assert emu.api_usage()[0] == 1  # the login spent no API call, the limits read did


@pytest.mark.parametrize(
    ("case", "error", "description"),
    [
        ("other key", "invalid_grant", "invalid assertion"),
        ("expired", "invalid_grant", "expired authorization code"),
        ("wrong audience", "invalid_grant", "audience is invalid"),
        ("unknown user", "invalid_grant", "user hasn't approved this consumer"),
        ("unknown consumer key", "invalid_client_id", "client identifier invalid"),
        ("no exp", "invalid_grant", "invalid assertion"),
        ("not a jwt", "invalid_grant", "invalid assertion"),
    ],
)
def test_jwt_bearer_refusals(emu: SalesforceEmulator, http: httpx.Client, case: str,
                             error: str, description: str) -> None:
    app = emu.add_connected_app(certificate_pem=PAIR.certificate_pem)
    made = {
        "other key": lambda: assertion(app, emu, pair=OTHER),
        "expired": lambda: assertion(app, emu, exp=int(time.time()) - 600),
        "wrong audience": lambda: assertion(app, emu, aud="https://login.salesforce.com"),
        "unknown user": lambda: assertion(app, emu, sub="nobody@example.com"),
        "unknown consumer key": lambda: assertion(app, emu, iss="3MVG9unknown"),
        "no exp": lambda: assertion(app, emu, exp=None),
        "not a jwt": lambda: "not-a-jwt",
    }[case]()
    answer = token(http, grant_type=JWT_BEARER, assertion=made)
    assert answer.status_code == 400
    assert answer.json() == {"error": error, "error_description": description}


def test_a_user_not_preauthorized_is_refused(emu: SalesforceEmulator, http: httpx.Client) -> None:
    app = emu.add_connected_app(certificate_pem=PAIR.certificate_pem, preauthorized=set())
    answer = token(http, grant_type=JWT_BEARER, assertion=assertion(app, emu))
    assert answer.json()["error_description"] == "user hasn't approved this consumer"


def test_refresh_token_grant_is_signed_and_revocable(
    emu: SalesforceEmulator, http: httpx.Client
) -> None:
    app = emu.add_connected_app()
    refresh = emu.issue_refresh_token(app.consumer_key)
    form = {"grant_type": "refresh_token", "refresh_token": refresh,
            "client_id": app.consumer_key, "client_secret": app.consumer_secret}
    body = token(http, **form).json()
    assert {"access_token", "signature", "scope", "instance_url", "id", "token_type",
            "issued_at"} <= body.keys()
    mac = hmac.new(app.consumer_secret.encode(), (body["id"] + body["issued_at"]).encode(),
                   hashlib.sha256).digest()
    assert base64.b64decode(body["signature"]) == mac
    assert limits(http, body["access_token"]).status_code == 200

    basic = http.post("/services/oauth2/token", auth=(app.consumer_key, app.consumer_secret),
                      data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert basic.status_code == 200

    wrong = token(http, **{**form, "client_secret": "not-the-secret"})
    assert wrong.json() == {"error": "invalid_client", "error_description":
                            "invalid client credentials"}
    emu.revoke_refresh_token(refresh)
    revoked = token(http, **form)
    assert revoked.status_code == 400
    assert revoked.json() == {"error": "invalid_grant",
                              "error_description": "expired access/refresh token"}


def test_rotation_hands_out_a_new_refresh_token(
    emu: SalesforceEmulator, http: httpx.Client
) -> None:
    app = emu.add_connected_app(rotate_refresh_tokens=True)
    first = emu.issue_refresh_token(app.consumer_key)
    form = {"grant_type": "refresh_token", "client_id": app.consumer_key,
            "client_secret": app.consumer_secret}
    second = token(http, refresh_token=first, **form).json()["refresh_token"]
    assert second != first
    assert token(http, refresh_token=first, **form).json()["error"] == "invalid_grant"
    assert token(http, refresh_token=second, **form).status_code == 200


def test_sessions_end_on_expiry_and_on_the_ttl(
    emu: SalesforceEmulator, http: httpx.Client
) -> None:
    app = emu.add_connected_app(certificate_pem=PAIR.certificate_pem)
    issued = token(http, grant_type=JWT_BEARER, assertion=assertion(app, emu)).json()
    emu.expire_sessions()
    answer = limits(http, issued["access_token"])
    assert answer.status_code == 401
    assert answer.json() == [{"message": "Session expired or invalid",
                              "errorCode": "INVALID_SESSION_ID"}]
    assert limits(http, emu.token).status_code == 401  # the start-up session ends too

    emu.session_ttl_s = 0.2
    short = token(http, grant_type=JWT_BEARER, assertion=assertion(app, emu)).json()
    assert limits(http, short["access_token"]).status_code == 200
    time.sleep(0.3)
    assert limits(http, short["access_token"]).status_code == 401


def test_token_endpoint_wants_a_known_grant_over_post(
    emu: SalesforceEmulator, http: httpx.Client
) -> None:
    assert token(http, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert http.get("/services/oauth2/token").json() == {
        "error": "invalid_request", "error_description": "must use HTTP POST"}
