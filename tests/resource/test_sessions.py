"""SessionVerifier (resource/sessions.py) on sessions the real server created, per backend.

The server and the verifier share one FixedClock, so idle and absolute ends are reached by
moving it, not by sleeping. On Redis the idle expiry is the key's real TTL, which the clock
cannot move: there the slide is checked on the TTL itself.
"""

import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest, new_secret
from gatepass.errors import ConfigError
from gatepass.resource.sessions import (
    SessionRejected,
    SessionStoreUnavailable,
    SessionVerifier,
    VerifiedSession,
)
from gatepass.storage.backends import Backends
from tests.support import web_client
from tests.web.conftest import is_signed_in, log_out, sign_up_as

IDLE, ABSOLUTE = 600, 3600
CLOSED_PORT = 9  # discard: nothing listens there on the test machine


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, session_idle_ttl=IDLE, session_absolute_ttl=ABSOLUTE)


@pytest.fixture
async def browser(
    settings: Settings, backends: Backends, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(settings, backends, clock=clock) as client:
        yield client


def verifier_for(settings: Settings, clock: FixedClock, **overrides: object) -> SessionVerifier:
    """Configured from the server's own settings, as the docs say to."""
    options: dict[str, object] = {
        "issuer": settings.issuer,
        "database_url": settings.database_url,
        "redis_url": settings.redis_url,
        "redis_prefix": settings.redis_prefix,
        "idle_ttl": settings.session_idle_ttl,
        "clock": clock,
    }
    return SessionVerifier(**(options | overrides))  # type: ignore[arg-type]


@pytest.fixture
async def verifier(
    settings: Settings, backends: Backends, clock: FixedClock
) -> AsyncIterator[SessionVerifier]:
    """On the backends the server uses (migrated, wiped after the test)."""
    async with verifier_for(settings, clock) as opened:
        yield opened


async def user_id_of(backends: Backends, email: str) -> str:
    user = await backends.users.find_by_email(email)
    assert user is not None
    return user.id


async def test_a_cookie_from_a_server_login_verifies_as_that_users_session(
    browser: httpx.AsyncClient, verifier: SessionVerifier, backends: Backends, clock: FixedClock
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    clock.advance(30)
    session = await verifier.verify(secret)
    assert session == VerifiedSession(
        user_id=await user_id_of(backends, "ada@example.com"),
        session_id=digest(secret),
        created_at=session.created_at,
        expires_at=clock.now() + IDLE,
    )
    # Redis keeps whole seconds; a login is never dated after it happened.
    assert clock.now() - 31 <= session.created_at <= clock.now() - 30


async def test_verify_cookies_reads_gp_session_on_an_http_loopback_issuer(
    browser: httpx.AsyncClient, verifier: SessionVerifier
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    assert verifier.cookie_name == "gp_session"
    session = await verifier.verify_cookies({"gp_csrf": "x", "gp_session": secret})
    assert session.session_id == digest(secret)
    with pytest.raises(SessionRejected):
        await verifier.verify_cookies({"__Host-gp_session": secret})


async def test_an_https_issuer_means_the_host_prefixed_cookie(
    settings: Settings, clock: FixedClock
) -> None:
    https = replace(settings, issuer="https://id.example.com")
    async with verifier_for(https, clock) as verifier:
        assert verifier.cookie_name == "__Host-gp_session"


@pytest.mark.parametrize(
    "cookie",
    [None, "", "short", "x" * 43 + "!", "é" * 43, new_secret()],
    ids=["absent", "empty", "malformed", "bad-alphabet", "non-ascii", "well-formed-but-unknown"],
)
async def test_no_malformed_or_unknown_cookie_is_a_session(
    verifier: SessionVerifier, cookie: str | None
) -> None:
    with pytest.raises(SessionRejected) as refused:
        await verifier.verify(cookie)
    status, headers, body = refused.value.challenge("orders")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Cookie realm="orders", cookie-name="gp_session"'
    assert headers["Cache-Control"] == "no-store"
    assert body == {"error": "login_required"}


async def test_a_session_logged_out_at_the_server_is_refused(
    browser: httpx.AsyncClient, verifier: SessionVerifier
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    assert (await verifier.verify(secret)).session_id == digest(secret)
    await log_out(browser)
    with pytest.raises(SessionRejected):
        await verifier.verify(secret)


async def test_verifying_slides_the_idle_expiry_as_a_server_request_does(
    settings: Settings,
    browser: httpx.AsyncClient,
    verifier: SessionVerifier,
    backends: Backends,
    clock: FixedClock,
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    if backends.redis is not None:
        key = f"{settings.redis_prefix}s:{digest(secret)}"
        await backends.redis.expire(key, 5)  # as if nearly idle
        await verifier.verify(secret)
        # GETEX EX idle, as RedisSessionStore.touch: the TTL is back to the whole idle time.
        assert IDLE * 1000 - 5000 < await backends.redis.pttl(key) <= IDLE * 1000
        return
    # Requests only here, each within the idle time of the last, keep it alive...
    for _ in range(3):
        clock.advance(IDLE - 10)
        assert (await verifier.verify(secret)).expires_at == clock.now() + IDLE
    # ...and the server sees the activity: its own idle clock was pushed too.
    clock.advance(IDLE - 10)
    assert await is_signed_in(browser)
    clock.advance(IDLE + 1)
    with pytest.raises(SessionRejected):
        await verifier.verify(secret)
    assert not await is_signed_in(browser)


async def test_the_absolute_end_refuses_and_deletes_the_session_as_the_server_does(
    settings: Settings,
    browser: httpx.AsyncClient,
    verifier: SessionVerifier,
    backends: Backends,
    clock: FixedClock,
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    user_id = await user_id_of(backends, "ada@example.com")
    # Active to the end: the idle expiry never bounds it past the absolute end.
    while clock.now() + IDLE < (await verifier.verify(secret)).created_at + ABSOLUTE:
        clock.advance(IDLE - 1)
    last = await verifier.verify(secret)
    assert last.expires_at == last.created_at + ABSOLUTE
    clock.advance(last.expires_at - clock.now())
    with pytest.raises(SessionRejected):
        await verifier.verify(secret)
    assert await backends.sessions.list_for_user(user_id, clock.now(), IDLE) == []
    if backends.redis is not None:
        assert not await backends.redis.exists(f"{settings.redis_prefix}s:{digest(secret)}")


async def test_a_stricter_absolute_ttl_refuses_here_but_leaves_the_session_to_the_server(
    settings: Settings, browser: httpx.AsyncClient, clock: FixedClock
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    async with verifier_for(settings, clock, absolute_ttl=300) as strict:
        assert (await strict.verify(secret)).expires_at <= clock.now() + 300
        clock.advance(301)
        with pytest.raises(SessionRejected):
            await strict.verify(secret)
    assert await is_signed_in(browser)


async def test_log_out_everywhere_at_the_server_is_refused_here(
    browser: httpx.AsyncClient, verifier: SessionVerifier, backends: Backends
) -> None:
    secret = await sign_up_as(browser, "ada@example.com")
    user_id = await user_id_of(backends, "ada@example.com")
    assert await backends.sessions.delete_for_user(user_id) == 1
    with pytest.raises(SessionRejected):
        await verifier.verify(secret)


async def test_a_store_that_cannot_answer_fails_closed_with_503(
    settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    if backends.redis is not None:
        down = {"redis_url": f"redis://127.0.0.1:{CLOSED_PORT}/0"}
    elif settings.database_url.startswith("postgresql"):
        down = {"database_url": f"postgresql://postgres@127.0.0.1:{CLOSED_PORT}/none"}
    else:  # a SQLite file without gatepass's tables is no session store either
        down = {"database_url": settings.database_url.replace("test.db", "empty.db")}
    async with verifier_for(settings, clock, **down) as verifier:
        with pytest.raises(SessionStoreUnavailable) as refused:
            await verifier.verify(new_secret())
    status, headers, body = refused.value.challenge()
    assert (status, headers["Retry-After"], body["error"]) == (503, "5", "temporarily_unavailable")


@pytest.mark.parametrize(
    "options",
    [
        {"issuer": "http://127.0.0.1:8000"},
        {"issuer": "ftp://id.example.com", "database_url": "sqlite:///x.db"},
        {"issuer": "http://127.0.0.1:8000", "database_url": "mysql://db/x"},
        {"issuer": "http://127.0.0.1:8000", "database_url": "sqlite:///x.db", "idle_ttl": 0},
    ],
    ids=["no-store", "not-http", "unsupported-database", "zero-idle"],
)
def test_a_misconfiguration_fails_at_construction_with_one_line(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as failed:
        SessionVerifier(**options)  # type: ignore[arg-type]
    assert "\n" not in str(failed.value)


def test_importing_the_toolkit_loads_sqlalchemy_only_for_a_sql_session_verifier() -> None:
    """An API that verifies tokens (or reads sessions from Redis) never pays SQLAlchemy's
    import; a SessionVerifier given a database_url loads it then."""
    code = (
        "import sys\n"
        "import gatepass.resource as r\n"
        "print('sqlalchemy' in sys.modules)\n"
        "r.SessionVerifier(issuer='http://127.0.0.1:8000', redis_url='redis://127.0.0.1:6379/0')\n"
        "print('sqlalchemy' in sys.modules)\n"
        "r.SessionVerifier(issuer='http://127.0.0.1:8000', database_url='sqlite:///x.db')\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "False", "True"]
