"""Login with an upstream identity provider (federation/): the redirect out, the callback,
and linking an upstream identity to a local account.

The linking rules (no silent account takeover):
- an identity linked before signs its user in;
- a new identity whose e-mail matches no account creates one, without a password, but
  only when the provider says the address is verified (else anybody could claim it);
- a new identity whose e-mail belongs to an account links to it only when the provider
  says the address is verified *and* the person then types that account's password;
- a signed-in user may link further identities from the account page (that proves
  control of both), and unlink them, but never the last way they have to sign in.

Between the redirect out and the callback, the login in flight (state, nonce, PKCE
verifier, where to go next) rides in a sealed cookie (web/sealed_cookies.py): every
process can finish a login another one started.
"""

import logging
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.crypto.secrets import same
from gatepass.errors import ValidationError
from gatepass.federation.model import (
    AlreadyLinked,
    PendingLogin,
    UpstreamError,
    UpstreamIdentity,
    UpstreamProvider,
)
from gatepass.sessions.model import FEDERATED_AMR, PASSWORD_AMR
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.errors import BadRequest
from gatepass.web.forms import parse_form
from gatepass.web.pages import login_url, redirect, render, safe_next
from gatepass.web.routes.authorize import form_action_headers
from gatepass.web.sealed_cookies import CookieTooLarge
from gatepass.web.second_factor import finish_first_factor
from gatepass.web.state import Services, services
from gatepass.web.visitor import Visitor, check_csrf, visitor

log = logging.getLogger("gatepass.federation")

IN_FLIGHT = "upstream-login"  # sealed-cookie purposes
AWAITING_PASSWORD = "upstream-link"  # noqa: S105 - a purpose, not a password
# Long enough to sign in upstream (perhaps with a second factor there), short enough
# that a forgotten tab's state is worthless.
IN_FLIGHT_SECONDS = 600
# HTTP status per failure: the person's doing or an old link (400), the provider's (502).
FAILURE_STATUS = {"access_denied": 400, "invalid_state": 400}
LOGIN_FAILED = "Incorrect password."
# The login in flight rides in a cookie (4 KiB at most in a browser); `next` may not fit.
TOO_LONG = (
    "This sign-in request is too long to take through the provider. Go back to the "
    "application and try again, or log in with your password."
)


def callback_uri(gp: Services, provider: str) -> str:
    """The redirect URI to register at the provider (`gatepass provider add` prints it)."""
    return f"{gp.settings.issuer}/login/{provider}/callback"


async def start(request: Request) -> Response:
    """GET /login/{provider}: off to the provider, with state, nonce and PKCE (S256).

    `?link=<csrf token>` starts a link for the signed-in user instead (account page): a
    GET, so that the redirect out is a navigation, not a form's (CSP form-action), with
    the CSRF token in its place."""
    gp = services(request)
    who = await visitor(request)
    provider = await _provider(request)
    next_path = safe_next(request.query_params.get("next"))
    link_user = None
    if "link" in request.query_params:
        member = who.member
        if member is None:
            return redirect(login_url("/account"))
        if not same(request.query_params["link"], who.csrf_token):
            return _failure(request, who, provider, "This link has expired. Please try again.")
        link_user, next_path = member.user.id, "/account"
    try:
        url, pending = await gp.relying_party.begin(provider, callback_uri(gp, provider.name))
    except UpstreamError as exc:
        log.warning("upstream login %s could not start: %s", provider.name, exc.debug)
        return _failure(request, who, provider, exc.message, next_path, status=502)
    state = {"pending": pending.to_json(), "next": next_path, "link_user": link_user}
    try:
        sealed = gp.cookie_box.seal(IN_FLIGHT, state, IN_FLIGHT_SECONDS)
    except CookieTooLarge:  # an /authorize request of several KiB in `next`
        return _failure(request, who, provider, TOO_LONG, status=400)
    response = RedirectResponse(url, status_code=303)
    _set_flight_cookie(response, gp, sealed)
    return response


