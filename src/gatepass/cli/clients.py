"""`gatepass client ...`: the OAuth client registry."""

import argparse
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from gatepass.cli.base import Failure, iso
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import Client, ClientRegistration, looks_like_client_id
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends, open_backends

_SECONDS = re.compile(r"[0-9]{1,10}")


def client_secret_key(settings: Settings) -> bytes:
    """The HMAC key of client-secret digests: the one place the CLI gets it.

    A subkey of the master key (GATEPASS_SECRET_KEY, or the key file `serve` creates),
    so the CLI and the server digest secrets alike. The web layer must use the same.
    """
    return load_master_key(settings).client_secret_key()


async def _with_clients(
    settings: Settings, work: Callable[[ClientRegistry], Awaitable[int]]
) -> int:
    key = client_secret_key(settings)
    backends: Backends = await open_backends(settings)
    try:
        return await work(ClientRegistry(backends.clients, key, SystemClock()))
    finally:
        await backends.close()


async def _with_client(
    settings: Settings, client_id: str, work: Callable[[Backends, Client], Awaitable[int]]
) -> int:
    """Work on one existing client; needs no key (nothing is digested)."""
    backends: Backends = await open_backends(settings)
    try:
        found = await backends.clients.get(client_id) if looks_like_client_id(client_id) else None
        if found is None:
            raise Failure(f"no client with id {client_id!r}")
        return await work(backends, found)
    finally:
        await backends.close()


def _client_json(client: Client, secret: str | None = None) -> dict[str, Any]:
    """Field names of RFC 7591 §2 and §3.2.1 where one exists."""
    data: dict[str, Any] = {
        "client_id": client.client_id,
        "client_name": client.name,
        "confidential": client.confidential,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": list(client.grant_types),
        "scope": " ".join(client.scopes),
        "first_party": client.first_party,
        "id_token_signed_response_alg": client.id_token_alg,
        # gatepass's own; null: the server's setting applies.
        "refresh_token_idle_ttl": client.refresh_token_idle_ttl,
        "refresh_token_absolute_ttl": client.refresh_token_absolute_ttl,
        "refresh_retry_window": client.refresh_retry_window,
        "default_audience": client.default_audience,
        "require_mfa": client.require_mfa,
        "created_at": iso(client.created_at),
        "updated_at": iso(client.updated_at),
    }
    if secret is not None:
        data["client_secret"] = secret
    return data


def _print_client(client: Client, secret: str | None, as_json: bool) -> None:
    data = _client_json(client, secret)
    if as_json:
        print(json.dumps(data))
        return
    for key, value in data.items():
        shown = " ".join(value) if isinstance(value, list) else value
        shown = "(server setting)" if value is None else shown
        print(f"{key + ':':30} {shown}")
    if secret is not None:
        print("The client secret is shown this once; store it now.")


async def client_create(args: argparse.Namespace, settings: Settings) -> int:
    registration = ClientRegistration(
        name=args.name,
        redirect_uris=tuple(args.redirect),
        public=args.public,
        grant_types=tuple(args.grant_type),
        scopes=tuple(s for value in args.scope for s in value.split()),
        first_party=args.first_party,
        post_logout_redirect_uris=tuple(args.logout),
        id_token_alg=args.id_token_alg,
        refresh_token_idle_ttl=_seconds(args.refresh_idle, "--refresh-token-idle-ttl"),
        refresh_token_absolute_ttl=_seconds(args.refresh_absolute, "--refresh-token-absolute-ttl"),
        refresh_retry_window=_seconds(args.retry_window, "--refresh-retry-window"),
        default_audience=_audience(args.audience, settings),
        require_mfa=_require_mfa(args.require_mfa),
    )

    async def work(registry: ClientRegistry) -> int:
        client, secret = await registry.create(registration)
        _print_client(client, secret, args.json)
        return 0

    return await _with_clients(settings, work)


def _seconds(value: str | None, flag: str) -> int | None:
    """A whole number of seconds; the range is the registration's rule (oauth/clients.py)."""
    if value is None:
        return None
    if not _SECONDS.fullmatch(value):
        raise Failure(f"{flag} takes a whole number of seconds, not {value[:40]!r}")
    return int(value)


def _audience(value: str | None, settings: Settings) -> str | None:
    # As for GATEPASS_DEFAULT_AUDIENCE (config.py): an access token must never pass for an
    # assertion addressed to this server. Only here is the issuer known; the shape of the
    # URI is the registration's rule.
    if value is not None and value.rstrip("/") == settings.issuer:
        raise Failure("--audience must differ from the issuer (GATEPASS_ISSUER)")
    return value


