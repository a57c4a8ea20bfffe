"""A passkey as the second factor of a waiting sign-in (web/second_factor.py).

    POST /login/verify/passkey/options   JSON: request options naming the user's passkeys
    POST /login/verify/passkey           JSON {credential}: verify, then the session
    POST /login/enrol/passkey/options    JSON: creation options (MFA required, no factor)
    POST /login/enrol/passkey            JSON {name, credential}: keep it, then the session

Throttled with the other second factors (scope "mfa", per account and address), so
switching factor buys no extra guesses; audited as MFA_SUCCEEDED / MFA_FAILED. Enrolling
at sign-in, like TOTP's, counts as the second factor: the new passkey proved presence.
"""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.mfa.passkeys import Ceremony
from gatepass.mfa.webauthn_input import PasskeyRefused
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.json_api import ApiError, json_endpoint, parse_json, text_field
from gatepass.web.passkey_ceremony import held, hold, let_go
from gatepass.web.second_factor import (
    ENROL_PATH,
    EXPIRED,
    VERIFY_PATH,
    PendingSignIn,
    complete_second_factor,
    pending_sign_in,
)
from gatepass.web.state import Services, services
from gatepass.web.visitor import visitor

NOT_VERIFIED = "This passkey could not confirm it is you."


async def _pending(
    request: Request, *, enrol: bool = False
) -> tuple[Services, PendingSignIn, User, dict[str, object]]:
    """The waiting sign-in, at the step it is at: proving a factor, or enrolling one."""
    gp = services(request)
    body = await parse_json(request, await visitor(request))
    found = await pending_sign_in(request, gp)
    if found is None:
        raise ApiError(400, "expired", EXPIRED, redirect="/login")
    pending, user = found
    if pending.enrol != enrol or (enrol and await gp.mfa.has_factor(user.id)):
        raise ApiError(400, "expired", EXPIRED, redirect=VERIFY_PATH if enrol else ENROL_PATH)
    return gp, pending, user, body


async def _throttle(request: Request, gp: Services, user: User) -> None:
    try:
        await gp.throttle.check("mfa", user.id, throttle_key(gp.address(request)))
    except Throttled:
        await gp.audit_event(request, Event.MFA_THROTTLED, user=user, detail="passkey")
        raise


@json_endpoint
async def options(request: Request) -> Response:
    gp, _, user, _ = await _pending(request)
    found, challenge = await gp.passkeys.second_factor_options(user.id)
    response = JSONResponse(found)
    hold(response, gp, challenge)
    return response


@json_endpoint
async def verify(request: Request) -> Response:
    gp, pending, user, body = await _pending(request)
    challenge = held(request, gp, Ceremony.SECOND_FACTOR)
    await _throttle(request, gp, user)
    try:
        asserted = await gp.passkeys.second_factor(challenge, user.id, body.get("credential"))
    except PasskeyRefused as exc:
        await gp.audit_event(request, Event.MFA_FAILED, user=user, detail="passkey")
        raise ApiError(400, "refused", NOT_VERIFIED) from exc
    await gp.throttle.succeeded("mfa", user.id)
    await gp.audit_event(request, Event.MFA_SUCCEEDED, user=user, detail="passkey")
    answer = JSONResponse({"redirect": pending.next})
    let_go(answer, gp, Ceremony.SECOND_FACTOR)
    return await complete_second_factor(request, gp, pending, (asserted.key_amr,), response=answer)


@json_endpoint
async def enrol_options(request: Request) -> Response:
    gp, _, user, _ = await _pending(request, enrol=True)
    found, challenge = await gp.passkeys.registration_options(user.id, user.email, user.name)
    response = JSONResponse(found)
    hold(response, gp, challenge)
    return response


@json_endpoint
async def enrol(request: Request) -> Response:
    gp, pending, user, body = await _pending(request, enrol=True)
    name = text_field(body, "name", 1000)
    challenge = held(request, gp, Ceremony.REGISTER)
    await _throttle(request, gp, user)
    passkey = await gp.passkeys.register(challenge, user.id, name, body.get("credential"))
    await gp.throttle.succeeded("mfa", user.id)
    await gp.audit_event(request, Event.PASSKEY_ADDED, user=user, detail=passkey.name)
    await gp.audit_event(request, Event.MFA_SUCCEEDED, user=user, detail="passkey enrolment")
    answer = JSONResponse({"redirect": pending.next})
    let_go(answer, gp, Ceremony.REGISTER)
    key_amr = "swk" if passkey.backed_up else "hwk"
    return await complete_second_factor(request, gp, pending, (key_amr,), response=answer)


routes = [
    Route("/login/verify/passkey/options", options, methods=["POST"]),
    Route("/login/verify/passkey", verify, methods=["POST"]),
    Route("/login/enrol/passkey/options", enrol_options, methods=["POST"]),
    Route("/login/enrol/passkey", enrol, methods=["POST"]),
]
