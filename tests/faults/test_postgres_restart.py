"""PostgreSQL killed and started again under load, behind two `gatepass serve` processes
(SECURITY.md decision 3: a store that is down fails closed, 503 with Retry-After).

    workers ─► sign-ups, logins, page views, code flows, refreshes, client_credentials ─► A | B
                  │ 2 s           │ PostgreSQL stopped (-m immediate) 3 s │ started again
                  all succeed     503 / temporarily_unavailable, no 500   recovered by themselves

`-m immediate` ends every backend at once, as a crash does: transactions in flight are
lost or committed, never half-written, and the start replays the WAL. Afterwards nothing
is partial: every sign-up that was answered with success is a user who logs in, every
user row is whole, and every refresh-token family either rotates from the last token
its client received or was revoked as a whole.

The cluster is the test's own (tests/faults/stores.py); sessions and codes are on the
shared Redis under a scratch prefix.
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from gatepass.crypto.secrets import digest
from gatepass.errors import StoreUnavailable
from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.users import SqlUserStore
from tests.faults import flows
from tests.faults.flows import Pair, serve_pair
from tests.faults.load import Action, Answer, Load, Outcome, tally
from tests.faults.stores import PrivatePostgres, private_postgres
from tests.live_server import scratch_postgres_and_redis
from tests.oauth_client import App
from tests.support import REDIS_URL

USERS = 3
WORKERS = 4
OAUTH_ACTIONS = ("code", "refresh", "client_credentials")


@dataclass(frozen=True)
class Deployment:
    pair: Pair
    postgres: PrivatePostgres
    database_url: str


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """Two processes on a database in the test's own cluster, sessions on shared Redis."""
    with (
        private_postgres() as postgres,
        scratch_postgres_and_redis(postgres.admin_url, REDIS_URL) as stores,
        serve_pair(tmp_path, stores) as pair,
    ):
        try:
            yield Deployment(pair, postgres, stores["GATEPASS_DATABASE_URL"])
        finally:
            postgres.start_if_stopped()  # a failure mid-outage: the clean-up needs it back


@dataclass
class Chain:
    """One refresh-token family as its client saw it: every token received, in order."""

    tokens: list[str]
    dead: bool = False  # refused with invalid_grant: the family must be revoked whole


@dataclass
class World:
    pair: Pair
    app: App
    sessions: list[tuple[str, str]]  # (session, e-mail) of the users signed up before
    chains: dict[int, list[Chain]]  # per worker: the families it started, newest last
    picks: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))


async def _prepare(pair: Pair) -> World:
    # No HTTP path creates clients: the CLI does, while the users sign up.
    registering = asyncio.create_task(asyncio.to_thread(flows.register, pair.a))
    signing_up = (flows.signed_up(pair, n, "pg-fault") for n in range(USERS))
    sessions = list(await asyncio.gather(*signing_up))
    app = await registering
    world = World(pair, app, sessions, {w: [] for w in range(WORKERS)})
    for worker in range(WORKERS):
        answer = await _code_flow(world, worker)
        assert answer.response.status_code == 200, answer.response.text[:300]
    return world


async def _code_flow(world: World, worker: int) -> Answer:
    n = next(world.picks)
    session, _email = world.sessions[n % USERS]
    response = await flows.authorization_code(world.pair.either(n), session, world.app)
    if response.status_code == 200:
        world.chains[worker].append(Chain([response.json()["refresh_token"]]))
    return Answer(response)


def _actions(world: World) -> dict[str, Action]:
    pair, app = world.pair, world.app

    async def signup(_worker: int) -> Answer:
        n = next(world.picks)
        email = f"pg-load-{n}-{time.monotonic_ns()}@example.com"
        response = await flows.sign_up(pair.either(n), pair.issuer, email)
        return Answer(response, (email, flows.session_of(response)))

    async def login(_worker: int) -> Answer:
        n = next(world.picks)
        _session, email = world.sessions[n % USERS]
        response = await flows.log_in(pair.either(n), pair.issuer, email)
        return Answer(response, flows.session_of(response))

    async def page(_worker: int) -> Answer:
        n = next(world.picks)
        session, email = world.sessions[n % USERS]
        response = await flows.account_page(pair.either(n), session)
        return Answer(response, flows.shows_account(response, email))

    async def code(worker: int) -> Answer:
        return await _code_flow(world, worker)

    async def refresh(worker: int) -> Answer:
        live = [chain for chain in world.chains[worker] if not chain.dead]
        if not live:
            return await _code_flow(world, worker)
        chain = live[-1]
        response = await flows.refresh(pair.either(next(world.picks)), app, chain.tokens[-1])
        if response.status_code == 200:
            chain.tokens.append(response.json()["refresh_token"])
        elif response.status_code == 400 and response.json().get("error") == "invalid_grant":
            chain.dead = True
        return Answer(response)

    async def client_credentials(_worker: int) -> Answer:
        return Answer(await flows.client_credentials(pair.either(next(world.picks)), app))

    return {
        "signup": signup,
        "login": login,
        "page": page,
        "code": code,
        "refresh": refresh,
        "client_credentials": client_credentials,
    }


def _failed_closed(o: Outcome) -> bool:
    """What a request may answer while the database is down: a 503 (the token endpoint's
    with the RFC 6749 error `temporarily_unavailable`), or for client_credentials, whose
    client and keys a process may hold in memory, a token."""
    if o.action == "client_credentials" and o.status == 200:
        return True
    if o.status != 503:
        return False
    if o.action in OAUTH_ACTIONS and "application/json" in o.content_type:
        return '"temporarily_unavailable"' in o.body
    return True