async def callback(request: Request) -> Response:
    """GET /login/{provider}/callback: the provider sends the browser back here."""
    gp = services(request)
    who = await visitor(request)
    provider = await _provider(request)
    flight = gp.cookie_box.open(IN_FLIGHT, request.cookies.get(gp.cookies.upstream_name, ""))
    next_path = safe_next(flight.get("next") if flight else None)
    try:
        if flight is None or not isinstance(flight.get("pending"), str):
            raise UpstreamError("invalid_state", "no login in flight (cookie absent or expired)")
        pending = PendingLogin.from_json(flight["pending"])
        identity = await gp.relying_party.complete(
            provider, pending, dict(request.query_params), callback_uri(gp, provider.name)
        )
    except UpstreamError as exc:
        log.info("upstream login %s failed: %s", provider.name, exc)
        await gp.audit_event(request, Event.UPSTREAM_LOGIN_FAILED, detail=_detail(provider, exc))
        status = FAILURE_STATUS.get(exc.reason, 502)
        return _failure(request, who, provider, exc.message, next_path, status=status)
    link_user = flight.get("link_user")
    if isinstance(link_user, str):
        return await _link_signed_in_user(request, gp, who, provider, identity, link_user)
    return await _sign_in(request, gp, who, provider, identity, next_path)


async def confirm_link(request: Request) -> Response:
    """POST /login/{provider}/link: the password that proves the local account is theirs."""
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    provider = await _provider(request)
    held = gp.cookie_box.open(AWAITING_PASSWORD, request.cookies.get(gp.cookies.upstream_name, ""))
    waiting = await _awaiting(gp, held, provider)
    if waiting is None:
        message = "This sign-in has expired. Please start again."
        return _failure(request, who, provider, message, safe_next(form.get("next")))
    user, identity, next_path = waiting
    page = _link_page(provider, user, next_path)
    csp = await form_action_headers(request, next_path)
    try:
        await gp.throttle.check("login", user.email, throttle_key(gp.address(request)))
    except Throttled as exc:
        await gp.audit_event(request, Event.LOGIN_THROTTLED, email=user.email)
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        headers = {**csp, "Retry-After": str(exc.retry_after_seconds)}
        return render(
            request, "link_account.html", who, {**page, "error": message}, status_code=429,
            headers=headers,
        )  # fmt: skip
    proven = await gp.accounts.authenticate(user.email, form.get("password", ""))
    if proven is None or proven.id != user.id:
        await gp.audit_event(request, Event.LOGIN_FAILED, email=user.email)
        context = {**page, "error": LOGIN_FAILED}
        return render(request, "link_account.html", who, context, status_code=400, headers=csp)
    await gp.throttle.succeeded("login", user.email)
    try:
        await gp.identities.link(user.id, identity)
    except AlreadyLinked:
        message = f"This {provider.display_name} account is linked to another account already."
        return _failure(request, who, provider, message, next_path, status=409)
    await gp.audit_event(request, Event.IDENTITY_LINKED, user=user, detail=provider.name)
    vouched = (identity.email or "").strip().lower() == proven.email
    if identity.email_verified and vouched and not proven.email_verified:
        # The provider vouched for this very address, and the password proved the account.
        proven = await gp.lifecycle.mark_verified(proven)
        await gp.audit_event(request, Event.EMAIL_VERIFIED, user=proven, detail=provider.name)
    # Both proofs were given: the password here, the provider's sign-in just before.
    return await _start_session(
        request, gp, who, proven, provider, next_path, amr=(*PASSWORD_AMR, *FEDERATED_AMR)
    )


