"""`gatepass user verify-email | reset-password | set-password`: an operator's help with
the account lifecycle. Each is audited with detail "cli"."""

import argparse
import getpass
import sys
from typing import Any

from gatepass.accounts.links import LinkPurpose
from gatepass.audit.model import AuditEventType as Event
from gatepass.cli.base import Failure, find_user, with_services
from gatepass.config import Settings
from gatepass.web.mailing import link_url, reset_mail
from gatepass.web.sign_out import sign_out_everywhere
from gatepass.web.state import Services


async def verify_email(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await gp.lifecycle.mark_verified(await find_user(gp, args.email))
        await gp.audit.record(Event.EMAIL_VERIFIED, user_id=user.id, email=user.email, detail="cli")
        print(f"verified {user.email}")
        return 0

    return await with_services(settings, work)


async def reset_password(args: argparse.Namespace, settings: Settings) -> int:
    """A reset link for the user: printed for the operator to pass on, or mailed."""

    async def work(gp: Services) -> int:
        user = await find_user(gp, args.email)
        if user.disabled:
            raise Failure(f"{user.email} is disabled; enable the account first")
        issued = await gp.lifecycle.links.issue(LinkPurpose.RESET_PASSWORD, user.id, user.email)
        await gp.audit.record(
            Event.PASSWORD_RESET_REQUESTED, user_id=user.id, email=user.email, detail="cli"
        )
        if not args.send:
            print(link_url(gp, issued))
            return 0
        if not await gp.postman.deliver(reset_mail(gp, user, issued)):
            raise Failure("the mail could not be sent (the log says why); run without --send")
        print(f"sent a password reset link to {user.email}")
        return 0

    return await with_services(settings, work)


async def set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)

    async def work(gp: Services) -> int:
        user = await gp.lifecycle.set_password(await find_user(gp, args.email), password)
        # Whoever knew the old password is signed out of everything it opened.
        ended = await sign_out_everywhere(gp, user.id)
        await gp.audit.record(Event.PASSWORD_RESET, user_id=user.id, email=user.email, detail="cli")
        print(f"set the password of {user.email}; {ended.summary()}")
        return 0

    return await with_services(settings, work)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise Failure("the passwords do not match")
    return first


def register(users: Any, common: argparse.ArgumentParser) -> None:
    """Adds the commands to `gatepass user` (cli/users.py)."""
    p = users.add_parser(
        "verify-email", parents=[common], help="mark a user's e-mail address as verified"
    )
    p.add_argument("email")
    p.set_defaults(run=verify_email)
    p = users.add_parser(
        "reset-password", parents=[common], help="print (or --send) a password reset link"
    )
    p.add_argument("email")
    p.add_argument("--send", action="store_true", help="mail the link to the user instead")
    p.set_defaults(run=reset_password)
    p = users.add_parser(
        "set-password",
        parents=[common],
        help="set a user's password (sign-up's rules) and sign them out everywhere",
    )
    p.add_argument("email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(run=set_password)
