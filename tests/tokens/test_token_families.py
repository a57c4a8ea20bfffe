"""Token families (tokens/refresh.py, families.py; docs/refresh-tokens.md) on SQLite and
PostgreSQL: rotation, the retry window, reuse detection, and racing refreshes.

Families live in SQL whatever holds the sessions, so the Redis backend adds nothing here.
"""

import asyncio
import uuid

import pytest

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from gatepass.tokens.families import FamilyPolicy, RefreshTokenSecrets
from gatepass.tokens.refresh import FamilyStart, Refused, Reused, Rotated, TokenFamilies
from gatepass.tokens.revocation import Revocations
from tests.contract.conftest import START, a_user
from tests.support import grant_revoked

POLICY = FamilyPolicy(idle_ttl=3600, absolute_ttl=86_400, retry_window=30)
STRICT = FamilyPolicy(idle_ttl=3600, absolute_ttl=86_400, retry_window=0)


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def families(settings: Settings, backends: Backends, clock: FixedClock) -> TokenFamilies:
    secrets = RefreshTokenSecrets(lambda: load_master_key(settings).refresh_successor_key())
    revocations = Revocations(
        backends.revocations, backends.revocation_feed, clock, max_token_ttl_seconds=3600
    )
    return TokenFamilies(backends.families, revocations, secrets, clock)


@pytest.fixture
async def owners(settings: Settings, backends: Backends) -> tuple[str, str, str]:
    """A user and two clients, as the foreign keys want them."""
    user = a_user()
    await backends.users.add(user)
    registry = ClientRegistry(backends.clients, b"k" * 32, FixedClock(START))
    ids = []
    for name in ("Printer", "Other"):
        reg = ClientRegistration(
            name=name,
            redirect_uris=("https://app.example.com/cb",),
            grant_types=("authorization_code", "refresh_token"),
        )
        client, _ = await registry.create(reg)
        ids.append(client.client_id)
    return user.id, ids[0], ids[1]


async def start(
    families: TokenFamilies, owners: tuple[str, str, str], policy: FamilyPolicy | None = POLICY
) -> tuple[str, str | None]:
    user_id, client_id, _ = owners
    family_id = uuid.uuid4().hex
    token = await families.start(
        FamilyStart(
            family_id=family_id,
            client_id=client_id,
            user_id=user_id,
            scopes=("openid", "offline_access"),
            resource=None,
            auth_time=START - 5,
            session_id="s" * 43,
            access_expires_at=START + 900,
        ),
        policy,
    )
    return family_id, token


async def test_a_family_keeps_how_its_user_authenticated(
    families: TokenFamilies, owners: tuple[str, str, str]
) -> None:
    user_id, client_id, _ = owners
    token = await families.start(
        FamilyStart(
            family_id=uuid.uuid4().hex,
            client_id=client_id,
            user_id=user_id,
            scopes=("openid", "offline_access"),
            resource=None,
            auth_time=START - 5,
            session_id=None,
            access_expires_at=START + 900,
            amr=("fed",),
            idp="corp-sso",
        ),
        POLICY,
    )
    assert token is not None
    rotated = await rotate(families, token, client_id)
    assert (rotated.family.amr, rotated.family.idp) == (("fed",), "corp-sso")


async def rotate(families: TokenFamilies, token: str, client_id: str) -> Rotated:
    result = await families.refresh(token, client_id)
    assert isinstance(result, Rotated), result
    return result


async def test_every_refresh_rotates_to_a_new_token(
    families: TokenFamilies, owners: tuple[str, str, str]
) -> None:
    _, first = await start(families, owners)
    assert first is not None
    second = await rotate(families, first, owners[1])
    third = await rotate(families, second.refresh_token, owners[1])
    assert len({first, second.refresh_token, third.refresh_token}) == 3
    assert third.family.generation == 2
    assert not third.retried
    assert (await families.find(third.refresh_token)) is not None
    assert (await families.find(first)) is None  # rotated: no longer the live one


async def test_a_retry_within_the_window_gets_the_same_successor(
    families: TokenFamilies, owners: tuple[str, str, str], clock: FixedClock
) -> None:
    _, first = await start(families, owners)
    assert first is not None
    rotated = await rotate(families, first, owners[1])
    clock.advance(29)
    retried = await rotate(families, first, owners[1])
    assert retried.retried
    assert retried.refresh_token == rotated.refresh_token
    # The successor still works: the family did not fork, nor was it revoked.
    assert (await rotate(families, rotated.refresh_token, owners[1])).family.generation == 2


async def test_a_retry_after_the_successor_was_used_revokes_the_family(
    families: TokenFamilies, owners: tuple[str, str, str], clock: FixedClock, backends: Backends
) -> None:
    family_id, first = await start(families, owners)
    assert first is not None
    second = await rotate(families, first, owners[1])
    third = await rotate(families, second.refresh_token, owners[1])
    clock.advance(1)
    assert await families.refresh(first, owners[1]) == Reused(family_id)
    # The newest token dies with the family, and its access tokens with it.
    assert isinstance(await families.refresh(third.refresh_token, owners[1]), Refused)
    assert await families.find(third.refresh_token) is None
    assert await grant_revoked(backends, family_id, START + 1)