def _require_mfa(value: str | None) -> bool | None:
    return None if value in (None, "default") else value == "on"


async def client_require_mfa(args: argparse.Namespace, settings: Settings) -> int:
    """`client require-mfa CLIENT_ID on|off|default` (docs/mfa.md)."""

    async def work(backends: Backends, client: Client) -> int:
        wanted = _require_mfa(args.setting)
        now = SystemClock().now()
        updated = await backends.clients.set_require_mfa(client.client_id, wanted, now=now)
        if updated is None:
            raise Failure(f"no client with id {client.client_id!r}")
        _print_client(updated, None, args.json)
        return 0

    return await _with_client(settings, args.client_id, work)


async def client_list(args: argparse.Namespace, settings: Settings) -> int:
    backends: Backends = await open_backends(settings)
    try:
        clients = await backends.clients.list_all()
    finally:
        await backends.close()
    if args.json:
        print(json.dumps([_client_json(c) for c in clients]))
    for c in [] if args.json else clients:
        kind = "confidential" if c.confidential else "public"
        print(f"{c.client_id}  {kind:12}  {'first-party' if c.first_party else '-':11}  {c.name}")
    return 0


async def client_show(args: argparse.Namespace, settings: Settings) -> int:
    async def work(_backends: Backends, client: Client) -> int:
        _print_client(client, None, args.json)
        return 0

    return await _with_client(settings, args.client_id, work)


async def client_delete(args: argparse.Namespace, settings: Settings) -> int:
    async def work(backends: Backends, client: Client) -> int:
        await backends.clients.delete(client.client_id)
        print(f"deleted client {client.client_id} ({client.name})")
        return 0

    return await _with_client(settings, args.client_id, work)


async def client_rotate_secret(args: argparse.Namespace, settings: Settings) -> int:
    async def work(registry: ClientRegistry) -> int:
        rotated = await registry.rotate_secret(args.client_id)
        if rotated is None:
            raise Failure(f"no client with id {args.client_id!r}")
        _print_client(*rotated, args.json)
        return 0

    return await _with_clients(settings, work)


# --- signing keys -------------------------------------------------------------------


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    clients = commands.add_parser(
        "client", parents=[common], help="manage OAuth clients"
    ).add_subparsers(title="client commands")
    p = clients.add_parser("create", parents=[common], help="register an OAuth client")
    p.add_argument("name")
    p.add_argument("--redirect-uri", action="append", default=[], metavar="URI", dest="redirect")
    p.add_argument("--public", action="store_true", help="a native or browser app: no secret")
    p.add_argument("--grant-type", action="extend", nargs="+", default=[], metavar="GRANT")
    p.add_argument("--scope", action="extend", nargs="+", default=[], metavar="SCOPE")
    p.add_argument("--first-party", action="store_true", help="skip the consent screen")
    p.add_argument(
        "--post-logout-redirect-uri", action="append", default=[], metavar="URI", dest="logout"
    )
    p.add_argument("--id-token-alg", default="RS256", metavar="ALG", help="RS256, ES256 or EdDSA")
    p.add_argument(
        "--refresh-token-idle-ttl",
        metavar="SECONDS",
        dest="refresh_idle",
        help="refresh tokens unused this long end (default: the server setting)",
    )
    p.add_argument(
        "--refresh-token-absolute-ttl",
        metavar="SECONDS",
        dest="refresh_absolute",
        help="refresh tokens end this long after the login (default: the server setting)",
    )
    p.add_argument(
        "--refresh-retry-window",
        metavar="SECONDS",
        dest="retry_window",
        help="0 to 60; 0 is strict (default: the server setting)",
    )
    p.add_argument(
        "--audience",
        metavar="URI",
        help="aud of access tokens whose request names no resource (default: the server's)",
    )
    p.add_argument(
        "--require-mfa",
        choices=("on", "off", "default"),
        help="users signing in to this client need a second factor (default: the server's)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=client_create)
    p = clients.add_parser(
        "require-mfa", parents=[common], help="whether a client's users need a second factor"
    )
    p.add_argument("client_id", metavar="CLIENT_ID")
    p.add_argument("setting", choices=("on", "off", "default"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=client_require_mfa)
    p = clients.add_parser("list", parents=[common], help="list OAuth clients")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=client_list)
    for name, run, text, has_json in (
        ("show", client_show, "show one client", True),
        ("delete", client_delete, "delete a client", False),
        ("rotate-secret", client_rotate_secret, "replace a confidential client's secret", True),
    ):
        p = clients.add_parser(name, parents=[common], help=text)
        p.add_argument("client_id", metavar="CLIENT_ID")
        if has_json:
            p.add_argument("--json", action="store_true")
        p.set_defaults(run=run)
