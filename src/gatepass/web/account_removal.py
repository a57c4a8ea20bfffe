"""Deleting an account, by its owner or by an operator: one path for both.

Everything signed in ends first (sessions, refresh families, access tokens at every
verifier), then the user row goes and with it, by cascade, every record that names the
user (identities, links, factors, consents, token families). The audit log keeps that
things happened, under the user's id only: the e-mail address, client addresses and user
agents of their events are erased (personal data, GDPR art. 17), and the deletion itself
is recorded without them.
"""

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType
from gatepass.web.sign_out import SignedOut, sign_out_everywhere
from gatepass.web.state import Services


async def delete_account(
    gp: Services, user: User, event: AuditEventType, *, detail: str
) -> SignedOut:
    # Revoked before the user row goes: deleting it deletes the families with it, and the
    # revocation records are what refuse the access tokens still in flight.
    ended = await sign_out_everywhere(gp, user.id)
    await gp.accounts.delete(user)
    await gp.audit.forget(user.id, user.email)
    await gp.audit.record(event, user_id=user.id, detail=detail)
    return ended
