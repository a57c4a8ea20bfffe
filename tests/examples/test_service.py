"""The service example (examples/service): client credentials against a real gatepass,
calling the api example; run end to end as a subprocess, and its token cache and
revocation recovery driven in-process against the same live servers."""

import json
import secrets
import time
from typing import Any

import httpx
import pytest

from tests.examples.gatepass_setup import client_credentials_token, revoke
from tests.examples.processes import import_example, run_example
from tests.live_server import LiveServer

REFUSAL_WAIT_SECONDS = 10.0  # a bound on the wait, not a performance assertion

service = import_example("service")


def service_env(gatepass: LiveServer, client: dict[str, Any], api: str) -> dict[str, str]:
    return {
        "GATEPASS_ISSUER": gatepass.url,
        "SERVICE_CLIENT_ID": client["client_id"],
        "SERVICE_CLIENT_SECRET": client["client_secret"],
        "API_URL": api,
    }


def events_of(stdout: str) -> dict[str, dict[str, Any]]:
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return {event["event"]: event for event in events}


def test_the_service_creates_and_lists_a_note_with_one_token(
    gatepass: LiveServer, service_client: dict[str, Any], api: str
) -> None:
    text = f"note {secrets.token_hex(4)}"
    done = run_example("service", service_env(gatepass, service_client, api), ["--note", text])
    assert done.returncode == 0, done.stderr
    events = events_of(done.stdout)
    created = events["note-created"]["note"]
    assert created["text"] == text
    assert created in events["notes-listed"]["notes"]
    assert events["done"]["token_requests"] == 1  # two api calls, one cached token
    # The api holds the note under the service's own subject (its client id).
    token = client_credentials_token(gatepass, service_client, "notes:read")
    notes = httpx.get(f"{api}/notes", headers={"Authorization": f"Bearer {token}"}).json()
    assert created in notes["notes"]


def test_a_wrong_secret_exits_1_with_gatepass_error_and_no_secret(
    gatepass: LiveServer, service_client: dict[str, Any], api: str
) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    env = service_env(gatepass, service_client, api) | {"SERVICE_CLIENT_SECRET": wrong}
    done = run_example("service", env)
    assert done.returncode == 1
    assert "invalid_client" in done.stderr
    assert wrong not in done.stdout + done.stderr


def test_missing_configuration_exits_2_naming_the_variables() -> None:
    done = run_example("service", {})
    assert done.returncode == 2
    assert "SERVICE_CLIENT_ID" in done.stderr


class FakeClock:
    """Only the service's cache reads it; gatepass and its tokens keep real time."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def http() -> Any:
    with httpx.Client(timeout=10) as client:
        yield client


def test_the_token_is_reused_until_shortly_before_it_expires(
    gatepass: LiveServer, service_client: dict[str, Any], http: httpx.Client
) -> None:
    clock = FakeClock()
    tokens = service.ClientCredentials(
        http, gatepass.url, service_client["client_id"], service_client["client_secret"],
        "notes:read", clock=clock,
    )  # fmt: skip
    first = tokens.token()
    clock.at += 29  # the tests' gatepass issues 60 s tokens: renewed 30 s before the end
    assert tokens.token() == first
    assert tokens.requests == 1
    clock.at += 1
    assert tokens.token() != first
    assert tokens.requests == 2


def test_a_revoked_token_is_refused_by_the_api_and_the_service_gets_a_new_one(
    gatepass: LiveServer, service_client: dict[str, Any], api: str, http: httpx.Client
) -> None:
    tokens = service.ClientCredentials(
        http, gatepass.url, service_client["client_id"], service_client["client_secret"],
        "notes:read notes:write",
    )  # fmt: skip
    notes_api = service.NotesApi(http, api, tokens)
    notes_api.list()
    revoked = tokens.token()
    revoke(gatepass, service_client, revoked)
    headers = {"Authorization": f"Bearer {revoked}"}
    deadline = time.monotonic() + REFUSAL_WAIT_SECONDS
    while (status := http.get(f"{api}/notes", headers=headers).status_code) == 200:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 401
    # The service's next call meets the 401, asks gatepass for a new token, and succeeds.
    assert "notes" in notes_api.list()
    assert tokens.requests == 2
    assert tokens.token() != revoked
