"""Consents on the account page: what each client may see, and a Revoke button."""

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.web.pages import redirect, signed_in_form
from gatepass.web.state import Services, services

# What the consent page and the account page say each scope lets a client see.
SCOPE_WORDS = {
    "openid": "Sign you in",
    "profile": "Your name",
    "email": "Your e-mail address",
    "offline_access": "Stay signed in when you are away",
}


def scope_words(scopes: Iterable[str]) -> list[str]:
    return [SCOPE_WORDS.get(scope, f"Access to {scope}") for scope in scopes]


@dataclass(frozen=True)
class ConsentRow:
    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: float


async def consent_rows(gp: Services, user_id: str) -> list[ConsentRow]:
    """The user's consents, for clients that still exist, in words."""
    rows = []
    for consent in await gp.consents.list_for_user(user_id):
        client = await gp.clients.get(consent.client_id)
        if client is not None:
            rows.append(
                ConsentRow(
                    consent.client_id, client.name, scope_words(consent.scopes), consent.granted_at
                )
            )
    return rows


async def revoke_consent(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, form = checked
    revoked = await gp.consents.revoke(member.user.id, form.get("client_id", "")[:100])
    if revoked:
        await gp.audit_event(request, Event.CONSENT_REVOKED, user=member.user)
    return redirect("/account?notice=" + ("consent-revoked" if revoked else "consent-not-found"))


routes = [
    Route("/account/consents/revoke", revoke_consent, methods=["POST"]),
]
