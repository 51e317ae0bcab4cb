"""Signed but hostile Slack payloads: malformed JSON, missing fields, huge and odd text. Each gets
a clear answer (never a 5xx) and the app keeps serving."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.conftest import Harness

COMMANDS = ("/invoice-status", "/sync-status", "/deal-trace", "/credit", "/closebot")
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)


def _healthy(harness: Harness) -> None:
    assert harness.slack.command("/closebot", "help").status_code == 200


@FUZZ
@given(command=st.sampled_from(COMMANDS),
       text=st.text(max_size=300) | st.text(min_size=5000, max_size=20000))
def test_any_command_text_gets_an_answer(harness: Harness, command: str, text: str) -> None:
    response = harness.slack.command(command, text)
    assert response.status_code == 200


@FUZZ
@given(raw=st.text(max_size=400))
def test_malformed_interactive_json_is_refused_cleanly(harness: Harness, raw: str) -> None:
    response = harness.slack.post(urlencode({"payload": raw}))
    assert response.status_code < 500


@FUZZ
@given(payload=st.dictionaries(
    st.sampled_from(["type", "user", "actions", "view", "team", "channel", "response_url",
                     "trigger_id", "callback_id"]),
    json_values, max_size=8))
def test_interactive_payloads_missing_fields_never_crash(harness: Harness, payload: dict) -> None:
    response = harness.slack.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code < 500


@FUZZ
@given(form=st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=60), max_size=6))
def test_arbitrary_signed_forms_never_crash(harness: Harness, form: dict) -> None:
    response = harness.slack.post(urlencode(form))
    assert response.status_code < 500


def test_still_serving_after_the_fuzz(harness: Harness) -> None:
    harness.slack.post(urlencode({"payload": "{not json"}))
    harness.slack.post(urlencode({"payload": json.dumps({"type": "block_actions"})}))
    _healthy(harness)
