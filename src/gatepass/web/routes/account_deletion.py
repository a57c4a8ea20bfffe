"""Deleting your own account from the account page (issue 10).

A recent authentication is needed (web/recent_auth.py), and the person types their
e-mail address so that no stray click deletes an account. web/account_removal.py does
the work, the same as `gatepass user delete`.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.web.account_removal import delete_account
from gatepass.web.pages import redirect, render, signed_in_form
from gatepass.web.recent_auth import require_recent_auth
from gatepass.web.state import services
from gatepass.web.visitor import clear_session_cookie, visitor

NOT_CONFIRMED = "account-delete-unconfirmed"


async def delete_own_account(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, form = checked
    confirm_first = require_recent_auth(gp, member.session, "/account#delete")
    if confirm_first is not None:
        return confirm_first
    if form.get("confirm_email", "").strip().lower() != member.user.email:
        return redirect(f"/account?notice={NOT_CONFIRMED}#delete")
    await delete_account(gp, member.user, Event.ACCOUNT_DELETED, detail="by its owner")
    request.state.visitor = None  # the session is gone: render as a visitor
    response = render(request, "account_deleted.html", await visitor(request))
    clear_session_cookie(response, gp)
    return response


NOTICES = {NOT_CONFIRMED: "Type your e-mail address to confirm the deletion."}

routes = [Route("/account/delete", delete_own_account, methods=["POST"])]
