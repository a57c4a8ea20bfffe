"""`/login/verify` and `/login/enrol`: the second step of a sign-in (web/second_factor.py).

/login/verify takes a TOTP code or a recovery code (a passkey: the passkeys partial);
/login/enrol, when MFA is required of a user who has no factor yet, sets up TOTP and
only then starts the session. Attempts are throttled per account and per address
("mfa" scope) and audited; a missing or expired pending sign-in leads back to /login.
"""

import functools

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.forms import parse_form
from gatepass.web.pages import redirect, render
from gatepass.web.routes.mfa_account import WRONG_CODE, recovery_codes_page, render_setup
from gatepass.web.second_factor import (
    ENROL_PATH,
    EXPIRED,
    VERIFY_PATH,
    PendingSignIn,
    complete_second_factor,
    pending_sign_in,
)
from gatepass.web.state import Services, services
from gatepass.web.visitor import Visitor, check_csrf, visitor

WRONG_RECOVERY_CODE = "That recovery code is not right, or was used already."
OTP_AMR = ("otp",)  # RFC 8176: TOTP, and recovery codes (one-time look-up secrets)


async def verify_page(request: Request) -> Response:
    gp, who = services(request), await visitor(request)
    found = await pending_sign_in(request, gp)
    if found is None:
        return _expired(request, who)
    pending, user = found
    if pending.enrol and not await gp.mfa.has_factor(user.id):
        return redirect(ENROL_PATH)
    return await _verify_form(request, gp, who, user)


async def _verify_form(
    request: Request,
    gp: Services,
    who: Visitor,
    user: User,
    *,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    page = {
        "user_email": user.email,
        "has_totp": await gp.mfa.totp_enrolled(user.id),
        "has_passkey": bool(await gp.passkeys.for_user(user.id)),
        "error": error,
        "next": VERIFY_PATH,
    }
    return render(request, "verify.html", who, page, status_code=status_code, headers=headers)


async def _pending_form(
    request: Request,
) -> tuple[Services, Visitor, dict[str, str], PendingSignIn, User] | Response:
    """A form sent at the second-factor step: parsed, CSRF-checked, with the sign-in
    still waiting; else the page saying it took too long (answer it as it is)."""
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    found = await pending_sign_in(request, gp)
    if found is None:
        return _expired(request, who)
    pending, user = found
    return gp, who, form, pending, user


def _expired(request: Request, who: Visitor) -> Response:
    page = {"expired": True, "error": EXPIRED, "next": "/account"}
    return render(request, "verify.html", who, page, status_code=400)


async def verify(request: Request) -> Response:
    checked = await _pending_form(request)
    if isinstance(checked, Response):
        return checked
    gp, who, form, pending, user = checked
    throttled = await _throttled(request, gp, who, user)
    if throttled is not None:
        return throttled
    if "recovery_code" in form:
        if await gp.mfa.use_recovery_code(user.id, form["recovery_code"]):
            left = await gp.mfa.recovery_codes_left(user.id)
            await gp.audit_event(
                request, Event.RECOVERY_CODE_USED, user=user, detail=f"{left} left"
            )
            return await _succeeded(request, gp, pending, user, "recovery code")
        error = WRONG_RECOVERY_CODE
    elif await gp.mfa.verify_totp(user.id, form.get("code", "")):
        return await _succeeded(request, gp, pending, user, "totp")
    else:
        error = WRONG_CODE
    await gp.audit_event(request, Event.MFA_FAILED, user=user)
    return await _verify_form(request, gp, who, user, error=error, status_code=400)


async def _throttled(request: Request, gp: Services, who: Visitor, user: User) -> Response | None:
    try:
        await gp.throttle.check("mfa", user.id, throttle_key(gp.address(request)))
    except Throttled as exc:
        await gp.audit_event(request, Event.MFA_THROTTLED, user=user)
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        headers = {"Retry-After": str(exc.retry_after_seconds)}
        return await _verify_form(
            request, gp, who, user, error=message, status_code=429, headers=headers
        )
    return None


async def _succeeded(
    request: Request, gp: Services, pending: PendingSignIn, user: User, method: str
) -> Response:
    await gp.throttle.succeeded("mfa", user.id)
    await gp.audit_event(request, Event.MFA_SUCCEEDED, user=user, detail=method)
    return await complete_second_factor(request, gp, pending, OTP_AMR)


async def enrol_page(request: Request) -> Response:
    gp, who = services(request), await visitor(request)
    found = await pending_sign_in(request, gp)
    if found is None:
        return _expired(request, who)
    pending, user = found
    if not pending.enrol or await gp.mfa.has_factor(user.id):
        return redirect(VERIFY_PATH)
    return await render_setup(request, gp, who, user, action=ENROL_PATH)


async def enrol(request: Request) -> Response:
    checked = await _pending_form(request)
    if isinstance(checked, Response):
        return checked
    gp, who, form, pending, user = checked
    if not pending.enrol or await gp.mfa.has_factor(user.id):
        return redirect(VERIFY_PATH)
    setup = functools.partial(render_setup, request, gp, who, user, action=ENROL_PATH)
    try:
        await gp.throttle.check("mfa", user.id, throttle_key(gp.address(request)))
    except Throttled as exc:
        await gp.audit_event(request, Event.MFA_THROTTLED, user=user, detail="totp enrolment")
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        return await setup(error=message, status_code=429, retry_after=exc.retry_after_seconds)
    if not await gp.mfa.confirm_totp(user.id, form.get("code", "")):
        return await setup(error=WRONG_CODE, status_code=400)
    await gp.throttle.succeeded("mfa", user.id)
    await gp.audit_event(request, Event.TOTP_ENROLLED, user=user, detail="at sign-in")
    await gp.audit_event(request, Event.MFA_SUCCEEDED, user=user, detail="totp enrolment")
    codes = await recovery_codes_page(request, gp, who, user, pending.next)
    return await complete_second_factor(request, gp, pending, OTP_AMR, response=codes)


routes = [
    Route(VERIFY_PATH, verify_page, methods=["GET"]),
    Route(VERIFY_PATH, verify, methods=["POST"]),
    Route(ENROL_PATH, enrol_page, methods=["GET"]),
    Route(ENROL_PATH, enrol, methods=["POST"]),
]
