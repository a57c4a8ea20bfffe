"""Redis stopped and started again under load, behind two `gatepass serve` processes
(SECURITY.md decision 3: a store that is down fails closed, 503 with Retry-After).

    workers ─► page views (signed-in users), logins, client_credentials, refreshes ─► A | B
                   │ 2 s            │ Redis stopped (SIGTERM) 3 s     │ started again
                   all succeed      pages and logins 503, never 500   recovered by themselves

Redis is the test's own (tests/faults/stores.py), with an fsync-always AOF: what it
acknowledged survives its restart, so every session handed out before still works. The
revocation feed's own restart cases are tests/resource/test_redis_feed.py; here only
that revocations made through the processes before and after reach a verifier.
"""

import asyncio
import functools
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from gatepass.resource.feeds import RedisRevocationFeed
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.storage.backends import open_redis
from tests.faults import flows
from tests.faults.flows import Pair, serve_pair
from tests.faults.load import Action, Answer, Load, Outcome, tally
from tests.faults.stores import PrivateRedis, private_redis
from tests.live_server import scratch_postgres_and_redis
from tests.oauth_client import App
from tests.resource.feed_support import WAIT_SECONDS, eventually, facts_of
from tests.support import POSTGRES_ADMIN_URL

USERS = 4
WORKERS = 4


@dataclass
class World:
    """What the load works with and what it handed out."""

    pair: Pair
    app: App
    users: list[str]
    sessions: dict[str, str]  # session secret -> its user's e-mail
    chains: list[str]  # the latest refresh token of each worker's family
    picks: Iterator[int] = field(default_factory=itertools.count)


async def _first_refresh_token(pair: Pair, app: App, session: str, n: int) -> dict[str, str]:
    response = await flows.authorization_code(pair.either(n), session, app)
    assert response.status_code == 200, response.text[:300]
    tokens: dict[str, str] = response.json()
    return tokens


async def _prepare(pair: Pair) -> World:
    registering = asyncio.create_task(asyncio.to_thread(flows.register, pair.a))
    signing_up = (flows.signed_up(pair, n, "redis-fault") for n in range(USERS))
    signed_up = list(await asyncio.gather(*signing_up))
    app = await registering
    users = [email for _, email in signed_up]
    sessions = dict(signed_up)
    chains = [
        (await _first_refresh_token(pair, app, signed_up[w % USERS][0], w))["refresh_token"]
        for w in range(WORKERS)
    ]
    return World(pair, app, users, sessions, chains)


def _actions(world: World) -> dict[str, Action]:
    pair, app = world.pair, world.app

    async def page(_worker: int) -> Answer:
        n = next(world.picks)
        session, email = list(world.sessions.items())[n % USERS]
        response = await flows.account_page(pair.either(n), session)
        return Answer(response, flows.shows_account(response, email))

    async def login(_worker: int) -> Answer:
        n = next(world.picks)
        email = world.users[n % USERS]
        response = await flows.log_in(pair.either(n), pair.issuer, email)
        return Answer(response, (flows.session_of(response), email))

    async def client_credentials(_worker: int) -> Answer:
        return Answer(await flows.client_credentials(pair.either(next(world.picks)), app))

    async def refresh(worker: int) -> Answer:
        response = await flows.refresh(pair.either(next(world.picks)), app, world.chains[worker])
        if response.status_code == 200:
            world.chains[worker] = response.json()["refresh_token"]
        return Answer(response)

    return {
        "page": page,
        "login": login,
        "client_credentials": client_credentials,
        "refresh": refresh,
    }


@asynccontextmanager
async def _verifier(redis: PrivateRedis, prefix: str) -> AsyncIterator[RevocationSet]:
    """A `gatepass.resource` revocation set fed from the processes' Redis."""
    revocations = RevocationSet(max_gap_seconds=0, skew_seconds=0)
    # Short backoffs: the feed reconnects soon after the restart.
    feed = RedisRevocationFeed(
        redis.url, revocations, prefix, heartbeat_seconds=0.5, min_backoff=0.05, max_backoff=0.2
    )
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        yield revocations


def _revoked(revocations: RevocationSet, access_token: str) -> bool:
    return revocations.verdict(facts_of(access_token), time.time()) is Verdict.REVOKED


async def _revoked_grant(world: World, n: int) -> str:
    """Sign a user in to the app, then revoke that grant: the access token it was given."""
    session = next(iter(world.sessions))
    tokens = await _first_refresh_token(world.pair, world.app, session, n)
    revoked = await flows.revoke(world.pair.either(n), world.app, tokens["refresh_token"])
    assert revoked.status_code == 200, revoked.text[:300]
    return tokens["access_token"]


def _failed_closed(o: Outcome) -> bool:
    """What a request that needs Redis may answer while it is down."""
    if o.action == "page":
        return o.status == 503  # never the page, never "log in" as if the session were gone
    if o.action == "login":
        session, _email = cast(tuple[str | None, str], o.value)
        return o.status == 503 and session is None
    return o.status in (200, 503)  # tokens need no Redis: answered or refused cleanly