async def test_a_retry_outside_the_window_revokes_the_family(
    families: TokenFamilies, owners: tuple[str, str, str], clock: FixedClock
) -> None:
    family_id, first = await start(families, owners)
    assert first is not None
    rotated = await rotate(families, first, owners[1])
    clock.advance(31)
    assert await families.refresh(first, owners[1]) == Reused(family_id)
    assert isinstance(await families.refresh(rotated.refresh_token, owners[1]), Refused)


async def test_a_strict_window_treats_any_second_presentation_as_theft(
    families: TokenFamilies, owners: tuple[str, str, str]
) -> None:
    family_id, first = await start(families, owners, STRICT)
    assert first is not None
    await rotate(families, first, owners[1])
    assert await families.refresh(first, owners[1]) == Reused(family_id)


async def test_another_client_cannot_refresh_and_revokes_nothing(
    families: TokenFamilies, owners: tuple[str, str, str]
) -> None:
    _, first = await start(families, owners)
    assert first is not None
    assert await families.refresh(first, owners[2]) == Refused("issued to another client")
    assert (await rotate(families, first, owners[1])).family.generation == 1


@pytest.mark.parametrize(
    "token",
    ["", "short", "x" * 43, "a" * 42 + "!", "ü" * 43],
    ids=["empty", "short", "unknown", "bad alphabet", "non-ascii"],
)
async def test_garbage_is_refused_without_error(
    families: TokenFamilies, owners: tuple[str, str, str], token: str
) -> None:
    await start(families, owners)
    assert isinstance(await families.refresh(token, owners[1]), Refused)


async def test_an_idle_family_ends_and_use_slides_the_idle_end(
    families: TokenFamilies, owners: tuple[str, str, str], clock: FixedClock
) -> None:
    _, first = await start(families, owners)
    assert first is not None
    clock.advance(3000)
    token = (await rotate(families, first, owners[1])).refresh_token
    clock.advance(3000)  # 6000 s since the start, 3000 s since the last use
    token = (await rotate(families, token, owners[1])).refresh_token
    clock.advance(3600)
    assert await families.refresh(token, owners[1]) == Refused("family revoked or expired")


async def test_the_absolute_end_holds_however_often_it_is_used(
    families: TokenFamilies, owners: tuple[str, str, str], clock: FixedClock
) -> None:
    _, token = await start(families, owners)
    assert token is not None
    for _ in range(24):
        clock.advance(3599)
        token = (await rotate(families, token, owners[1])).refresh_token
    clock.advance(86_400 - 24 * 3599)
    assert isinstance(await families.refresh(token, owners[1]), Refused)


async def test_concurrent_refreshes_of_one_token_yield_one_successor(
    families: TokenFamilies, owners: tuple[str, str, str]
) -> None:
    family_id, first = await start(families, owners)
    assert first is not None
    results = await asyncio.gather(*(families.refresh(first, owners[1]) for _ in range(50)))
    assert all(isinstance(result, Rotated) for result in results), results
    successors = {result.refresh_token for result in results if isinstance(result, Rotated)}
    assert len(successors) == 1
    assert sum(not r.retried for r in results if isinstance(r, Rotated)) == 1
    family = await families.get(family_id)
    assert family is not None
    assert family.generation == 1


async def test_concurrent_strict_refreshes_never_leave_two_live_tokens(
    families: TokenFamilies, owners: tuple[str, str, str]
) -> None:
    _, first = await start(families, owners, STRICT)
    assert first is not None
    results = await asyncio.gather(*(families.refresh(first, owners[1]) for _ in range(20)))
    # One rotation may have won before the others revoked the family; none is live now.
    assert sum(isinstance(result, Rotated) for result in results) <= 1
    assert any(isinstance(result, Reused) for result in results)
    live = [r.refresh_token for r in results if isinstance(r, Rotated)]
    assert [await families.find(token) for token in live] == [None] * len(live)


async def test_a_family_without_refresh_token_is_listed_until_its_access_token_ends(
    families: TokenFamilies, owners: tuple[str, str, str], clock: FixedClock
) -> None:
    family_id, token = await start(families, owners, None)
    assert token is None
    assert [f.id for f in await families.for_user(owners[0])] == [family_id]
    clock.advance(900)
    assert await families.for_user(owners[0]) == []


async def test_revoking_a_user_revokes_every_family_and_its_access_tokens(
    families: TokenFamilies, owners: tuple[str, str, str], backends: Backends
) -> None:
    first_id, first = await start(families, owners)
    second_id, _ = await start(families, owners, None)
    assert sorted(await families.revoke_for_user(owners[0])) == sorted([first_id, second_id])
    assert await families.for_user(owners[0]) == []
    assert first is not None
    assert isinstance(await families.refresh(first, owners[1]), Refused)
    for family_id in (first_id, second_id):
        assert await grant_revoked(backends, family_id, START)
    assert await families.revoke_for_user(owners[0]) == []


async def test_sweep_forgets_ended_families_a_day_later(
    families: TokenFamilies, owners: tuple[str, str, str], backends: Backends
) -> None:
    family_id, _ = await start(families, owners, None)
    await backends.sweep(START + 900 + 86_399)
    assert await families.get(family_id) is not None
    await backends.sweep(START + 900 + 86_400)
    assert await families.get(family_id) is None
