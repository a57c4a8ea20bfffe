"""The `gatepass` command: serve, migrate; administer users, sessions, OAuth clients, audit log.

A synchronous edge over the async cores: each command runs one event loop.
Errors print one line (`gatepass: SETTING: reason`) and exit 2; never a traceback.
"""

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import SystemClock
from gatepass.config import Settings, load_settings
from gatepass.crypto.master_key import load_master_key
from gatepass.errors import GatepassError, ValidationError
from gatepass.keys.model import StoredSigningKey
from gatepass.keys.ring import KeyRing
from gatepass.oauth.clients import Client, ClientRegistration, looks_like_client_id
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends, open_backends
from gatepass.storage.sql.engine import check_connection, create_engine
from gatepass.storage.sql.migrate import upgrade
from gatepass.web.app import build_key_ring, build_services
from gatepass.web.state import Services

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


class Failure(GatepassError):
    """A command cannot do what was asked; the message is for the operator."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(_glue_ids(sys.argv[1:] if argv is None else argv))
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        if args.run is serve:
            return int(serve(args, settings))
        run: Command = args.run
        return asyncio.run(run(args, settings))
    except (GatepassError, ValidationError) as exc:
        print(f"gatepass: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _glue_ids(argv: Sequence[str]) -> list[str]:
    """`--id VALUE` as `--id=VALUE`: session IDs are base64url and may begin with "-",
    which argparse would otherwise take for an unknown option."""
    glued: list[str] = []
    rest = iter(argv)
    for arg in rest:
        value = next(rest, None) if arg == "--id" else None
        glued.append(arg if value is None else f"{arg}={value}")
    return glued


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatepass", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="TOML file with settings")
    # Also accepted after the subcommand (`gatepass migrate --config f.toml`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML file")
    commands = parser.add_subparsers(title="commands")

    p = commands.add_parser("serve", parents=[common], help="run the identity server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--no-migrate", action="store_true", help="do not migrate the schema first")
    p.set_defaults(run=serve)

    p = commands.add_parser("migrate", parents=[common], help="apply schema migrations")
    p.set_defaults(run=migrate)

    users = commands.add_parser("user", parents=[common], help="manage users").add_subparsers(
        title="user commands"
    )
    p = users.add_parser("create", parents=[common], help="create a user")
    p.add_argument("email")
    p.add_argument("--name", default="")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=user_create)
    p = users.add_parser("list", parents=[common], help="list users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=user_list)
    for name, run, text in (
        ("disable", user_disable, "disable a user and end their sessions"),
        ("enable", user_enable, "enable a disabled user"),
        ("delete", user_delete, "delete a user and their sessions"),
    ):
        p = users.add_parser(name, parents=[common], help=text)
        p.add_argument("email")
        p.set_defaults(run=run)

    sessions = commands.add_parser(
        "session", parents=[common], help="manage sessions"
    ).add_subparsers(title="session commands")
    p = sessions.add_parser("list", parents=[common], help="list a user's live sessions")
    p.add_argument("--user", required=True, metavar="EMAIL")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=session_list)
    p = sessions.add_parser(
        "revoke", parents=[common], help="end one session, or every session of a user"
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", metavar="EMAIL")
    target.add_argument("--id", metavar="ID")
    p.set_defaults(run=session_revoke)

    audit = commands.add_parser(
        "audit", parents=[common], help="read the audit log"
    ).add_subparsers(title="audit commands")
    p = audit.add_parser(
        "list", parents=[common], help="recent authentication events, newest first"
    )
    p.add_argument("--user", metavar="EMAIL")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=audit_list)
    _client_parsers(commands, common)
    _key_parsers(commands, common)
    return parser


def _client_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
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
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=client_create)
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


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_prepare_database(settings, migrate=not args.no_migrate))
    load_master_key(settings)  # read, or create and announce, once here rather than per worker
    if not settings.is_https:
        logging.getLogger("gatepass").warning(
            "issuer %s is plain http: cookies are sent without Secure and without the "
            "__Host- prefix. Use an https issuer for anything but local development.",
            settings.issuer,
        )
    if args.config is not None:  # worker processes read settings from the environment
        os.environ["GATEPASS_CONFIG_FILE"] = str(args.config.resolve())
    uvicorn.run(
        "gatepass.web.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Forwarded headers are believed only from GATEPASS_TRUSTED_PROXIES (web/client.py).
        proxy_headers=False,
        server_header=False,
        log_level="info",
        timeout_worker_healthcheck=30,  # a loaded host can take more than the default 5 s
    )
    return 0


async def _prepare_database(settings: Settings, *, migrate: bool) -> None:
    engine = create_engine(settings.database_url)
    try:
        await check_connection(engine, settings.database_url)
        if migrate:
            await upgrade(engine)
    finally:
        await engine.dispose()
    if settings.redis_url is not None:  # fail now, with one line, not in every worker
        backends = await open_backends(settings)
        await backends.close()


async def migrate(_args: argparse.Namespace, settings: Settings) -> int:
    await _prepare_database(settings, migrate=True)
    print("gatepass: schema is up to date")
    return 0


async def _with_services(settings: Settings, work: Callable[[Services], Awaitable[int]]) -> int:
    backends: Backends = await open_backends(settings)
    try:
        return await work(build_services(settings, backends, SystemClock()))
    finally:
        await backends.close()


async def _find_user(gp: Services, email: str) -> User:
    user = await gp.accounts.find(email)
    if user is None:
        raise Failure(f"no user with e-mail {email!r}")
    return user


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise Failure("the passwords do not match")
    return first


def _user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "disabled": user.disabled,
        "created_at": _iso(user.created_at),
    }


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


async def user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)

    async def work(gp: Services) -> int:
        user = await gp.accounts.sign_up(args.email, password, args.name)
        await gp.audit.record(Event.USER_CREATED, user_id=user.id, email=user.email, detail="cli")
        print(json.dumps(_user_json(user)) if args.json else f"created {user.email} ({user.id})")
        return 0

    return await _with_services(settings, work)


async def user_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        users = await gp.accounts.list_all()
        if args.json:
            print(json.dumps([_user_json(u) for u in users]))
        for user in [] if args.json else users:
            state = "disabled" if user.disabled else "active"
            print(f"{user.id}  {user.email:40}  {state:8}  {user.name}")
        return 0

    return await _with_services(settings, work)


async def user_disable(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await gp.accounts.set_disabled(await _find_user(gp, args.email), True)
        ended = await gp.sessions.end_all(user.id)
        await gp.audit.record(Event.USER_DISABLED, user_id=user.id, email=user.email, detail="cli")
        print(f"disabled {user.email}; ended {ended} session(s)")
        return 0

    return await _with_services(settings, work)


async def user_enable(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await gp.accounts.set_disabled(await _find_user(gp, args.email), False)
        await gp.audit.record(Event.USER_ENABLED, user_id=user.id, email=user.email, detail="cli")
        print(f"enabled {user.email}")
        return 0

    return await _with_services(settings, work)


async def user_delete(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await _find_user(gp, args.email)
        ended = await gp.sessions.end_all(user.id)
        await gp.accounts.delete(user)
        await gp.audit.record(Event.USER_DELETED, user_id=user.id, email=user.email, detail="cli")
        print(f"deleted {user.email}; ended {ended} session(s)")
        return 0

    return await _with_services(settings, work)


async def session_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await _find_user(gp, args.user)
        sessions = await gp.sessions.list_for_user(user.id)
        rows = [
            {
                "id": s.id,
                "user_id": s.user_id,
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
                "expires_at": _iso(s.absolute_expires_at),
                "address": s.address,
                "user_agent": s.user_agent,
            }
            for s in sessions
        ]
        if args.json:
            print(json.dumps(rows))
        for row in [] if args.json else rows:
            print(f"{row['id']}  {row['created_at']}  {row['address']:15}  {row['user_agent']}")
        return 0

    return await _with_services(settings, work)


async def session_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        if args.user is not None:
            user = await _find_user(gp, args.user)
            ended = await gp.sessions.end_all(user.id)
            await gp.audit.record(
                Event.LOGOUT_EVERYWHERE, user_id=user.id, email=user.email, detail="cli"
            )
            print(f"ended {ended} session(s) of {user.email}")
            return 0
        session = await gp.sessions.end_by_id(args.id)
        if session is None:
            raise Failure(f"no live session with id {args.id!r}")
        await gp.audit.record(Event.SESSION_REVOKED, user_id=session.user_id, detail="cli")
        print(f"ended session {args.id}")
        return 0

    return await _with_services(settings, work)


async def audit_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user_id = (await _find_user(gp, args.user)).id if args.user else None
        events = await gp.audit.recent(user_id=user_id, limit=max(1, min(args.limit, 10_000)))
        rows = [
            {
                "at": _iso(e.at),
                "type": e.type.value,
                "user_id": e.user_id,
                "email": e.email,
                "address": e.address,
                "user_agent": e.user_agent,
                "detail": e.detail,
            }
            for e in events
        ]
        if args.json:
            print(json.dumps(rows))
        for row in [] if args.json else rows:
            print(
                f"{row['at']}  {row['type']:18}  {row['email'] or '-':32}  {row['address'] or '-'}"
            )
        return 0

    return await _with_services(settings, work)


# --- OAuth clients ------------------------------------------------------------------


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
        "created_at": _iso(client.created_at),
        "updated_at": _iso(client.updated_at),
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
    )

    async def work(registry: ClientRegistry) -> int:
        client, secret = await registry.create(registration)
        _print_client(client, secret, args.json)
        return 0

    return await _with_clients(settings, work)


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


def _key_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser("key", parents=[common], help="manage signing keys").add_subparsers(
        title="key commands"
    )
    p = keys.add_parser("list", parents=[common], help="signing keys with their state and times")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=key_list)
    p = keys.add_parser(
        "rotate", parents=[common], help="publish a new key now; it signs after the JWKS lifetime"
    )
    p.add_argument("--alg", choices=("RS256", "ES256", "EdDSA"), default="RS256")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=key_rotate)


async def _with_key_ring(settings: Settings, work: Callable[[KeyRing], Awaitable[int]]) -> int:
    backends: Backends = await open_backends(settings)
    try:
        return await work(build_key_ring(settings, backends, SystemClock()))
    finally:
        await backends.close()


def _key_json(key: StoredSigningKey, now: float) -> dict[str, Any]:
    def at(value: float | None) -> str | None:
        return None if value is None else _iso(value)

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


if __name__ == "__main__":
    sys.exit(main())
