"""Sign-in methods on the account page: the upstream identities linked to the account
(routes/federation.py links them), an Unlink button for each, and a Link button for each
provider not linked yet.

Unlinking never takes away the last way in: an account without a password keeps at
least one identity.
"""

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.federation.model import UpstreamProvider
from gatepass.web.pages import redirect, signed_in_form
from gatepass.web.state import Services, services

NOTICES = {
    "identity-linked": "The account was linked: you can now sign in with it.",
    "identity-already-linked": "That account was linked already.",
    "identity-unlinked": "The account was unlinked.",
    "identity-not-found": "That account was not linked.",
    "identity-last": "That is your only way to sign in, so it stays linked.",
}


@dataclass(frozen=True)
class IdentityRow:
    provider: str
    display_name: str
    subject: str
    email: str
    created_at: float
    last_used_at: float


async def identity_rows(
    gp: Services, user: User
) -> tuple[list[IdentityRow], list[UpstreamProvider]]:
    """The user's linked identities, and the providers they could still link."""
    providers = {p.name: p for p in await gp.providers.list()}
    linked = await gp.identities.for_user(user.id)
    rows = [
        IdentityRow(
            provider=i.provider,
            # A removed provider's links stay (it may come back): shown by name.
            display_name=providers[i.provider].display_name
            if i.provider in providers
            else i.provider,
            subject=i.subject,
            email=i.email,
            created_at=i.created_at,
            last_used_at=i.last_used_at,
        )
        for i in linked
    ]
    taken = {i.provider for i in linked}
    return rows, [p for name, p in providers.items() if name not in taken]


async def unlink(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, form = checked
    user = member.user
    provider, subject = form.get("provider", ""), form.get("subject", "")
    linked = await gp.identities.for_user(user.id)
    if not any(i.provider == provider and i.subject == subject for i in linked):
        return redirect("/account?notice=identity-not-found")
    if user.password_hash is None and len(linked) == 1:
        return redirect("/account?notice=identity-last")
    await gp.identities.unlink(user.id, provider, subject)
    await gp.audit_event(request, Event.IDENTITY_UNLINKED, user=user, detail=provider)
    return redirect("/account?notice=identity-unlinked")


routes = [Route("/account/identities/unlink", unlink, methods=["POST"])]
