"""`/logout`: the browser's own logout and OpenID Connect RP-Initiated Logout 1.0.

    GET /logout ─── no RP parameters: the "Log out?" page (anonymous: /login)
        │ id_token_hint, client_id, post_logout_redirect_uri, state, ...
        ▼
    oidc/logout.py checks them ──bad──► 400 page: never a redirect (§3)
        │
        ├─ signed in ──► "Log out of gatepass? <client> asked to sign you out": a form
        │                (CSRF token + the checked parameters). A GET never ends a session.
        └─ anonymous ──► 303 post_logout_redirect_uri?state=..., or "You are signed out"

    POST /logout, RP parameters and neither csrf_token nor confirm: an RP's form POST (§2).
        Checked as above; signed in: the same page. Anonymous: 303 to GET /logout with the
        parameters, because the session cookie is SameSite=Lax: a cross-site POST arrives
        without it, the top-level GET after the 303 carries it.

    POST /logout with csrf_token (the header's button, or the page's form with confirm):
        CSRF token + Origin ──bad──► 403
        session record deleted, cookie cleared, audit LOGOUT, then a 303 (never 307) to
        the registered post_logout_redirect_uri with state, /logout/done, or /login.

When the hint names another user, or another session (`sid`) than this browser's, the
page says so and logging out ends only this browser's session: the session the RP
meant may be someone else's, and it is never ended without its owner.
"""

import logging
import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.audit.model import AuditEventType as Event
from gatepass.oidc.logout import (
    InvalidLogoutRequest,
    LogoutParameters,
    LogoutRequest,
    is_logout_request,
    parse_logout_parameters,
    validate_logout_request,
)
from gatepass.web.errors import BadRequest
from gatepass.web.forms import parse_form
from gatepass.web.middleware.security_headers import CONTENT_SECURITY_POLICY
from gatepass.web.pages import redirect, render, to_login
from gatepass.web.state import Services, services
from gatepass.web.visitor import Member, Visitor, check_csrf, clear_session_cookie, visitor

log = logging.getLogger("gatepass.web")

SIGNED_OUT_PATH = "/logout/done"
CONFIRM = "confirm"  # marks the confirmation form, so a POST without its token is refused
MAX_QUERY_FIELDS = 32
# A CSP source for form-action: an origin with an optional plain path, or a bare scheme.
_CSP_SOURCE = re.compile(
    r"[a-z][a-z0-9+.-]*://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~!$&()*+=:@%/-]*)?|[a-z][a-z0-9+.-]*:"
)

Params = Mapping[str, Sequence[str]]


async def logout_page(request: Request) -> Response:
    gp, who = services(request), await visitor(request)
    params = _query_params(request.url.query)
    if not is_logout_request(params):
        if who.user is None:
            return redirect("/login")
        return render(request, "logout.html", who)
    try:
        _, logout = await _read(gp, params)
    except InvalidLogoutRequest as exc:
        return _refused(request, gp, exc)
    member = who.member
    if member is None:  # nothing to end, so nothing to confirm (§2 leaves this to the OP)
        return _after_logout(gp, logout)
    return _confirmation_page(request, gp, who, member, logout)


async def logout(request: Request) -> Response:
    gp, who = services(request), await visitor(request)
    form = await parse_form(request)
    params = {name: [value] for name, value in form.items()}
    rp_logout = CONFIRM in form or is_logout_request(params)
    if rp_logout and CONFIRM not in form and "csrf_token" not in form:
        return await _from_relying_party(request, gp, who, params)
    member = who.member
    if member is not None:
        # SECURITY.md SS-17: the token and the Origin before anything else.
        check_csrf(request, form, who)
    try:
        logout = (await _read(gp, params))[1] if rp_logout else None
    except InvalidLogoutRequest as exc:
        return _refused(request, gp, exc)
    if member is not None:
        # SS-08: the server record goes, so the old cookie is anonymous from now on.
        await gp.sessions.end(member.secret)
        await gp.audit_event(request, Event.LOGOUT, user=member.user)
    # member None: already signed out (e.g. the session timed out while the page was
    # open): nothing to protect, so no CSRF check, straight on.
    return _after_logout(gp, logout)


