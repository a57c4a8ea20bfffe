"""`gatepass provider ...`: upstream identity providers for "Login with ..." (issue 6).

The client secret is read from standard input, never from the command line (where `ps`
and shell history would show it), and is never printed again. `add` does not contact the
provider: it may be down while it is configured; the first login checks it.
"""

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from gatepass.cli.base import Failure, iso
from gatepass.config import PROVIDER_KINDS, Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.crypto.secret_box import SecretSealer
from gatepass.federation.model import UpstreamProvider
from gatepass.federation.presets import from_settings, make_provider
from gatepass.federation.registry import ProviderRegistry
from gatepass.storage.backends import Backends, open_backends

MAX_SECRET_CHARS = 1024


def redirect_uri(settings: Settings, name: str) -> str:
    """What to register at the provider: the callback route of web/routes/federation.py."""
    return f"{settings.issuer}/login/{name}/callback"


async def _with_registry(
    settings: Settings, work: Callable[[ProviderRegistry, Backends], Awaitable[int]]
) -> int:
    # The master key is read only when a secret is sealed (`add`), not to list or remove.
    sealer = SecretSealer(lambda: load_master_key(settings))
    backends: Backends = await open_backends(settings)
    try:
        registry = ProviderRegistry(from_settings(settings.providers), backends.providers, sealer)
        return await work(registry, backends)
    finally:
        await backends.close()


def _provider_json(
    settings: Settings,
    provider: UpstreamProvider,
    created_at: float | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": provider.name,
        "kind": provider.kind,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "scopes": list(provider.scopes),
        "display_name": provider.display_name,
        "source": provider.source,
        "redirect_uri": redirect_uri(settings, provider.name),
    }
    if created_at is not None:
        data["created_at"] = iso(created_at)
    return data


def _read_secret() -> str:
    secret = sys.stdin.read(MAX_SECRET_CHARS + 2).rstrip("\r\n")
    if not secret:
        raise Failure("no client secret on standard input (--client-secret-stdin)")
    if len(secret) > MAX_SECRET_CHARS or "\n" in secret:
        raise Failure("the client secret on standard input must be one line")
    return secret


async def provider_add(args: argparse.Namespace, settings: Settings) -> int:
    provider = make_provider(
        args.name,
        kind=args.kind,
        issuer=args.issuer,
        client_id=args.client_id,
        client_secret=_read_secret(),
        scopes=tuple(s for value in args.scope for s in value.split()),
        display_name=args.display_name,
    )

    async def work(registry: ProviderRegistry, _backends: Backends) -> int:
        await registry.add(provider)
        data = _provider_json(settings, provider)
        if args.json:
            print(json.dumps(data))
            return 0
        for key, value in data.items():
            print(f"{key + ':':14} {' '.join(value) if isinstance(value, list) else value}")
        print("Register the redirect_uri above at the provider.")
        return 0

    return await _with_registry(settings, work)


async def provider_list(args: argparse.Namespace, settings: Settings) -> int:
    """From the file and the store as they are: no secret is opened to list them."""
    configured = from_settings(settings.providers)

    async def work(_registry: ProviderRegistry, backends: Backends) -> int:
        stored = [
            (
                UpstreamProvider(
                    record.name,
                    record.kind,
                    record.issuer,
                    record.client_id,
                    "",
                    record.scopes,
                    record.display_name,
                ),
                record.created_at,
            )
            for record in await backends.providers.list_all()
            if record.name not in {p.name for p in configured}
        ]
        rows = [(p, None) for p in configured] + stored
        if args.json:
            print(json.dumps([_provider_json(settings, p, at) for p, at in rows]))
            return 0
        for p, _at in rows:
            print(f"{p.name:20}  {p.kind:6}  {p.source:6}  {p.issuer}  ({p.display_name})")
        return 0

    return await _with_registry(settings, work)


async def provider_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def work(registry: ProviderRegistry, _backends: Backends) -> int:
        if not await registry.remove(args.name):
            raise Failure(f"no provider named {args.name[:40]!r}")
        print(f"removed provider {args.name} (identities linked through it are kept)")
        return 0

    return await _with_registry(settings, work)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    providers = commands.add_parser(
        "provider", parents=[common], help='manage upstream identity providers ("Login with")'
    ).add_subparsers(title="provider commands")
    p = providers.add_parser("add", parents=[common], help="add an upstream provider")
    p.add_argument("name", help="a-z, 0-9, _ and -: part of the redirect URI")
    p.add_argument("--kind", choices=PROVIDER_KINDS, default="oidc")
    p.add_argument(
        "--issuer", metavar="URL", help="the OpenID issuer (default for google and github)"
    )
    p.add_argument("--client-id", required=True, metavar="ID")
    p.add_argument(
        "--client-secret-stdin",
        action="store_true",
        required=True,
        help="read the client secret from standard input",
    )
    p.add_argument("--scope", action="extend", nargs="+", default=[], metavar="SCOPE")
    p.add_argument("--display-name", metavar="TEXT", help='the button says "Continue with TEXT"')
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=provider_add)
    p = providers.add_parser("list", parents=[common], help="list upstream providers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=provider_list)
    p = providers.add_parser("remove", parents=[common], help="remove an upstream provider")
    p.add_argument("name")
    p.set_defaults(run=provider_remove)