def _fine_after_recovery(o: Outcome) -> bool:
    """Back up, everything succeeds; a refresh may find its family revoked (its client
    lost the answer to a rotation that committed, and reused the old token)."""
    return o.succeeded or (o.action == "refresh" and '"invalid_grant"' in o.body)


async def test_postgres_killed_mid_load_fails_closed_recovers_and_leaves_nothing_partial(
    deployment: Deployment,
) -> None:
    pair, postgres = deployment.pair, deployment.postgres
    world = await _prepare(pair)
    load = Load(
        _actions(world),
        weights={"signup": 2, "login": 1, "page": 2, "code": 1, "refresh": 3},
        workers=WORKERS,
        max_requests=flows.MAX_REQUESTS,
    )
    running = asyncio.create_task(load.run(flows.LOAD_CAP_SECONDS))
    try:
        await asyncio.sleep(flows.BEFORE_SECONDS)
        stopping_at = time.monotonic()
        await asyncio.to_thread(postgres.stop, "immediate")
        down_at = time.monotonic()
        await asyncio.sleep(flows.OUTAGE_SECONDS)
        starting_at = time.monotonic()
        await asyncio.to_thread(postgres.start)
        # The account page reads the database: both processes use it again.
        assert await flows.recovered(pair, *world.sessions[0]), (
            "the processes did not recover by themselves"
        )
        recovered_at = time.monotonic()
        await asyncio.sleep(flows.AFTER_SECONDS)
    finally:
        load.stop()
        await running

    outcomes = load.outcomes
    summary = tally(outcomes)
    broken = flows.unanswered_or_broken(outcomes)
    assert not broken, (broken[:5], summary)

    before = load.ended_before(stopping_at)
    assert before
    assert all(o.succeeded for o in before), [o.describe() for o in before if not o.succeeded]

    during = load.within(down_at, starting_at)
    assert {o.action for o in during} >= {"signup", "refresh"}, tally(during)
    wrong = [o.describe() for o in during if not _failed_closed(o)]
    assert not wrong, (wrong[:5], tally(during))

    after = load.started_after(recovered_at)
    assert after
    wrong = [o.describe() for o in after if not _fine_after_recovery(o)]
    assert not wrong, (wrong[:5], tally(after))

    await _every_answered_sign_up_is_a_user(world, load)
    await _every_user_row_is_whole(world, deployment.database_url)
    await _no_family_is_half_rotated(world, deployment.database_url)


async def _every_answered_sign_up_is_a_user(world: World, load: Load) -> None:
    signed_up = [o for o in load.outcomes if o.action == "signup" and o.status == 303]
    assert signed_up, "no sign-up got through"
    for n, o in enumerate(signed_up):
        email, session = cast(tuple[str, str | None], o.value)
        assert session, o.describe()
        page = await flows.account_page(world.pair.either(n), session)
        assert flows.shows_account(page, email), (page.status_code, page.text[:300])


async def _every_user_row_is_whole(world: World, database_url: str) -> None:
    """Each row, also of a sign-up whose answer was lost, has its every field and its
    password: the user logs in (the password is the one every sign-up here used)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT email, name, password_hash, created_at FROM users")
    finally:
        await conn.close()
    assert len(rows) > USERS
    for n, row in enumerate(rows):
        assert row["password_hash"].startswith("$argon2id$"), row["email"]
        assert row["created_at"] > 0, row["email"]
        logged_in = await flows.log_in(world.pair.either(n), world.pair.issuer, row["email"])
        assert logged_in.status_code == 303, (row["email"], logged_in.text[:300])
        assert flows.session_of(logged_in), row["email"]


async def _no_family_is_half_rotated(world: World, database_url: str) -> None:
    """The last token each client received rotates once, or its family was revoked whole:
    then none of the tokens the client ever received works."""
    chains = [chain for per_worker in world.chains.values() for chain in per_worker]
    revoked = await _revoked_families(database_url, chains)
    for n, chain in enumerate(chains):
        last = await flows.refresh(world.pair.either(n), world.app, chain.tokens[-1])
        if last.status_code == 200:
            assert not chain.dead
            continue
        assert last.json()["error"] == "invalid_grant", last.text[:300]
        assert digest(chain.tokens[-1]) in revoked, "refused, yet its family is not revoked"
        for token in chain.tokens[:-1]:
            again = await flows.refresh(world.pair.either(n), world.app, token)
            assert again.status_code == 400, again.text[:300]


async def _revoked_families(database_url: str, chains: list[Chain]) -> set[str]:
    """The digests of the last tokens whose family is marked revoked."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT t.digest FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id"
            " WHERE f.revoked_at IS NOT NULL AND t.digest = ANY($1::text[])",
            [digest(chain.tokens[-1]) for chain in chains],
        )
    finally:
        await conn.close()
    return {row["digest"] for row in rows}


async def test_a_database_that_cannot_take_a_connection_now_is_a_503_not_a_500() -> None:
    """While PostgreSQL starts or recovers from a crash it answers "the database system
    is not yet accepting connections" (SQLSTATE 57P03); asyncpg raises that, like every
    server-side refusal, as a plain DBAPI error, which gatepass rendered as a 500. A role
    at its connection limit (53300) is refused the same way, and deterministically."""
    with private_postgres() as cluster:
        admin = await asyncpg.connect(cluster.admin_url)
        try:
            await admin.execute("CREATE ROLE capped LOGIN CONNECTION LIMIT 0")
        finally:
            await admin.close()
        engine = create_engine(f"postgresql://capped@127.0.0.1:{cluster.port}/postgres")
        try:
            with pytest.raises(StoreUnavailable, match="too many connections"):
                await SqlUserStore(engine).get("anyone")
        finally:
            await engine.dispose()
