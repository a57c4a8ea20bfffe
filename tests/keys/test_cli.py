"""`gatepass key list | rotate`, run as the installed command against a real database."""

import asyncio
import json
import subprocess
from dataclasses import replace

import pytest

from gatepass.storage.backends import Backends
from tests.cli.conftest import (  # noqa: F401 - `cli` is the fixture
    Cli,
    assert_one_line_error,
    cli,
    run_gatepass,
)


@pytest.fixture(params=("sqlite",))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def test_rotate_publishes_a_next_key_and_list_shows_it(
    cli: Cli,  # noqa: F811
    backends: Backends,
) -> None:
    rotated = json.loads(await cli.ok("key", "rotate", "--alg", "ES256", "--json"))
    assert rotated["alg"] == "ES256"
    assert rotated["state"] == "next"
    listed = await cli.json("key", "list")
    assert [(k["kid"], k["state"]) for k in listed] == [(rotated["kid"], "next")]
    assert set(listed[0]) >= {"kid", "alg", "state", "published_at", "active_at", "expires_at"}
    [stored] = await backends.signing_keys.list_all()
    assert stored.kid == rotated["kid"]


async def test_rotate_defaults_to_rs256_and_retires_the_current_key(cli: Cli) -> None:  # noqa: F811
    first = json.loads(await cli.ok("key", "rotate", "--json"))
    second = json.loads(await cli.ok("key", "rotate", "--json"))
    assert first["alg"] == second["alg"] == "RS256"
    listed = {k["kid"]: k for k in await cli.json("key", "list")}
    assert listed[first["kid"]]["retired_at"] == second["active_at"]
    text = await cli.ok("key", "list")
    assert first["kid"] in text
    assert "RS256" in text


async def test_rotate_refuses_an_unknown_algorithm(cli: Cli) -> None:  # noqa: F811
    result = await cli("key", "rotate", "--alg", "HS256")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


async def test_rotate_under_another_master_key_is_refused(cli: Cli) -> None:  # noqa: F811
    await cli.ok("key", "rotate", "--alg", "EdDSA")
    # Without GATEPASS_SECRET_KEY the command makes a key file of its own in its directory,
    # says so, and then refuses to seal a key the server could never open.
    cli.settings = replace(cli.settings, secret_key=None)
    result = await cli("key", "rotate", "--alg", "EdDSA")
    announcement, error = result.stderr.splitlines()
    assert "created a new master key" in announcement
    only_error = subprocess.CompletedProcess(result.args, result.returncode, result.stdout, error)
    assert_one_line_error(only_error, "GATEPASS_SECRET_KEY", "master key")
    assert len(await cli.json("key", "list")) == 1


async def test_list_with_a_bad_secret_key_is_one_line(cli: Cli) -> None:  # noqa: F811
    env = {**cli.env, "GATEPASS_SECRET_KEY": "short"}
    result = await asyncio.to_thread(run_gatepass, "key", "list", cwd=cli.cwd, env=env)
    assert_one_line_error(result, "GATEPASS_SECRET_KEY")
