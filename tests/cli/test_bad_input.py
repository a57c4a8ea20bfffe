"""Refusals that do not depend on the backend: one line on stderr, exit code 2, no traceback.

They run on SQLite only; the same checks happen before any store is written.
"""

import pytest

from gatepass.storage.backends import Backends
from tests.cli.conftest import Cli, assert_one_line_error


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_user_create_refuses_a_common_password_and_writes_nothing(
    cli: Cli, backends: Backends
) -> None:
    result = await cli("user", "create", "ada@example.com", "--password-stdin", stdin="password\n")
    assert_one_line_error(result, "too common")
    assert await backends.users.list_all() == []


async def test_disabling_an_unknown_user_fails_with_one_line(cli: Cli, backends: Backends) -> None:
    assert_one_line_error(await cli("user", "disable", "nobody@example.com"), "nobody@example.com")


async def test_revoking_an_unknown_session_id_fails_with_one_line(
    cli: Cli, backends: Backends
) -> None:
    # Session IDs are base64url, so one in 64 begins with "-"; it is still read as the ID.
    result = await cli("session", "revoke", "--id", "-no-such-session")
    assert_one_line_error(result, "no live session", "-no-such-session")