async def _sign_in(
    request: Request,
    gp: Services,
    who: Visitor,
    provider: UpstreamProvider,
    identity: UpstreamIdentity,
    next_path: str,
) -> Response:
    linked = await gp.identities.find(provider.name, identity.subject)
    if linked is not None:
        user = await gp.accounts.get(linked.user_id)
        if user is None or user.disabled:
            return _failure(request, who, provider, "This account is disabled.", status=403)
        await gp.identities.touch(provider.name, identity.subject)
        return await _start_session(request, gp, who, user, provider, next_path)
    name = provider.display_name
    if not identity.email:
        message = (
            f"{name} did not share an e-mail address, and an account needs one. Allow "
            f"access to your e-mail address at {name}, then try again."
        )
        return _failure(request, who, provider, message, next_path, status=403)
    if not identity.email_verified:
        message = (
            f"{name} says your e-mail address {identity.email} is not verified. Verify it "
            f"at {name}, then try again."
        )
        return _failure(request, who, provider, message, next_path, status=403)
    try:
        existing = await gp.accounts.find(identity.email)
    except ValidationError:
        message = f"{name} gave an e-mail address that gatepass cannot use."
        return _failure(request, who, provider, message, next_path, status=403)
    if existing is None:
        return await _create_account(request, gp, who, provider, identity, next_path)
    if existing.password_hash is None:
        message = (
            f"An account with the address {existing.email} exists and signs in with another "
            f"provider. Sign in with that one, then link {name} from your account page."
        )
        return _failure(request, who, provider, message, next_path, status=409)
    held = {"identity": _identity_json(identity), "user_id": existing.id, "next": next_path}
    page = _link_page(provider, existing, next_path)
    response = render(
        request,
        "link_account.html",
        who,
        page,
        headers=await form_action_headers(request, next_path),
    )
    try:
        sealed = gp.cookie_box.seal(AWAITING_PASSWORD, held, IN_FLIGHT_SECONDS)
    except CookieTooLarge:
        return _failure(request, who, provider, TOO_LONG, status=400)
    _set_flight_cookie(response, gp, sealed)
    return response


async def _create_account(
    request: Request,
    gp: Services,
    who: Visitor,
    provider: UpstreamProvider,
    identity: UpstreamIdentity,
    next_path: str,
) -> Response:
    assert identity.email is not None
    try:
        user = await gp.accounts.sign_up_without_password(
            identity.email, identity.name, email_verified=identity.email_verified
        )
    except ValidationError:  # taken a moment ago, or an address gatepass cannot use
        message = "Your account could not be created. Please try again."
        return _failure(request, who, provider, message, next_path, status=409)
    try:
        await gp.identities.link(user.id, identity)
    except BaseException:
        # Never a half-created user: one without its identity could not sign in.
        await gp.accounts.delete(user)
        raise
    await gp.audit_event(request, Event.SIGNUP, user=user)
    await gp.audit_event(request, Event.IDENTITY_LINKED, user=user, detail=provider.name)
    return await _start_session(request, gp, who, user, provider, next_path)


async def _link_signed_in_user(
    request: Request,
    gp: Services,
    who: Visitor,
    provider: UpstreamProvider,
    identity: UpstreamIdentity,
    user_id: str,
) -> Response:
    member = who.member
    if member is None or member.user.id != user_id:
        message = "You were signed out meanwhile. Sign in, then link the account again."
        return _failure(request, who, provider, message, "/account", status=400)
    linked = await gp.identities.find(provider.name, identity.subject)
    if linked is not None and linked.user_id != user_id:
        message = (
            f"This {provider.display_name} account is linked to another account already. "
            "Unlink it there first."
        )
        return _failure(request, who, provider, message, "/account", status=409)
    notice = "identity-already-linked"
    if linked is None:
        try:
            await gp.identities.link(user_id, identity)
        except AlreadyLinked:
            message = f"This {provider.display_name} account was linked elsewhere just now."
            return _failure(request, who, provider, message, "/account", status=409)
        await gp.audit_event(request, Event.IDENTITY_LINKED, user=member.user, detail=provider.name)
        notice = "identity-linked"
    response = redirect(f"/account?notice={notice}")
    _clear_flight_cookie(response, gp)
    return response