def _page_never_lies(o: Outcome) -> bool:
    """A page view either shows the user's own account or is a 503: never another page."""
    return o.action != "page" or (o.status == 200 and o.value is True) or o.status == 503


@dataclass(frozen=True)
class Deployment:
    pair: Pair
    redis: PrivateRedis
    prefix: str


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """Two processes on a scratch PostgreSQL database and the test's own Redis."""
    with (
        private_redis(tmp_path) as redis,
        scratch_postgres_and_redis(POSTGRES_ADMIN_URL, redis.url) as stores,
        serve_pair(tmp_path, stores) as pair,
    ):
        try:
            yield Deployment(pair, redis, stores["GATEPASS_REDIS_PREFIX"])
        finally:
            if not redis.running:  # a failure mid-outage: the clean-up needs it back
                redis.start()


async def test_redis_stopped_mid_load_fails_closed_and_recovers_by_itself(
    deployment: Deployment,
) -> None:
    await _outage(deployment.pair, deployment.redis, deployment.prefix)


async def _outage(pair: Pair, redis: PrivateRedis, prefix: str) -> None:
    world = await _prepare(pair)
    load = Load(
        _actions(world),
        weights={"page": 4, "login": 2, "client_credentials": 2, "refresh": 2},
        workers=WORKERS,
        max_requests=flows.MAX_REQUESTS,
    )
    async with _verifier(redis, prefix) as revocations:
        running = asyncio.create_task(load.run(flows.LOAD_CAP_SECONDS))
        try:
            await asyncio.sleep(flows.BEFORE_SECONDS)
            revoked_before = await _revoked_grant(world, 0)
            stopping_at = time.monotonic()
            await asyncio.to_thread(redis.stop)
            down_at = time.monotonic()
            await asyncio.sleep(flows.OUTAGE_SECONDS)
            starting_at = time.monotonic()
            await asyncio.to_thread(redis.start)
            # The account page checks the session: both processes read Redis again.
            assert await flows.recovered(pair, *next(iter(world.sessions.items()))), (
                "the processes did not recover by themselves"
            )
            recovered_at = time.monotonic()
            revoked_after = await _revoked_grant(world, 1)
            await asyncio.sleep(flows.AFTER_SECONDS)
        finally:
            load.stop()
            await running

        # The verifier caught up with both revocations, over the restart.
        for token in (revoked_before, revoked_after):
            assert await eventually(functools.partial(_revoked, revocations, token))

    outcomes = load.outcomes
    summary = tally(outcomes)
    broken = flows.unanswered_or_broken(outcomes)
    assert not broken, (broken[:5], summary)
    assert all(map(_page_never_lies, outcomes)), summary

    before = load.ended_before(stopping_at)
    assert before
    assert all(o.succeeded for o in before), [o.describe() for o in before if not o.succeeded][:5]

    during = load.within(down_at, starting_at)
    assert {o.action for o in during} >= {"page", "login"}, tally(during)
    wrong = [o.describe() for o in during if not _failed_closed(o)]
    assert not wrong, (wrong[:5], tally(during))

    after = load.started_after(recovered_at)
    assert after
    assert all(o.succeeded for o in after), [o.describe() for o in after if not o.succeeded][:5]

    await _every_session_survived(world, load)
    await _every_chain_still_rotates(world)


async def _every_session_survived(world: World, load: Load) -> None:
    """Redis acknowledged every session it handed out (fsync always): all work, anywhere."""
    handed_out = dict(world.sessions)
    for o in load.outcomes:
        if o.action == "login" and o.status == 303:
            session, email = cast(tuple[str | None, str], o.value)
            assert session, o.describe()
            handed_out[session] = email
    assert len(handed_out) > USERS, "no login got through"
    for n, (session, email) in enumerate(handed_out.items()):
        page = await flows.account_page(world.pair.either(n), session)
        assert flows.shows_account(page, email), (page.status_code, page.text[:300])


async def _every_chain_still_rotates(world: World) -> None:
    for n, token in enumerate(world.chains):
        response = await flows.refresh(world.pair.either(n), world.app, token)
        assert response.status_code == 200, response.text[:300]


async def test_connections_pooled_before_a_restart_are_replaced_not_failed(
    tmp_path: Path,
) -> None:
    """redis-py's default maintenance-notification mode skipped the pool's check that a
    pooled connection is still open: after a restart, each connection idle in the pool
    failed its next command once, a 503 with Redis already back (redis_connect.py)."""
    with private_redis(tmp_path) as redis:
        client = open_redis(redis.url)
        try:
            await asyncio.gather(*(client.set(f"k{n}", "v") for n in range(4)))  # 4 pooled
            # In threads: the event loop runs meanwhile and sees the connections close,
            # as a serving process's loop does.
            await asyncio.to_thread(redis.stop)
            await asyncio.to_thread(redis.start)
            answers = await asyncio.gather(*(client.get(f"k{n}") for n in range(4)))
            assert answers == [b"v"] * 4  # and the AOF kept every acknowledged write
        finally:
            await client.aclose()
