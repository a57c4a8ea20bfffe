"""`/account/confirm`: prove who you are again before a sensitive change (web/recent_auth.py).

With a password: type it (throttled like a login). Without one: sign in again at a linked
upstream provider, which starts a new session too. Either way the session ID changes and
the session keeps its sign-in methods (`amr`, `idp`).
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.pages import login_url, redirect, render, safe_next, signed_in_form, to_login
from gatepass.web.recent_auth import CONFIRM_PATH
from gatepass.web.routes.identities import identity_rows
from gatepass.web.state import services
from gatepass.web.visitor import Member, Visitor, set_session_cookie, visitor

NOT_CONFIRMED = "The password is not correct."


async def confirm_page(request: Request) -> Response:
    who = await visitor(request)
    next_path = safe_next(request.query_params.get("next"))
    member = who.member
    if member is None:
        return redirect(login_url(next_path))
    return await _render(request, who, member, next_path)


async def _render(
    request: Request,
    who: Visitor,
    member: Member,
    next_path: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    linked, _ = await identity_rows(services(request), member.user)
    page = {
        "next": next_path,
        "has_password": member.user.password_hash is not None,
        "identities": linked,
        "error": error,
    }
    return render(request, "confirm.html", who, page, status_code=status_code, headers=headers)


async def confirm(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    who, member, form = checked
    user = member.user
    next_path = safe_next(form.get("next"))
    try:
        await gp.throttle.check("login", user.email, throttle_key(gp.address(request)))
    except Throttled as exc:
        await gp.audit_event(request, Event.LOGIN_THROTTLED, user=user)
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        headers = {"Retry-After": str(exc.retry_after_seconds)}
        return await _render(
            request, who, member, next_path, error=message, status_code=429, headers=headers
        )
    if await gp.accounts.authenticate(user.email, form.get("password", "")) is None:
        await gp.audit_event(request, Event.LOGIN_FAILED, user=user, detail="reauthentication")
        return await _render(request, who, member, next_path, error=NOT_CONFIRMED, status_code=400)
    await gp.throttle.succeeded("login", user.email)
    rotated = await gp.sessions.rotate(member.secret, gp.address(request), gp.agent(request))
    if rotated is None:  # the session ended meanwhile
        return to_login(gp)
    await gp.audit_event(request, Event.REAUTHENTICATED, user=user)
    response = redirect(next_path)
    set_session_cookie(response, gp, rotated)
    return response


routes = [
    Route(CONFIRM_PATH, confirm_page, methods=["GET"]),
    Route(CONFIRM_PATH, confirm, methods=["POST"]),
]
