"""Password hashing (crypto/passwords.py): argon2id at OWASP parameters or above."""

import asyncio
import os
import re
import sys
import threading
import unicodedata

import pytest

from gatepass.config import Settings
from gatepass.crypto.passwords import HASHING_NICENESS, Argon2Parameters, PasswordHasher

OWASP = Argon2Parameters(memory_kib=19456, time_cost=2, parallelism=1)
PASSWORD = "correct horse battery staple"
_PARAMS = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    defaults = Settings()
    return PasswordHasher(
        Argon2Parameters(
            defaults.argon2_memory_kib, defaults.argon2_time_cost, defaults.argon2_parallelism
        )
    )


@pytest.fixture(scope="module")
def stored(hasher: PasswordHasher) -> str:
    return hasher.hash_sync(PASSWORD)


def test_the_default_hash_is_argon2id_with_owasp_parameters__owasp_password_storage(
    stored: str,
) -> None:
    match = _PARAMS.match(stored)
    assert match is not None, stored
    memory, time_cost, parallelism = map(int, match.groups())
    assert memory >= 19456
    assert time_cost >= 2
    assert parallelism >= 1


def test_the_hash_never_contains_the_password(stored: str) -> None:
    assert PASSWORD not in stored


def test_the_same_password_hashes_differently_each_time(hasher: PasswordHasher) -> None:
    assert hasher.hash_sync(PASSWORD) != hasher.hash_sync(PASSWORD)


def test_the_right_password_verifies(hasher: PasswordHasher, stored: str) -> None:
    assert hasher.verify_sync(stored, PASSWORD) is True


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(PASSWORD.swapcase(), id="the case-swapped password fails"),
        pytest.param(PASSWORD.capitalize(), id="one capital letter more fails"),
        pytest.param(PASSWORD + " ", id="a trailing space fails"),
        pytest.param(PASSWORD[:-1], id="one character short fails"),
        pytest.param("", id="an empty password fails"),
    ],
)
def test_a_near_miss_fails(hasher: PasswordHasher, stored: str, attempt: str) -> None:
    assert hasher.verify_sync(stored, attempt) is False


def test_all_of_a_long_password_counts_not_just_the_first_72_bytes(
    hasher: PasswordHasher,
) -> None:
    long = "".join(chr(ord("a") + i % 26) for i in range(100))
    long_hash = hasher.hash_sync(long)
    assert hasher.verify_sync(long_hash, long) is True
    assert hasher.verify_sync(long_hash, long[:72]) is False


def test_a_password_set_as_nfc_verifies_when_typed_as_nfd__nist_800_63b_5_1_1_2(
    hasher: PasswordHasher,
) -> None:
    password = "crème brûlée à la café"
    nfc, nfd = unicodedata.normalize("NFC", password), unicodedata.normalize("NFD", password)
    assert nfc != nfd
    assert hasher.verify_sync(hasher.hash_sync(nfc), nfd) is True
    assert hasher.verify_sync(hasher.hash_sync(nfd), nfc) is True


def test_verify_with_no_hash_is_false_even_for_the_dummy_password(
    hasher: PasswordHasher,
) -> None:
    assert hasher.verify_sync(None, PASSWORD) is False
    assert hasher.verify_sync(None, "gatepass dummy password") is False


@pytest.mark.parametrize(
    "bad_hash",
    [
        pytest.param("", id="an empty hash"),
        pytest.param("not a hash", id="a hash in no known format"),
        pytest.param("$2b$12$" + "a" * 53, id="a bcrypt hash"),
    ],
)
def test_verify_against_a_malformed_hash_is_false(hasher: PasswordHasher, bad_hash: str) -> None:
    assert hasher.verify_sync(bad_hash, PASSWORD) is False


def test_needs_rehash_is_false_for_current_parameters(hasher: PasswordHasher, stored: str) -> None:
    assert hasher.needs_rehash(stored) is False


@pytest.mark.parametrize(
    "grown",
    [
        pytest.param(Argon2Parameters(2 * 19456, 2, 1), id="when memory grows"),
        pytest.param(Argon2Parameters(19456, 3, 1), id="when iterations grow"),
        pytest.param(Argon2Parameters(19456, 2, 2), id="when lanes grow"),
    ],
)
def test_needs_rehash_is_true_when_parameters_grow(stored: str, grown: Argon2Parameters) -> None:
    assert PasswordHasher(grown).needs_rehash(stored) is True


def test_needs_rehash_is_true_for_a_malformed_hash(hasher: PasswordHasher) -> None:
    assert hasher.needs_rehash("not a hash") is True


async def test_the_async_recipes_hash_and_verify_off_the_event_loop(
    hasher: PasswordHasher,
) -> None:
    password_hash = await hasher.hash(PASSWORD)
    assert await hasher.verify(password_hash, PASSWORD) is True
    assert await hasher.verify(password_hash, PASSWORD.upper()) is False


async def test_hashes_run_on_one_thread_per_core_at_most(stored: str) -> None:
    """A burst of logins queues for the cores (crypto/passwords.py `_hashing_threads`)
    rather than sharing them, and leaves asyncio's default executor alone."""
    seen: list[str] = []
    running, most = 0, 0
    lock = threading.Lock()

    class Watched(PasswordHasher):
        def verify_sync(self, password_hash: str | None, password: str) -> bool:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
                seen.append(threading.current_thread().name)
            try:
                return super().verify_sync(password_hash, password)
            finally:
                with lock:
                    running -= 1

    cores = len(os.sched_getaffinity(0))
    watched = Watched(OWASP)
    verdicts = await asyncio.gather(*(watched.verify(stored, PASSWORD) for _ in range(4 * cores)))
    assert all(verdicts)
    assert 1 <= most <= cores
    assert all(name.startswith("argon2") for name in seen)


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_hashes_run_below_the_event_loops_priority(stored: str) -> None:
    """While logins keep every core hashing, a JWKS or token request must not wait for a
    time slice: the hashing threads run HASHING_NICENESS lower, the rest of the process
    (this thread, the event loop) at its usual priority."""
    niceness: list[int] = []

    class Watched(PasswordHasher):
        def verify_sync(self, password_hash: str | None, password: str) -> bool:
            niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().verify_sync(password_hash, password)

    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert await Watched(OWASP).verify(stored, PASSWORD) is True
    assert niceness == [min(own + HASHING_NICENESS, 19)]
    assert own < niceness[0]  # the test runs below 19, or it proves nothing
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # unchanged
