"""Where a token is signed (tokens/signing.py): RS256 in the signing pool, one thread per
core at most and below the event loop's priority; ES256 and EdDSA on the loop itself."""

import asyncio
import os
import sys
import threading
from typing import Any

import pytest

from gatepass.crypto import cpu_threads, jwt
from gatepass.crypto.keys import generate_signing_key
from gatepass.tokens import signing

CLAIMS = {"iss": "https://id.example", "sub": "u1", "aud": "api", "iat": 1, "exp": 2}


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """(thread name, its nice value, signatures under way with it) of every signature."""
    seen: list[tuple[str, int, int]] = []
    running = 0
    lock = threading.Lock()
    sign = jwt.sign

    def watching(*args: Any) -> str:
        nonlocal running
        with lock:
            running += 1
            tid = threading.get_native_id()
            seen.append((threading.current_thread().name, _nice(tid), running))
        try:
            return sign(*args)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(jwt, "sign", watching)
    return seen


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid) if sys.platform == "linux" else 0


async def test_rs256_signs_in_the_signing_pool_one_thread_per_core_at_most(
    watched: list[tuple[str, int, int]],
) -> None:
    key = generate_signing_key("RS256")
    cores = cpu_threads.usable_cores()
    tokens = await asyncio.gather(
        *(signing.sign_jwt(CLAIMS, key, "at+jwt") for _ in range(6 * cores))
    )
    assert len(set(tokens)) == 1  # PKCS#1 v1.5 is deterministic: the same claims, one token
    assert (
        jwt.verify(
            tokens[0],
            [key.verification_key()],
            issuer=CLAIMS["iss"],
            audience="api",
            typ="at+jwt",
            now=1.5,
        )
        == CLAIMS
    )
    assert len(watched) == 6 * cores
    assert all(name.startswith("signing") for name, _, _ in watched)
    assert 1 <= max(running for _, _, running in watched) <= cores


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_rs256_signing_threads_run_below_the_event_loops_priority(
    watched: list[tuple[str, int, int]],
) -> None:
    own = _nice(threading.get_native_id())
    await signing.sign_jwt(CLAIMS, generate_signing_key("RS256"), "at+jwt")
    [(_, niceness, _)] = watched
    assert niceness == min(own + signing.SIGNING_NICENESS, 19)
    assert own < niceness  # the test runs below 19, or it proves nothing
    assert _nice(threading.get_native_id()) == own  # the loop's own is unchanged


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_fast_algorithms_sign_on_the_event_loop(
    alg: str, watched: list[tuple[str, int, int]]
) -> None:
    await signing.sign_jwt(CLAIMS, generate_signing_key(alg), "at+jwt")
    assert [name for name, _, _ in watched] == [threading.current_thread().name]
