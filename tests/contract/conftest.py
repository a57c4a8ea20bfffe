"""Helpers for the storage contract suites: users to hang sessions on, and a timeline.

SQL stores judge expiry by the `now` they are given; Redis expires keys in real
time. `Timeline` moves both at once, so one test reads the same on every backend.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from gatepass.accounts.model import User
from gatepass.clock import FixedClock
from gatepass.storage.backends import Backends

START = FixedClock().now()


class Timeline:
    """The `now` handed to the stores; in Redis, real seconds pass along with it."""

    def __init__(self, *, real: bool, start: float = START) -> None:
        self.real = real
        self.now = start

    async def wait(self, seconds: float) -> float:
        self.now += seconds
        if self.real:
            await asyncio.sleep(seconds)
        return self.now


@pytest.fixture
def timeline(backend: str) -> Timeline:
    return Timeline(real=backend == "redis")


def a_user(email: str | None = None, *, at: float = START) -> User:
    user_id = str(uuid.uuid4())
    return User(
        id=user_id,
        email=email or f"{user_id[:8]}@example.com",
        name="Ada Lovelace",
        password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        disabled=False,
        created_at=at,
        updated_at=at,
    )


@pytest.fixture
def new_user(backends: Backends) -> Callable[[], Awaitable[str]]:
    """Adds a user (SQL sessions reference users by foreign key) and returns its id."""

    async def make() -> str:
        user = a_user()
        await backends.users.add(user)
        return user.id

    return make
