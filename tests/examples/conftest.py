"""Fixtures of the example tests: one real `gatepass serve` (SQLite) for the package,
with the shortest access-token lifetime gatepass allows, so the native example's refresh
happens within a test; the api example reading its revocation feed over HTTP."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.examples.gatepass_setup import NOTES_SCOPES, create_client, scope_args
from tests.examples.processes import running_example
from tests.live_server import LiveServer, live_server

ACCESS_TOKEN_TTL = 60  # GATEPASS_ACCESS_TOKEN_TTL's minimum (config.py)


@pytest.fixture(scope="package")
def gatepass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {"GATEPASS_ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL)}
    with live_server(tmp_path_factory.mktemp("examples-gatepass"), settings) as live:
        yield live


@pytest.fixture(scope="package")
def api_client(gatepass: LiveServer) -> dict[str, Any]:
    """The api's own confidential client, for the revocation feed (examples/api/README.md)."""
    return create_client(gatepass, "--grant-type", "client_credentials", *scope_args("notes:read"))


@pytest.fixture(scope="package")
def api(gatepass: LiveServer, api_client: dict[str, Any]) -> Iterator[str]:
    """The api example, running against `gatepass`; its base URL."""
    env = {
        "GATEPASS_ISSUER": gatepass.url,
        "API_CLIENT_ID": api_client["client_id"],
        "API_CLIENT_SECRET": api_client["client_secret"],
    }
    with running_example("api", env) as url:
        yield url


@pytest.fixture(scope="package")
def service_client(gatepass: LiveServer) -> dict[str, Any]:
    """A confidential client allowed client_credentials with the notes scopes."""
    return create_client(gatepass, "--grant-type", "client_credentials", *scope_args(*NOTES_SCOPES))
