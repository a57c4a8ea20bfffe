"""Passkeys on the account page and passwordless sign-in (mfa/passkeys.py; docs/mfa.md).

    POST /account/passkeys/options   JSON: creation options (signed in, recent sign-in)
    POST /account/passkeys           JSON {name, credential}: verify and keep the passkey
    POST /account/passkeys/remove    form {credential_id}: remove one (recent sign-in)
    POST /login/passkey/options      JSON: request options for a discoverable passkey
    POST /login/passkey              JSON {credential, next}: verify, start the session

The JSON endpoints answer `{"redirect": ...}` on success and `{"error", "message"}`
with a 4xx status otherwise (web/json_api.py); web/static/passkeys.js drives them.
"""

import hashlib
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.mfa.passkeys import Ceremony
from gatepass.mfa.webauthn_input import PasskeyRefused
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.json_api import ApiError, json_endpoint, parse_json, text_field
from gatepass.web.pages import MAX_NEXT_LENGTH, login_url, redirect, safe_next, signed_in_form
from gatepass.web.passkey_ceremony import held, hold, let_go
from gatepass.web.recent_auth import confirm_url, is_recent, require_recent_auth
from gatepass.web.second_factor import start_session
from gatepass.web.state import Services, services
from gatepass.web.visitor import Member, visitor

NOTICES = {
    "passkey-added": "The passkey was added.",
    "passkey-removed": "The passkey was removed.",
    "passkey-not-found": "That passkey had already been removed.",
    "passkey-kept": "Two-step sign-in is required here: add another factor before removing "
    "your last passkey.",
}
SIGN_IN_FAILED = "This passkey cannot sign in here."
MAX_CREDENTIAL_ID_CHARS = 1400  # the column's width
log = logging.getLogger("gatepass.web")


async def _member_for_change(request: Request) -> tuple[Services, Member, dict[str, object]]:
    """A signed-in member's JSON request, within the recent-sign-in window (ASVS 7.5.1)."""
    gp = services(request)
    who = await visitor(request)
    body = await parse_json(request, who)
    member = who.member
    if member is None:
        raise ApiError(401, "login_required", "Please sign in.", redirect=login_url("/account"))
    if not is_recent(gp, member.session):
        message = "Please confirm it is you first."
        raise ApiError(403, "reauthenticate", message, redirect=confirm_url("/account"))
    return gp, member, body


@json_endpoint
async def registration_options(request: Request) -> Response:
    gp, member, _ = await _member_for_change(request)
    user = member.user
    options, challenge = await gp.passkeys.registration_options(user.id, user.email, user.name)
    response = JSONResponse(options)
    hold(response, gp, challenge)
    return response


@json_endpoint
async def register(request: Request) -> Response:
    gp, member, body = await _member_for_change(request)
    name = text_field(body, "name", 1000)
    challenge = held(request, gp, Ceremony.REGISTER)
    passkey = await gp.passkeys.register(challenge, member.user.id, name, body.get("credential"))
    await gp.audit_event(request, Event.PASSKEY_ADDED, user=member.user, detail=passkey.name)
    response = JSONResponse({"redirect": "/account?notice=passkey-added"})
    let_go(response, gp, Ceremony.REGISTER)
    return response


async def remove(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, form = checked
    confirm_first = require_recent_auth(gp, member.session, "/account")
    if confirm_first is not None:
        return confirm_first
    credential_id = form.get("credential_id", "")[:MAX_CREDENTIAL_ID_CHARS]
    mine = {p.credential_id: p for p in await gp.passkeys.for_user(member.user.id)}
    # With MFA required, the last second factor stays (as TOTP's does: mfa_account.py).
    last = set(mine) == {credential_id} and not await gp.mfa.totp_enrolled(member.user.id)
    if gp.settings.mfa_required and last:
        return redirect("/account?notice=passkey-kept#passkeys")
    if not await gp.passkeys.remove(member.user.id, credential_id):
        return redirect("/account?notice=passkey-not-found")
    name = mine[credential_id].name if credential_id in mine else None
    await gp.audit_event(request, Event.PASSKEY_REMOVED, user=member.user, detail=name)
    return redirect("/account?notice=passkey-removed")


@json_endpoint
async def sign_in_options(request: Request) -> Response:
    gp = services(request)
    await parse_json(request, await visitor(request))
    options, challenge = await gp.passkeys.sign_in_options()
    response = JSONResponse(options)
    hold(response, gp, challenge)
    return response


@json_endpoint
async def sign_in(request: Request) -> Response:
    """A passwordless sign-in: throttled per address and per credential, refused for a
    disabled account, audited either way."""
    gp = services(request)
    who = await visitor(request)
    body = await parse_json(request, who)
    next_path = safe_next(text_field(body, "next", MAX_NEXT_LENGTH, "/account"))
    challenge = held(request, gp, Ceremony.SIGN_IN)
    credential = body.get("credential")
    # The throttle's account key: the credential named (nothing is known before verifying).
    named = gp.passkeys.credential_id_of(credential)
    account_key = "passkey:" + hashlib.sha256(named.encode()).hexdigest()
    address = throttle_key(gp.address(request))
    try:
        await gp.throttle.check("login", account_key, address)
    except Throttled:
        await gp.audit_event(request, Event.LOGIN_THROTTLED, detail="passkey")
        raise
    try:
        asserted = await gp.passkeys.sign_in(challenge, credential)
    except PasskeyRefused as exc:
        # The reason goes to the log only: some of it is the client's own text.
        log.info("passkey sign-in refused: %s (%s)", exc.message, exc.debug[:200])
        await gp.audit_event(request, Event.LOGIN_FAILED, detail="passkey")
        raise ApiError(400, "refused", SIGN_IN_FAILED) from None
    user = await gp.accounts.get(asserted.passkey.user_id)
    if user is None or user.disabled:
        await gp.audit_event(request, Event.LOGIN_FAILED, user=user, detail="passkey: disabled")
        raise ApiError(400, "refused", SIGN_IN_FAILED)
    await gp.throttle.succeeded("login", account_key)
    answer = JSONResponse({"redirect": next_path})
    let_go(answer, gp, Ceremony.SIGN_IN)
    # User verification made the passkey multi-factor by itself: no second step.
    return await start_session(
        request, gp, who, user.id, asserted.amr, None, next_path,
        Event.LOGIN_SUCCEEDED, "passkey", response=answer,
    )  # fmt: skip


routes = [
    Route("/account/passkeys/options", registration_options, methods=["POST"]),
    Route("/account/passkeys", register, methods=["POST"]),
    Route("/account/passkeys/remove", remove, methods=["POST"]),
    Route("/login/passkey/options", sign_in_options, methods=["POST"]),
    Route("/login/passkey", sign_in, methods=["POST"]),
]
