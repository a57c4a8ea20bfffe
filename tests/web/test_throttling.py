"""Login throttling per account and per client address (ASVS 6.3.1, 4.1.3; NIST 800-63B 5.2.2)."""

import asyncio
from collections import Counter
from collections.abc import Callable

import httpx

from gatepass.audit.model import AuditEventType
from gatepass.config import Settings
from tests.support import PASSWORD, csrf_of, log_in
from tests.web.conftest import SESSION, AppClient, Cores, log_out, sign_up_as

LIMIT = 3
WRONG = "not the password at all"


def _assert_throttled(response: httpx.Response, window_seconds: int) -> None:
    assert response.status_code == 429, response.status_code
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window_seconds + 1
    assert "Too many attempts" in response.text
    assert SESSION not in response.headers.get("set-cookie", "")


async def test_account_is_throttled_after_the_limit_even_with_the_right_password__asvs_6_3_1(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    settings = make_settings(login_account_limit=LIMIT)
    # Two app instances on the same storage stand in for two worker processes.
    async with (
        app_client(settings) as client,
        app_client(settings) as worker,
        app_client(settings, address="198.51.100.9") as far,
    ):
        await sign_up_as(client, "ada@example.com")
        await log_out(client)
        # Neither spelling the address differently nor another worker buys more guesses.
        for process, spelling in (
            (client, "ada@example.com"),
            (worker, "ADA@example.com"),
            (client, " Ada@Example.COM "),
        ):
            assert (await log_in(process, spelling, WRONG)).status_code == 200
        _assert_throttled(await log_in(client, "ada@example.com", WRONG), 900)
        _assert_throttled(await log_in(client, "ada@example.com", PASSWORD), 900)
        # Per account: another address does not get more guesses at the same account.
        _assert_throttled(await log_in(far, "ada@example.com", WRONG), 900)
    kinds = Counter(e.type for e in await services.audit.recent())
    assert kinds[AuditEventType.LOGIN_FAILED] == LIMIT
    assert kinds[AuditEventType.LOGIN_THROTTLED] == 3


async def test_address_is_throttled_across_many_accounts__asvs_6_3_1_credential_stuffing(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    settings = make_settings(login_address_limit=LIMIT)
    async with app_client(settings) as client, app_client(settings, address="198.51.100.9") as far:
        for n in range(LIMIT):
            assert (await log_in(client, f"user{n}@example.com", WRONG)).status_code == 200
        _assert_throttled(await log_in(client, "someone.else@example.com", WRONG), 900)
        # Another address is not locked out by this one.
        assert (await log_in(far, "someone.else@example.com", WRONG)).status_code == 200


async def test_ipv6_clients_are_throttled_per_64_network__asvs_6_3_1(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    # One host owns a whole /64: hopping between its addresses is one client.
    settings = make_settings(login_address_limit=LIMIT)
    statuses = []
    for n in range(LIMIT + 1):
        async with app_client(settings, address=f"2001:db8:1:2::{n + 1:x}") as client:
            statuses.append((await log_in(client, f"user{n}@example.com", WRONG)).status_code)
    async with app_client(settings, address="2001:db8:1:3::1") as neighbour:
        statuses.append((await log_in(neighbour, "user9@example.com", WRONG)).status_code)
    assert statuses == [200] * LIMIT + [429, 200]


async def test_spoofed_x_forwarded_for_does_not_reset_the_counters__asvs_4_1_3(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    settings = make_settings(login_address_limit=LIMIT)
    async with app_client(settings) as client:
        token = csrf_of((await client.get("/login")).text)
        statuses = []
        for n in range(LIMIT + 2):
            response = await client.post(
                "/login",
                data={"csrf_token": token, "email": f"user{n}@example.com", "password": WRONG},
                headers={"x-forwarded-for": f"203.0.113.{n}", "x-real-ip": f"203.0.113.{n}"},
            )
            statuses.append(response.status_code)
    assert statuses == [200] * LIMIT + [429, 429]
    addresses = {e.address for e in await services.audit.recent()}
    assert addresses == {"127.0.0.1"}


async def test_behind_a_trusted_proxy_only_the_hop_it_appended_counts__asvs_4_1_3(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    settings = make_settings(login_address_limit=LIMIT, trusted_proxies=("127.0.0.1",))
    async with app_client(settings) as proxy:
        token = csrf_of((await proxy.get("/login")).text)
        statuses = []
        for n in range(LIMIT + 1):
            # The client forged the first hop; the proxy appended the address it saw.
            forwarded = f"203.0.113.{n}, 198.51.100.50"
            response = await proxy.post(
                "/login",
                data={"csrf_token": token, "email": f"user{n}@example.com", "password": WRONG},
                headers={"x-forwarded-for": forwarded},
            )
            statuses.append(response.status_code)
    assert statuses == [200] * LIMIT + [429]
    assert {e.address for e in await services.audit.recent()} == {"198.51.100.50"}


async def test_fifty_parallel_wrong_attempts_let_no_more_than_the_limit_through__au_16(
    make_settings: Callable[..., Settings], app_client: AppClient, services: Cores
) -> None:
    settings = make_settings(login_account_limit=LIMIT)
    async with app_client(settings) as client:
        await sign_up_as(client, "ada@example.com")
        await log_out(client)
        token = csrf_of((await client.get("/login")).text)
        form = {"csrf_token": token, "email": "ada@example.com", "password": WRONG}
        responses = await asyncio.gather(*(client.post("/login", data=form) for _ in range(50)))
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {200: LIMIT, 429: 50 - LIMIT}
        # The real password gets no extra attempt either.
        _assert_throttled(await log_in(client, "ada@example.com", PASSWORD), 900)
    kinds = Counter(e.type for e in await services.audit.recent())
    assert kinds[AuditEventType.LOGIN_FAILED] == LIMIT


async def test_the_lock_lifts_one_window_after_the_attempts_stop__asvs_6_1_1(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    window = 2
    settings = make_settings(login_account_limit=LIMIT, login_window_seconds=window)
    async with app_client(settings) as client:
        await sign_up_as(client, "ada@example.com")
        await log_out(client)
        for _ in range(LIMIT):
            await log_in(client, "ada@example.com", WRONG)
        locked = await log_in(client, "ada@example.com", PASSWORD)
        _assert_throttled(locked, window)
        await asyncio.sleep(int(locked.headers["retry-after"]) + 0.2)
        assert (await log_in(client, "ada@example.com", PASSWORD)).status_code == 303
