"""`gatepass session ...` and `gatepass audit list`."""

import argparse
import json
from typing import Any

from gatepass.audit.model import AuditEventType as Event
from gatepass.cli.base import Failure, find_user, iso, with_services
from gatepass.config import Settings
from gatepass.web.sign_out import sign_out_everywhere
from gatepass.web.state import Services


async def session_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user = await find_user(gp, args.user)
        sessions = await gp.sessions.list_for_user(user.id)
        rows = [
            {
                "id": s.id,
                "user_id": s.user_id,
                "created_at": iso(s.created_at),
                "last_seen_at": iso(s.last_seen_at),
                "expires_at": iso(s.absolute_expires_at),
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

    return await with_services(settings, work)


async def session_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        if args.user is not None:
            user = await find_user(gp, args.user)
            ended = await sign_out_everywhere(gp, user.id)
            await gp.audit.record(
                Event.LOGOUT_EVERYWHERE, user_id=user.id, email=user.email, detail="cli"
            )
            print(f"{user.email}: {ended.summary()}")
            return 0
        session = await gp.sessions.end_by_id(args.id)
        if session is None:
            raise Failure(f"no live session with id {args.id!r}")
        await gp.audit.record(Event.SESSION_REVOKED, user_id=session.user_id, detail="cli")
        print(f"ended session {args.id}")
        return 0

    return await with_services(settings, work)


async def audit_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(gp: Services) -> int:
        user_id = (await find_user(gp, args.user)).id if args.user else None
        events = await gp.audit.recent(user_id=user_id, limit=max(1, min(args.limit, 10_000)))
        rows = [
            {
                "at": iso(e.at),
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

    return await with_services(settings, work)


# --- OAuth clients ------------------------------------------------------------------


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    sessions = commands.add_parser(
        "session", parents=[common], help="manage sessions"
    ).add_subparsers(title="session commands")
    p = sessions.add_parser("list", parents=[common], help="list a user's live sessions")
    p.add_argument("--user", required=True, metavar="EMAIL")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=session_list)
    p = sessions.add_parser(
        "revoke",
        parents=[common],
        help="end one session, or every session and app grant of a user",
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
