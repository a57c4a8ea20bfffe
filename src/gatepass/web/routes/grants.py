"""Signed-in apps on the account page: the user's live grants (token families), and a
Revoke button for each.

Revoking a family ends its refresh token and every access token it issued (RFC 7009 §2.1
does it for a client; this is the same for the user). The consent stays: it is the
separate "Applications you allowed" control, so the app may sign the user in again.
"""

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.tokens.families import TokenFamily
from gatepass.web.pages import redirect, signed_in_form
from gatepass.web.routes.consents import scope_words
from gatepass.web.state import Services, services

MAX_FAMILY_ID_LENGTH = 64  # token_families.id; anything longer names no family


@dataclass(frozen=True)
class GrantRow:
    family_id: str
    client_name: str
    scopes: list[str]
    created_at: float
    last_used_at: float
    refreshable: bool  # holds a refresh token: the app stays signed in while away
    ends_at: float


async def grant_rows(gp: Services, user_id: str) -> list[GrantRow]:
    """The user's live families, the last used first, in words."""
    rows = []
    for family in await gp.grants.families.for_user(user_id):
        client = await gp.clients.get(family.client_id)
        rows.append(
            GrantRow(
                family_id=family.id,
                # A live family outlives no client (deleting one deletes its families);
                # should one slip through, it stays listed, so it can still be revoked.
                client_name=client.name if client is not None else family.client_id,
                scopes=scope_words(family.scopes),
                created_at=family.created_at,
                last_used_at=family.last_used_at,
                refreshable=family.refreshable,
                ends_at=family.ends_at(),
            )
        )
    return rows


async def _own_live_family(gp: Services, user_id: str, family_id: str) -> TokenFamily | None:
    """The family, if it is live and the user's; None for an unknown, ended or foreign one."""
    if not 0 < len(family_id) <= MAX_FAMILY_ID_LENGTH:
        return None
    family = await gp.grants.families.get(family_id)
    if family is None or family.user_id != user_id or not family.live(gp.clock.now()):
        return None
    return family


async def revoke_grant(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, form = checked
    # Another user's family is answered exactly like an unknown one, and left alone.
    family = await _own_live_family(gp, member.user.id, form.get("family_id", ""))
    if family is None or not await gp.grants.families.revoke(family.id):
        return redirect("/account?notice=grant-not-found")
    await gp.audit.record(
        Event.GRANT_REVOKED,
        user_id=member.user.id,
        email=member.user.email,
        address=gp.address(request),
        user_agent=gp.agent(request),
        detail=f"client {family.client_id}",
    )
    return redirect("/account?notice=grant-revoked")


routes = [
    Route("/account/grants/revoke", revoke_grant, methods=["POST"]),
]