async def _start_session(
    request: Request,
    gp: Services,
    who: Visitor,
    user: User,
    provider: UpstreamProvider,
    next_path: str,
    *,
    amr: tuple[str, ...] = FEDERATED_AMR,
) -> Response:
    """A brand-new session, as after a password login (never reuse one: fixation), or
    first the second factor when one is due (web/second_factor.py)."""
    event = Event.UPSTREAM_LOGIN_SUCCEEDED
    response = await finish_first_factor(
        request, gp, who, user, event, next_path, amr=amr, idp=provider.name, detail=provider.name
    )
    _clear_flight_cookie(response, gp)
    return response


async def _provider(request: Request) -> UpstreamProvider:
    try:
        provider = await services(request).providers.get(request.path_params["provider"])
    except UpstreamError as exc:  # stored, but its secret cannot be opened (another master key)
        log.error("upstream provider %s: %s", request.path_params["provider"], exc.debug)
        raise BadRequest(exc.message, status_code=502) from None
    if provider is None:
        raise HTTPException(404)
    return provider


async def _awaiting(
    gp: Services, held: dict[str, Any] | None, provider: UpstreamProvider
) -> tuple[User, UpstreamIdentity, str] | None:
    """The account and the upstream identity waiting for that account's password, as
    the callback sealed them; None when absent, expired, or for another provider."""
    if held is None or not isinstance(held.get("identity"), dict):
        return None
    raw = held["identity"]
    try:
        identity = UpstreamIdentity(
            provider=str(raw["provider"]),
            subject=str(raw["subject"]),
            email=raw["email"],
            email_verified=bool(raw["email_verified"]),
            name=str(raw["name"]),
            amr=tuple(raw["amr"]),
        )
    except (KeyError, TypeError):
        return None
    user = await gp.accounts.get(str(held.get("user_id")))
    if identity.provider != provider.name or user is None or user.disabled:
        return None
    return user, identity, safe_next(held.get("next"))


def _failure(
    request: Request,
    who: Visitor,
    provider: UpstreamProvider,
    message: str,
    next_path: str = "/account",
    *,
    status: int = 400,
) -> Response:
    """A clear page with a way to try again; the login in flight is forgotten."""
    retry = f"/login/{provider.name}?next={quote(next_path, safe='/')}"
    context = {"provider": provider, "message": message, "retry": retry, "next": next_path}
    response = render(request, "upstream_error.html", who, context, status_code=status)
    _clear_flight_cookie(response, services(request))
    return response


def _link_page(provider: UpstreamProvider, user: User, next_path: str) -> dict[str, Any]:
    return {"provider": provider, "email": user.email, "next": next_path}


def _identity_json(identity: UpstreamIdentity) -> dict[str, Any]:
    return {
        "provider": identity.provider,
        "subject": identity.subject,
        "email": identity.email,
        "email_verified": identity.email_verified,
        "name": identity.name,
        "amr": list(identity.amr),
    }


def _detail(provider: UpstreamProvider, exc: UpstreamError) -> str:
    return f"{provider.name}: {exc.reason}"


def _set_flight_cookie(response: Response, gp: Services, value: str) -> None:
    # SameSite=Lax: the provider sends the browser back by a cross-site top-level GET.
    response.set_cookie(
        gp.cookies.upstream_name,
        value,
        max_age=IN_FLIGHT_SECONDS,
        path="/",
        secure=gp.cookies.secure,
        httponly=True,
        samesite="lax",
    )


def _clear_flight_cookie(response: Response, gp: Services) -> None:
    response.delete_cookie(
        gp.cookies.upstream_name, path="/", secure=gp.cookies.secure, httponly=True
    )


routes = [
    Route("/login/{provider}", start, methods=["GET"]),
    Route("/login/{provider}/callback", callback, methods=["GET"]),
    Route("/login/{provider}/link", confirm_link, methods=["POST"]),
]