async def signed_out_page(request: Request) -> Response:
    return render(request, "signed_out.html", await visitor(request))


async def _from_relying_party(
    request: Request, gp: Services, who: Visitor, params: Params
) -> Response:
    """An RP's form POST: confirm with the signed-in user, never end the session here."""
    try:
        parameters, logout = await _read(gp, params)
    except InvalidLogoutRequest as exc:
        return _refused(request, gp, exc)
    member = who.member
    if member is None:
        # The Lax session cookie stays behind on a cross-site POST: ask again by GET.
        return redirect("/logout?" + parameters.query())
    return _confirmation_page(request, gp, who, member, logout)


async def _read(gp: Services, params: Params) -> tuple[LogoutParameters, LogoutRequest]:
    parameters = parse_logout_parameters(params)
    logout = await validate_logout_request(
        parameters, id_tokens=gp.grants.id_tokens, find_client=gp.clients.get
    )
    return parameters, logout


def _confirmation_page(
    request: Request, gp: Services, who: Visitor, member: Member, logout: LogoutRequest
) -> Response:
    carried = logout.carried()
    context = {
        "relying_party": True,
        "client_name": logout.client.name if logout.client is not None else None,
        "someone_else": logout.names_someone_else(
            user_id=member.user.id, session_id=member.session.id
        ),
        "fields": {
            CONFIRM: "yes",
            "client_id": carried.client_id,
            "post_logout_redirect_uri": carried.post_logout_redirect_uri,
            "state": carried.state,
        },
    }
    headers = _form_action_policy(gp, logout.post_logout_redirect_uri)
    return render(request, "logout.html", who, context, headers=headers)


def _after_logout(gp: Services, logout: LogoutRequest | None) -> Response:
    """Where the browser goes once no session is left: always a 303, cookie cleared."""
    if logout is None:
        return to_login(gp)  # the browser's own logout, as it always was
    # §3: only a URI registered exactly for the identified client gets here.
    response = redirect(logout.redirect_url() or SIGNED_OUT_PATH)
    clear_session_cookie(response, gp)
    return response


def _refused(request: Request, gp: Services, exc: InvalidLogoutRequest) -> Response:
    # §3: an unverified post_logout_redirect_uri is never followed: a page, not a redirect.
    log.info("logout request refused: %s %s", exc.description, exc.debug)
    page = {
        "title": "This logout request cannot be completed",
        "message": exc.description
        + " You were not sent back to the application, and your session was not changed.",
        "user": None,
    }
    response: Response = gp.templates.TemplateResponse(request, "error.html", page, status_code=400)
    return response


def _form_action_policy(gp: Services, redirect_uri: str | None) -> dict[str, str]:
    """The form posts to /logout and nowhere else; Chrome also applies form-action to the
    redirect that answers the POST, so the registered post-logout URI is let through
    (CSP3 ignores a source's path after a redirect; its origin is what counts there)."""
    issuer = urlsplit(gp.settings.issuer)
    sources = [f"{issuer.scheme}://{issuer.netloc}/logout"]
    if redirect_uri is not None:
        source = _csp_source(redirect_uri)
        if source is not None:
            sources.append(source)
    policy = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action " + " ".join(sources)
    )
    return {"Content-Security-Policy": policy}


def _csp_source(uri: str) -> str | None:
    """The URI without its query; its origin when the path has characters CSP would
    misread (`;`, `,`, quotes); its scheme for a native app's private-use URI."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        candidates = [f"{parts.scheme}://{parts.netloc}{parts.path}"]
        candidates.append(f"{parts.scheme}://{parts.netloc}")
    else:
        candidates = [f"{parts.scheme}:"]
    return next((c for c in candidates if _CSP_SOURCE.fullmatch(c)), None)


def _query_params(query: str) -> Params:
    try:
        return parse_qs(
            query, keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The request's parameters are malformed.") from None


routes = [
    Route("/logout", logout_page, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
    Route(SIGNED_OUT_PATH, signed_out_page, methods=["GET"]),
]
