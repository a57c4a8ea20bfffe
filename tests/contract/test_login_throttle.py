"""LoginThrottle (throttle/limiter.py) on every backend, with a fixed clock.

The Redis store scores attempts with the `now` it is handed, so the FixedClock
moves its windows exactly as it moves the SQL ones.
"""

import pytest

from gatepass.clock import FixedClock
from gatepass.storage.backends import Backends
from gatepass.throttle.limiter import (
    UNDER_LIMIT_TRUST_SECONDS,
    LoginThrottle,
    Throttled,
    ThrottleLimits,
)

WINDOW = 900
ADA, GRACE = "ada@example.com", "grace@example.com"
HOME, CAFE = "192.0.2.1", "198.51.100.2"


@pytest.fixture
def throttle(backends: Backends, clock: FixedClock) -> LoginThrottle:
    return LoginThrottle(backends.throttle, ThrottleLimits(3, 5, WINDOW), clock)


async def attempts(
    throttle: LoginThrottle, n: int, account: str = ADA, address: str = HOME
) -> None:
    for _ in range(n):
        await throttle.check("login", account, address)


async def test_attempts_up_to_the_account_limit_pass(throttle: LoginThrottle) -> None:
    await attempts(throttle, 3)


async def test_one_attempt_over_the_account_limit_is_throttled__nist_800_63b_5_2_2(
    throttle: LoginThrottle,
) -> None:
    await attempts(throttle, 3)
    with pytest.raises(Throttled) as raised:
        await throttle.check("login", ADA, CAFE)
    assert 1 <= raised.value.retry_after_seconds <= WINDOW + 1


async def test_one_attempt_over_the_address_limit_is_throttled__asvs_6_3_1(
    throttle: LoginThrottle,
) -> None:
    for n in range(5):
        await throttle.check("login", f"user{n}@example.com", HOME)
    with pytest.raises(Throttled) as raised:
        await throttle.check("login", GRACE, HOME)
    assert raised.value.retry_after_seconds >= 1


async def test_other_accounts_and_addresses_are_not_throttled_with_it(
    throttle: LoginThrottle,
) -> None:
    await attempts(throttle, 3)
    with pytest.raises(Throttled):
        await throttle.check("login", ADA, HOME)
    await throttle.check("login", GRACE, CAFE)


async def test_scopes_are_throttled_apart(throttle: LoginThrottle) -> None:
    await attempts(throttle, 3)
    await throttle.check("signup", ADA, HOME)


async def test_success_clears_the_account_count(throttle: LoginThrottle) -> None:
    await attempts(throttle, 3)
    await throttle.succeeded("login", ADA)
    await attempts(throttle, 2, address=CAFE)  # three more in all would be over without it
    await throttle.check("login", ADA, CAFE)


async def test_success_does_not_clear_the_address_count(throttle: LoginThrottle) -> None:
    for n in range(5):
        await throttle.check("login", f"user{n}@example.com", HOME)
        await throttle.succeeded("login", f"user{n}@example.com")
    with pytest.raises(Throttled):
        await throttle.check("login", GRACE, HOME)


async def test_the_lock_lifts_one_window_after_the_attempts_stop(
    throttle: LoginThrottle, clock: FixedClock
) -> None:
    await attempts(throttle, 3)
    for _ in range(10):
        clock.advance(1)
        with pytest.raises(Throttled):
            await throttle.check("login", ADA, CAFE)
    clock.advance(WINDOW)
    await throttle.check("login", ADA, CAFE)


async def test_the_window_slides_rather_than_resetting(
    throttle: LoginThrottle, clock: FixedClock
) -> None:
    for _ in range(3):
        await throttle.check("login", ADA, HOME)
        clock.advance(300)
    # 900 s after the first attempt: it has slid out, the other two are still in.
    await throttle.check("login", ADA, HOME)
    with pytest.raises(Throttled):
        await throttle.check("login", ADA, HOME)


async def test_an_attempt_after_the_advertised_wait_is_allowed(
    throttle: LoginThrottle, clock: FixedClock
) -> None:
    for _ in range(3):
        await throttle.check("login", ADA, HOME)
        clock.advance(10)
    with pytest.raises(Throttled) as raised:
        await throttle.check("login", ADA, HOME)
    clock.advance(raised.value.retry_after_seconds)
    await throttle.check("login", ADA, HOME)


async def test_an_attempt_before_the_advertised_wait_is_still_throttled(
    throttle: LoginThrottle, clock: FixedClock
) -> None:
    for _ in range(3):
        await throttle.check("login", ADA, HOME)
        clock.advance(10)
    with pytest.raises(Throttled) as raised:
        await throttle.check("login", ADA, HOME)
    clock.advance(raised.value.retry_after_seconds - 2)
    with pytest.raises(Throttled):
        await throttle.check("login", ADA, HOME)


async def test_an_under_the_limit_verdict_is_trusted_for_a_second_in_this_process(
    backends: Backends, clock: FixedClock
) -> None:
    """The token endpoint's peek (refuse_if_over) is asked of the store at most once a
    second per client and address; failures elsewhere count here after that second, a
    failure here at once."""
    limits = ThrottleLimits(3, 5, WINDOW)
    here, elsewhere = (LoginThrottle(backends.throttle, limits, clock) for _ in range(2))
    await here.refuse_if_over("client", ADA, HOME)
    for _ in range(3):  # another process records the failures that reach the limit
        await elsewhere.failed("client", ADA, HOME)
    await here.refuse_if_over("client", ADA, HOME)  # within the second: trusted
    clock.advance(UNDER_LIMIT_TRUST_SECONDS)
    with pytest.raises(Throttled):
        await here.refuse_if_over("client", ADA, HOME)


async def test_a_failure_in_this_process_drops_its_trusted_verdict_at_once(
    throttle: LoginThrottle,
) -> None:
    here = throttle
    await here.refuse_if_over("client", GRACE, CAFE)
    for _ in range(3):
        await here.failed("client", GRACE, CAFE)
    with pytest.raises(Throttled):
        await here.refuse_if_over("client", GRACE, CAFE)
