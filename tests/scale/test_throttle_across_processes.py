"""Login throttling holds across processes (ASVS 6.3.1, NIST 800-63B §5.2.2): three
`gatepass serve` processes share one throttle counter per account in Redis, so a burst of
wrong passwords spread over them gets no more password checks than one process would.

    50 x POST /login (one account, wrong password), at once, round robin over A, B, C
        ─► exactly LIMIT judged (200, "Incorrect ..."), the rest 429 with Retry-After
    the right password, at A, B and C ─► 429 until the window passes

(tests/web/test_throttling.py has the in-process version, and the lock lifting after the
window, which here would mean waiting out a window long enough to hold the burst.)
"""

import asyncio
import json
from collections import Counter

import httpx

from tests.scale.processes import (
    LOGIN_ACCOUNT_LIMIT,
    LOGIN_WINDOW_SECONDS,
    Processes,
    browser,
    new_email,
)
from tests.support import csrf_of

LIMIT = LOGIN_ACCOUNT_LIMIT
WINDOW_SECONDS = LOGIN_WINDOW_SECONDS
BURST = 50
WRONG = "not the password at all"
JUDGED = "Incorrect e-mail address or password."
THROTTLED = "Too many attempts"


def assert_throttled(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.status_code
    assert THROTTLED in answer.text
    assert 1 <= int(answer.headers["retry-after"]) <= WINDOW_SECONDS + 1
    assert "gp_session" not in answer.headers.get("set-cookie", "")


async def test_a_burst_of_wrong_passwords_over_three_processes_gets_only_the_limit_checked(
    three: Processes,
) -> None:
    email = new_email()
    async with browser(three) as owner:
        await owner.sign_up(three.servers[0], email)
    async with browser(three) as attacker:
        token = csrf_of((await attacker.get(three.servers[0], "/login")).text)
        form = {"csrf_token": token, "email": email, "password": WRONG}
        answers = await asyncio.gather(
            *(
                attacker.http.post(
                    three.servers[n % 3].url + "/login", data=form, headers={"Origin": three.issuer}
                )
                for n in range(BURST)
            )
        )
    assert Counter(a.status_code for a in answers) == {200: LIMIT, 429: BURST - LIMIT}
    for answer in answers:
        if answer.status_code == 200:
            assert JUDGED in answer.text
        else:
            assert_throttled(answer)

    # Even the right password is refused now, at every process, until the window passes.
    async with browser(three) as owner:
        for server in three.servers:
            assert_throttled(await owner.log_in(server, email))

    # The audit log, written by all three, agrees: LIMIT password checks, no login.
    events = json.loads(three.servers[1].cli("audit", "list", "--json", "--limit", "1000"))
    kinds = Counter(event["type"] for event in events if event["email"] == email)
    assert kinds["login.failed"] == LIMIT
    assert kinds["login.throttled"] == BURST - LIMIT + len(three.servers)
    assert kinds["login.succeeded"] == 0


async def test_a_login_on_one_process_clears_the_count_for_every_process(
    three: Processes,
) -> None:
    a, b, c = three.servers
    email = new_email()
    async with browser(three) as someone:
        await someone.sign_up(a, email)
        assert (await someone.submit(b, "/logout", {}, page="/account")).status_code == 303
        for server in [(a, c)[n % 2] for n in range(LIMIT - 1)]:
            assert JUDGED in (await someone.log_in(server, email, WRONG)).text
        # One short of the limit, counted on two processes: the right password, on a third,
        # signs in, and the success clears the account's count everywhere.
        assert (await someone.log_in(b, email)).status_code == 303
        assert (await someone.submit(b, "/logout", {}, page="/account")).status_code == 303
        for server in [(c, a)[n % 2] for n in range(LIMIT)]:
            assert JUDGED in (await someone.log_in(server, email, WRONG)).text
        assert_throttled(await someone.log_in(b, email))
