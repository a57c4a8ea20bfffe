"""`gatepass key ...`: signing keys and their rotation."""

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any

from gatepass.cli.base import iso
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.keys.model import StoredSigningKey
from gatepass.keys.ring import KeyRing
from gatepass.storage.backends import Backends, open_backends
from gatepass.web.app import build_key_ring


async def _with_key_ring(settings: Settings, work: Callable[[KeyRing], Awaitable[int]]) -> int:
    backends: Backends = await open_backends(settings)
    try:
        return await work(build_key_ring(settings, backends, SystemClock()))
    finally:
        await backends.close()


def _key_json(key: StoredSigningKey, now: float) -> dict[str, Any]:
    def at(value: float | None) -> str | None:
        return None if value is None else iso(value)

    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key.state(now).value,
        "created_at": at(key.created_at),
        "published_at": at(key.published_at),
        "active_at": at(key.active_at),
        "retired_at": at(key.retired_at),
        "expires_at": at(key.expires_at),
    }


async def key_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(ring: KeyRing) -> int:
        now = SystemClock().now()
        rows = [_key_json(key, now) for key in await ring.list_keys()]
        if args.json:
            print(json.dumps(rows))
        for row in [] if args.json else rows:
            print(
                f"{row['kid']}  {row['alg']:5}  {row['state']:8}  active {row['active_at']}  "
                f"retired {row['retired_at'] or '-'}  expires {row['expires_at'] or '-'}"
            )
        return 0

    return await _with_key_ring(settings, work)


async def key_rotate(args: argparse.Namespace, settings: Settings) -> int:
    async def work(ring: KeyRing) -> int:
        key = await ring.rotate(args.alg)
        row = _key_json(key, SystemClock().now())
        if args.json:
            print(json.dumps(row))
        else:
            print(f"published {key.alg} key {key.kid}; it signs from {row['active_at']}")
        return 0

    return await _with_key_ring(settings, work)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser("key", parents=[common], help="manage signing keys").add_subparsers(
        title="key commands"
    )
    p = keys.add_parser("list", parents=[common], help="signing keys with their state and times")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=key_list)
    p = keys.add_parser(
        "rotate",
        parents=[common],
        help="publish a new key now; it signs after the JWKS lifetime and the key refresh interval",
    )
    p.add_argument("--alg", choices=("RS256", "ES256", "EdDSA"), default="RS256")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=key_rotate)
