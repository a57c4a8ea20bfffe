"""Passkey fixtures: real SQL storage, a fixed clock, a software authenticator."""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gatepass.clock import FixedClock
from gatepass.mfa.passkeys import Passkeys, RelyingParty
from gatepass.storage.backends import Backends
from gatepass.storage.challenges import ThrottleChallengeRegister
from gatepass.storage.sql.passkeys import SqlPasskeyStore
from tests.contract.conftest import a_user
from tests.passkeys.authenticator import SoftAuthenticator
from tests.support import settings_for, test_backends

ISSUER = "https://id.example.com"
ORIGIN = "https://id.example.com"
RP_ID = "id.example.com"


@pytest.fixture(params=("sqlite", "postgres"))
async def sql_backends(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, redis_prefix: str
) -> AsyncIterator[Backends]:
    settings = settings_for(request.param, tmp_path, postgres_url, redis_prefix, issuer=ISSUER)
    async with test_backends(settings) as opened:
        yield opened


@pytest.fixture
async def sqlite_backends(
    tmp_path: Path, postgres_url: str, redis_prefix: str
) -> AsyncIterator[Backends]:
    settings = settings_for("sqlite", tmp_path, postgres_url, redis_prefix, issuer=ISSUER)
    async with test_backends(settings) as opened:
        yield opened


@pytest.fixture
def fixed_clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def core(sqlite_backends: Backends, fixed_clock: FixedClock) -> Passkeys:
    return Passkeys(
        SqlPasskeyStore(sqlite_backends.engine),
        ThrottleChallengeRegister(sqlite_backends.throttle),
        RelyingParty.for_issuer(ISSUER),
        fixed_clock,
    )


@pytest.fixture
def add_user(sqlite_backends: Backends) -> Callable[[], Awaitable[str]]:
    async def make() -> str:
        user = a_user()
        await sqlite_backends.users.add(user)
        return user.id

    return make


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID)
