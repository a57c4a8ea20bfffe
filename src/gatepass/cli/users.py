"""`gatepass user ...`: create, list, disable, enable, delete."""

import argparse
import getpass
import json
import sys
from typing import Any

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.cli import user_lifecycle
from gatepass.cli.base import Failure, find_user, iso, with_services
from gatepass.cli.mfa import user_reset_mfa
from gatepass.config import Settings
from gatepass.web.account_removal import delete_account
from gatepass.web.sign_out import sign_out_everywhere
from gatepass.web.state import Services


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
        "created_at": iso(user.created_at),
    }


async def user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)

    async def work(gp: Services) -> int:
        user = await gp.accounts.sign_up(args.email, password, args.name)
        await gp.audit.record(Event.USER_CREATED, user_id=user.id, email=user.email, detail="cli")
        print(json.dumps(_user_json(user)) if args.json else f"created {user.email} ({user.id})")
        return 0

    return await with_services(settings, work)


async def user_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        users = await gp.accounts.list_all()
        if args.json:
            print(json.dumps([_user_json(u) for u in users]))
        for user in [] if args.json else users:
            state = "disabled" if user.disabled else "active"
            print(f"{user.id}  {user.email:40}  {state:8}  {user.name}")
        return 0

    return await with_services(settings, work)


async def user_disable(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await gp.accounts.set_disabled(await find_user(gp, args.email), True)
        ended = await sign_out_everywhere(gp, user.id)
        await gp.audit.record(Event.USER_DISABLED, user_id=user.id, email=user.email, detail="cli")
        print(f"disabled {user.email}; {ended.summary()}")
        return 0

    return await with_services(settings, work)


async def user_enable(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await gp.accounts.set_disabled(await find_user(gp, args.email), False)
        await gp.audit.record(Event.USER_ENABLED, user_id=user.id, email=user.email, detail="cli")
        print(f"enabled {user.email}")
        return 0

    return await with_services(settings, work)


async def user_delete(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await find_user(gp, args.email)
        ended = await delete_account(gp, user, Event.USER_DELETED, detail="cli")
        print(f"deleted {user.email}; {ended.summary()}")
        return 0

    return await with_services(settings, work)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
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
        ("disable", user_disable, "disable a user, end their sessions and revoke their grants"),
        ("enable", user_enable, "enable a disabled user"),
        ("delete", user_delete, "delete a user, their sessions and their grants"),
        ("reset-mfa", user_reset_mfa, "remove a user's TOTP, recovery codes and passkeys"),
    ):
        p = users.add_parser(name, parents=[common], help=text)
        p.add_argument("email")
        p.set_defaults(run=run)
    user_lifecycle.register(users, common)
