"""Second factors on the account page: set up and remove TOTP, new recovery codes
(docs/mfa.md). Every change needs a recent authentication (web/recent_auth.py); pages
that show a secret or codes are `Cache-Control: no-store`."""

from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.mfa import totp
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.pages import login_url, redirect, render, signed_in_form
from gatepass.web.recent_auth import require_recent_auth
from gatepass.web.state import Services, services
from gatepass.web.visitor import Visitor, visitor

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOTP_PATH = "/account/mfa/totp"
WRONG_CODE = "That code is not right (or was used already). Try the app's current code."
NOTICES = {
    "totp-removed": "The authenticator app was removed.",
    "totp-kept": "Two-step sign-in is required: set up another factor before removing this one.",
}


async def summary(gp: Services, user_id: str) -> dict[str, Any]:
    """What the account page shows of the second factors."""
    return {
        "totp": await gp.mfa.totp_enrolled(user_id),
        "has_factor": await gp.mfa.has_factor(user_id),
        "recovery_left": await gp.mfa.recovery_codes_left(user_id),
        "required": gp.settings.mfa_required,
    }


def setup_context(gp: Services, secret: str, email: str) -> dict[str, Any]:
    """The QR code (inline SVG: no image request, nothing cached) and the manual key."""
    uri = totp.provisioning_uri(secret, email, _issuer_label(gp))
    svg = segno.make(uri, error="m").svg_inline(scale=4, light="#fff")
    return {"secret": secret, "secret_grouped": totp.grouped(secret), "qr_svg": svg}


def _issuer_label(gp: Services) -> str:
    # What the app shows above the code: the service's host name.
    return gp.settings.issuer.split("://", 1)[-1].split("/", 1)[0]


async def totp_page(request: Request) -> Response:
    gp = services(request)
    who = await visitor(request)
    member = who.member
    if member is None:
        return redirect(login_url(TOTP_PATH))
    if await gp.mfa.totp_enrolled(member.user.id):
        return redirect("/account#mfa")
    pending = require_recent_auth(gp, member.session, TOTP_PATH)
    if pending is not None:
        return pending
    return await render_setup(request, gp, who, member.user)


async def render_setup(
    request: Request,
    gp: Services,
    who: Visitor,
    user: User,
    *,
    action: str = TOTP_PATH,
    error: str | None = None,
    status_code: int = 200,
    retry_after: int | None = None,
) -> Response:
    """The set-up page: the enrolment started and not confirmed yet, or a new one;
    `retry_after` (throttled) says when to try again, as every other 429 does."""
    secret = await gp.mfa.unconfirmed_totp(user.id) or await gp.mfa.begin_totp(user.id)
    if secret is None:  # confirmed meanwhile (another tab)
        return redirect("/account#mfa")
    context = {
        **setup_context(gp, secret, user.email),
        "action": action,
        "error": error,
        "enrol_at_sign_in": action != TOTP_PATH,
    }
    headers = dict(NO_STORE)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return render(
        request, "totp_enrol.html", who, context, status_code=status_code, headers=headers
    )


async def confirm_totp(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    who, member, form = checked
    pending = require_recent_auth(gp, member.session, TOTP_PATH)
    if pending is not None:
        return pending
    user = member.user
    try:
        await gp.throttle.check("mfa", user.id, throttle_key(gp.address(request)))
    except Throttled as exc:
        await gp.audit_event(request, Event.MFA_THROTTLED, user=user, detail="totp enrolment")
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        return await render_setup(
            request,
            gp,
            who,
            user,
            error=message,
            status_code=429,
            retry_after=exc.retry_after_seconds,
        )
    if not await gp.mfa.confirm_totp(user.id, form.get("code", "")):
        return await render_setup(request, gp, who, user, error=WRONG_CODE, status_code=400)
    await gp.throttle.succeeded("mfa", user.id)
    await gp.audit_event(request, Event.TOTP_ENROLLED, user=user)
    return await recovery_codes_page(request, gp, who, user, "/account#mfa")


async def recovery_codes_page(
    request: Request, gp: Services, who: Visitor, user: User, next_path: str
) -> Response:
    """New recovery codes (all old ones gone), shown this once."""
    codes = await gp.mfa.new_recovery_codes(user.id)
    await gp.audit_event(request, Event.RECOVERY_CODES_GENERATED, user=user)
    context = {"codes": codes, "next": next_path}
    return render(request, "recovery_codes.html", who, context, headers=NO_STORE)


async def remove_totp(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, _ = checked
    pending = require_recent_auth(gp, member.session, "/account#mfa")
    if pending is not None:
        return pending
    user = member.user
    if gp.settings.mfa_required and not await _other_factor(gp, user.id):
        return redirect("/account?notice=totp-kept#mfa")
    if await gp.mfa.remove_totp(user.id):
        await gp.audit_event(request, Event.TOTP_REMOVED, user=user)
    return redirect("/account?notice=totp-removed#mfa")


async def _other_factor(gp: Services, user_id: str) -> bool:
    for source in gp.mfa.extra_sources:
        if await source.has_factor(user_id):
            return True
    return False


async def regenerate_codes(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    who, member, _ = checked
    pending = require_recent_auth(gp, member.session, "/account#mfa")
    if pending is not None:
        return pending
    if not await gp.mfa.has_factor(member.user.id):
        return redirect("/account#mfa")  # codes stand in for a factor; none to stand in for
    user = member.user
    return await recovery_codes_page(request, gp, who, user, "/account#mfa")


routes = [
    Route(TOTP_PATH, totp_page, methods=["GET"]),
    Route(TOTP_PATH, confirm_totp, methods=["POST"]),
    Route("/account/mfa/totp/remove", remove_totp, methods=["POST"]),
    Route("/account/mfa/recovery-codes", regenerate_codes, methods=["POST"]),
]
