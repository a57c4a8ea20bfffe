"""`gatepass serve` as a new user runs it: an empty directory, real HTTP on 127.0.0.1.

Each server starts in its own empty directory with `GATEPASS_ISSUER` set to its
address (so the form's Origin matches) and is always stopped at teardown. The tests
of the default configuration share one server, each with its own e-mail addresses.
"""

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx
import pytest
from alembic.script import ScriptDirectory
from redis import Redis

from gatepass.crypto.secrets import digest
from gatepass.storage.sql.migrate import alembic_config
from tests.cli.conftest import (
    SERVER_START_TIMEOUT_SECONDS,
    Server,
    csrf_of,
    log_in_over_http,
    serving,
    sign_up_over_http,
)
from tests.support import REDIS_URL

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
SESSION_COOKIE = "gp_session"  # plain-http loopback issuer: no __Host- prefix


def log_out_over_http(http: httpx.Client) -> httpx.Response:
    page = http.get("/account")
    assert page.status_code == 200
    return http.post("/logout", data={"csrf_token": csrf_of(page.text)})


def sessions_in_sqlite(server: Server, email: str) -> int:
    with closing(sqlite3.connect(server.cwd / "gatepass.db")) as db:
        query = "SELECT count(*) FROM sessions JOIN users ON users.id = user_id WHERE email = ?"
        count: int = db.execute(query, (email,)).fetchone()[0]
        return count


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server on the defaults: SQLite in its working directory, sessions in SQL."""
    with serving(tmp_path_factory.mktemp("serve") / "empty") as running:
        yield running


def test_serve_creates_and_migrates_the_sqlite_file_on_first_start(server: Server) -> None:
    assert sorted(p.name for p in server.cwd.iterdir() if p.suffix == ".db") == ["gatepass.db"]
    with closing(sqlite3.connect(server.cwd / "gatepass.db")) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    with server.client() as http:
        ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert "plain http" in server.log  # the start-up warning about cookies without Secure


def test_a_visitor_signs_up_logs_out_logs_in_and_sees_the_account(server: Server) -> None:
    with server.client() as browser:
        signed_up = sign_up_over_http(browser, "ada@example.com")
        assert signed_up.status_code == 303
        assert signed_up.headers["location"] == "/account"
        assert browser.cookies.get(SESSION_COOKIE)
        account = browser.get("/account")
        assert account.status_code == 200
        assert "ada@example.com" in account.text
        assert log_out_over_http(browser).status_code == 303
        assert browser.get("/account").headers["location"].startswith("/login")

    with server.client() as other_browser:
        logged_in = log_in_over_http(other_browser, "ada@example.com")
        assert logged_in.status_code == 303
        account = other_browser.get("/account")
        assert account.status_code == 200
        assert "ada@example.com" in account.text
    assert sessions_in_sqlite(server, "ada@example.com") == 1


def test_a_form_from_another_origin_is_refused_by_the_live_server(server: Server) -> None:
    with server.client() as browser:
        page = browser.get("/signup")
        response = browser.post(
            "/signup",
            headers={"Origin": "http://evil.example"},
            data={
                "csrf_token": csrf_of(page.text),
                "email": "eve@example.com",
                "password": "correct horse battery staple",
            },
        )
    assert response.status_code == 403
    assert "Traceback" not in response.text
    with closing(sqlite3.connect(server.cwd / "gatepass.db")) as db:
        query = "SELECT count(*) FROM users WHERE email = 'eve@example.com'"
        assert db.execute(query).fetchone()[0] == 0


def wait_for_log(server: Server, line: str, *, times: int) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while server.log.count(line) < times:
        assert time.monotonic() < deadline, f"{line!r} not seen {times} times:\n{server.log}"
        assert server.process.poll() is None, server.log
        time.sleep(0.1)


def _account_status(base_url: str, secret: str) -> int:
    """One request on a fresh connection, so any worker may answer it."""
    response = httpx.get(
        f"{base_url}/account",
        cookies={SESSION_COOKIE: secret},
        headers={"Connection": "close"},
        timeout=10,
    )
    return response.status_code


def test_two_workers_share_sessions_and_logouts(start_server: Callable[..., Server]) -> None:
    server = start_server("--workers", "2")
    # /healthz answered once one worker was up; wait (bounded) for the second one too.
    wait_for_log(server, "Application startup complete.", times=2)
    with server.client() as browser:
        assert sign_up_over_http(browser, "ada@example.com").status_code == 303
        assert log_out_over_http(browser).status_code == 303
        assert log_in_over_http(browser, "ada@example.com").status_code == 303
        secret = browser.cookies[SESSION_COOKIE]

        with ThreadPoolExecutor(max_workers=8) as pool:
            signed_in = list(
                pool.map(lambda _: _account_status(server.base_url, secret), range(40))
            )
        assert signed_in == [200] * 40

        assert log_out_over_http(browser).status_code == 303
        with ThreadPoolExecutor(max_workers=8) as pool:
            after = list(pool.map(lambda _: _account_status(server.base_url, secret), range(20)))
        assert after == [303] * 20


@pytest.fixture
def live_redis_prefix(redis_prefix: str) -> Iterator[str]:
    """A prefix for a live server's Redis keys, deleted after the test."""
    yield redis_prefix
    with closing(Redis.from_url(REDIS_URL)) as client:
        keys = list(client.scan_iter(match=f"{redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)


def test_serve_keeps_sessions_in_redis_when_redis_url_is_set(
    live_redis_prefix: str, start_server: Callable[..., Server]
) -> None:
    server = start_server(GATEPASS_REDIS_URL=REDIS_URL, GATEPASS_REDIS_PREFIX=live_redis_prefix)
    with server.client() as browser, closing(Redis.from_url(REDIS_URL)) as redis:
        ready = browser.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        assert sign_up_over_http(browser, "ada@example.com").status_code == 303
        assert browser.get("/account").status_code == 200
        session_key = f"{live_redis_prefix}s:{digest(browser.cookies[SESSION_COOKIE])}"
        assert redis.exists(session_key) == 1
        assert sessions_in_sqlite(server, "ada@example.com") == 0
        assert log_out_over_http(browser).status_code == 303
        assert redis.exists(session_key) == 0
        assert browser.get("/account").status_code == 303
