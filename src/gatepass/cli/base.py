"""What every command shares: one-line failures, services over open stores, time format."""

import argparse
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from gatepass.accounts.model import User
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.errors import GatepassError
from gatepass.storage.backends import Backends, open_backends
from gatepass.web.app import build_services
from gatepass.web.state import Services

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


class Failure(GatepassError):
    """A command cannot do what was asked; the message is for the operator."""


async def with_services(settings: Settings, work: Callable[[Services], Awaitable[int]]) -> int:
    backends: Backends = await open_backends(settings)
    try:
        return await work(build_services(settings, backends, SystemClock()))
    finally:
        await backends.close()


async def find_user(gp: Services, email: str) -> User:
    user = await gp.accounts.find(email)
    if user is None:
        raise Failure(f"no user with e-mail {email!r}")
    return user


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
