"""`gatepass user create | list` and the refusal of a taken e-mail address.

Users always live in SQL: creation runs on SQLite and PostgreSQL (the Redis backend
changes only where sessions live, see test_sessions.py); the rest, whose difference
between SQL stores the storage contract tests cover, on SQLite.
"""

import asyncio
import json

import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from gatepass.web.app import build_services
from tests.cli.conftest import Cli, assert_one_line_error, run_gatepass
from tests.support import PASSWORD


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def test_user_create_with_json_prints_one_object_with_id_and_email(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    result = await cli(
        "user", "create", "Ada@Example.com", "--password-stdin", "--name", "Ada L", "--json",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    created = json.loads(line)
    assert created["email"] == "ada@example.com"
    assert created["name"] == "Ada L"
    assert created["disabled"] is False
    stored = await backends.users.get(created["id"])
    assert stored is not None
    assert stored.email == "ada@example.com"
    # The password read from stdin (without its newline) is the one that works.
    accounts = build_services(settings, backends, SystemClock()).accounts
    assert await accounts.authenticate("ada@example.com", PASSWORD) is not None


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_user_create_refuses_a_taken_email_with_one_line(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    accounts = build_services(settings, backends, SystemClock()).accounts
    first = await accounts.sign_up("ada@example.com", PASSWORD)
    result = await cli(
        "user", "create", "ADA@example.com", "--password-stdin", stdin="another good passphrase\n"
    )
    assert_one_line_error(result, "already exists")
    assert [u.id for u in await accounts.list_all()] == [first.id]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_user_list_json_shows_every_user_and_whether_it_is_disabled(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    accounts = build_services(settings, backends, SystemClock()).accounts
    ada = await accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    bob = await accounts.set_disabled(await accounts.sign_up("bob@example.com", PASSWORD), True)
    listed = await cli.json("user", "list")
    by_email = {row["email"]: row for row in listed}
    assert set(by_email) == {"ada@example.com", "bob@example.com"}
    assert by_email["ada@example.com"]["id"] == ada.id
    assert by_email["ada@example.com"]["name"] == "Ada"
    assert by_email["ada@example.com"]["disabled"] is False
    assert by_email["bob@example.com"]["id"] == bob.id
    assert by_email["bob@example.com"]["disabled"] is True


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_command_that_needs_no_key_creates_no_key_file(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    # Without GATEPASS_SECRET_KEY the master key lives in ./gatepass.key, created on first
    # use: listing users uses no key, so no file appears in the working directory.
    env = {name: value for name, value in cli.env.items() if name != "GATEPASS_SECRET_KEY"}
    result = await asyncio.to_thread(run_gatepass, "user", "list", cwd=cli.cwd, env=env)
    assert result.returncode == 0, result.stderr
    assert not (cli.cwd / "gatepass.key").exists()
    created = await asyncio.to_thread(
        run_gatepass, "client", "create", "App", "--redirect-uri", "https://a.example/cb",
        cwd=cli.cwd, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert (cli.cwd / "gatepass.key").exists()
