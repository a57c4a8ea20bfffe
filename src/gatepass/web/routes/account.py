"""The account page: profile, active sessions, signed-in apps, "log out everywhere",
password change."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.errors import ValidationError
from gatepass.web.pages import login_url, redirect, render, signed_in_form, to_login
from gatepass.web.routes import (
    account_deletion,
    email_change,
    email_verification,
    grants,
    identities,
    mfa_account,
    passkeys,
)
from gatepass.web.routes.consents import consent_rows
from gatepass.web.sign_out import sign_out_everywhere
from gatepass.web.state import services
from gatepass.web.visitor import (
    Member,
    Visitor,
    set_session_cookie,
    visitor,
)

NOTICES = {
    **identities.NOTICES,
    **account_deletion.NOTICES,
    **mfa_account.NOTICES,
    **passkeys.NOTICES,
    **email_verification.NOTICES,
    **email_change.NOTICES,
    "password-changed": "Your password was changed.",
    "session-revoked": "The session was revoked.",
    "session-not-found": "That session had already ended.",
    "consent-revoked": "The application's access was revoked.",
    "consent-not-found": "That application had no access to revoke.",
    "grant-revoked": "The application was signed out.",
    "grant-not-found": "That application was already signed out.",
}


async def account_page(request: Request) -> Response:
    who = await visitor(request)
    member = who.member
    if member is None:
        return redirect(login_url("/account"))
    return await _render_account(
        request, who, member, notice=NOTICES.get(request.query_params.get("notice", ""))
    )


async def _render_account(
    request: Request,
    who: Visitor,
    member: Member,
    *,
    notice: str | None = None,
    password_error: str | None = None,
    status_code: int = 200,
) -> Response:
    gp = services(request)
    linked, linkable = await identities.identity_rows(gp, member.user)
    context = {
        "identities": linked,
        "linkable": linkable,
        "sessions": await gp.sessions.list_for_user(member.user.id),
        "current_session_id": member.session.id,
        "activity": await gp.audit.recent(user_id=member.user.id, limit=10),
        "consents": await consent_rows(gp, member.user.id),
        "grants": await grants.grant_rows(gp, member.user.id),
        "notice": notice,
        "password_error": password_error,
        "mfa": await mfa_account.summary(gp, member.user.id),
        "passkeys": await gp.passkeys.for_user(member.user.id),
    }
    return render(request, "account.html", who, context, status_code=status_code)


async def revoke_session(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, form = checked
    user = member.user
    ended = await gp.sessions.end_by_id(form.get("session_id", ""), user_id=user.id)
    if ended is not None:
        await gp.audit_event(request, Event.SESSION_REVOKED, user=user)
    if ended is not None and ended.id == member.session.id:
        return to_login(gp)
    return redirect("/account?notice=" + ("session-revoked" if ended else "session-not-found"))


async def logout_everywhere(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, _ = checked
    await sign_out_everywhere(gp, member.user.id)
    await gp.audit_event(request, Event.LOGOUT_EVERYWHERE, user=member.user)
    return to_login(gp)


async def change_password(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    who, member, form = checked
    try:
        user = await gp.accounts.change_password(
            member.user, form.get("current_password", ""), form.get("new_password", "")
        )
    except ValidationError as exc:
        return await _render_account(
            request, who, member, password_error=exc.message, status_code=400
        )
    address, agent = gp.address(request), gp.agent(request)
    # A privilege change: the session ID changes; other sessions and the apps' grants
    # end unless kept (their refresh tokens were won with the old password).
    if form.get("end_other_sessions") == "on":
        await sign_out_everywhere(gp, user.id)
        started = await gp.sessions.start(user.id, address, agent)
    else:
        rotated = await gp.sessions.rotate(member.secret, address, agent)
        if rotated is None:
            return to_login(gp)
        started = rotated
    await gp.audit_event(request, Event.PASSWORD_CHANGED, user=user)
    response = redirect("/account?notice=password-changed")
    set_session_cookie(response, gp, started)
    return response


routes = [
    Route("/account", account_page, methods=["GET"]),
    Route("/account/sessions/revoke", revoke_session, methods=["POST"]),
    Route("/account/logout-everywhere", logout_everywhere, methods=["POST"]),
    Route("/account/password", change_password, methods=["POST"]),
    *grants.routes,  # mounted with the account page's own
    *identities.routes,
    *account_deletion.routes,
]
