"""`gatepass user reset-mfa EMAIL`: for a user who lost every second factor (docs/mfa.md)."""

import argparse

from gatepass.audit.model import AuditEventType as Event
from gatepass.cli.base import find_user, with_services
from gatepass.config import Settings
from gatepass.web.state import Services


async def user_reset_mfa(args: argparse.Namespace, settings: Settings) -> int:
    """Removes the user's TOTP, recovery codes and passkeys; audited (MFA_RESET). The
    user signs in with the first factor alone next time (and, when MFA is required,
    enrols a new factor before the session starts)."""

    async def work(gp: Services) -> int:
        user = await find_user(gp, args.email)
        removed = await gp.mfa.reset(user.id)
        await gp.audit.record(
            Event.MFA_RESET, user_id=user.id, email=user.email, detail=f"cli; {removed} removed"
        )
        print(f"reset the second factors of {user.email} ({removed} factors and codes removed)")
        return 0

    return await with_services(settings, work)
