"""Setting gatepass up for the example tests the way an operator would: clients and
users created with the real `gatepass` CLI against a live server's storage, tokens asked
of its real /token endpoint.
"""

import json
import secrets
import subprocess
from typing import Any

import httpx

from tests.live_server import BINARY, CLI_SECONDS, LiveServer
from tests.support import PASSWORD

NOTES_SCOPES = ("notes:read", "notes:write")


def create_client(live: LiveServer, *args: str) -> dict[str, Any]:
    """`gatepass client create <random name> ARGS... --json`: the created client."""
    name = f"example-{secrets.token_hex(4)}"
    created: dict[str, Any] = json.loads(live.cli("client", "create", name, *args, "--json"))
    return created


def scope_args(*scopes: str) -> list[str]:
    return [arg for scope in scopes for arg in ("--scope", scope)]


def create_user(live: LiveServer, email: str, password: str = PASSWORD) -> str:
    """`gatepass user create EMAIL --password-stdin --json`: the new user's id."""
    done = subprocess.run(
        [
            str(BINARY),
            "user",
            "create",
            email,
            "--name",
            "Ada Lovelace",
            *("--password-stdin", "--json"),
        ],
        cwd=live.workdir,
        env=dict(live.env),
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    user_id: str = json.loads(done.stdout)["id"]
    return user_id


def client_credentials_token(
    live: LiveServer, client: dict[str, Any], scope: str, **extra: str
) -> str:
    """An access token from /token by client_credentials (RFC 6749 §4.4)."""
    response = httpx.post(
        f"{live.url}/token",
        data={"grant_type": "client_credentials", "scope": scope, **extra},
        auth=(client["client_id"], client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def revoke(live: LiveServer, client: dict[str, Any], token: str) -> None:
    """RFC 7009 revocation by the client the token was issued to."""
    response = httpx.post(
        f"{live.url}/revoke",
        data={"token": token},
        auth=(client["client_id"], client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
