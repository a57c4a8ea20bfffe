"""The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) and its consent page.

    GET /authorize ─► read_authorization_request ─ bad client/redirect_uri ─► 400 page
         │                                      └─ any other error ─► 303 to the client
         ▼                                         (error, error_description, state, iss)
    signed in, recently enough? ── no ─► prompt=none: login_required; else the login page,
         │                               which comes back here with a fresh session
         ▼
    consent remembered, or first party? ── no ─► prompt=none: consent_required; else the
         │                                      consent page ─► POST /consent allow / deny
         ▼
    303 redirect_uri?code=...&state=...&iss=...

No CORS headers are ever sent here (RFC 9700 §2.6 / OAuth 2.1 §3.1), and every redirect
is a 303 (RFC 9700 §4.12: never 307).
"""

import logging
import math
import re
from collections.abc import Mapping
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.email import normalize_email
from gatepass.audit.model import AuditEventType as Event
from gatepass.crypto.secrets import derive, same
from gatepass.errors import ValidationError
from gatepass.oauth.authorization_response import AuthorizationError, NoRedirectError
from gatepass.oauth.authorize import AuthorizationRequest, read_authorization_request
from gatepass.oauth.errors import NO_STORE, AccessDenied, ConsentRequired, LoginRequired
from gatepass.oidc.acr import MFA_AMR, wants_mfa
from gatepass.web.errors import BadRequest
from gatepass.web.forms import parse_form
from gatepass.web.middleware.security_headers import CONTENT_SECURITY_POLICY
from gatepass.web.pages import redirect, render
from gatepass.web.routes.consents import scope_words
from gatepass.web.second_factor import step_up
from gatepass.web.state import Services, services
from gatepass.web.visitor import Member, Visitor, check_csrf, visitor

log = logging.getLogger("gatepass.web")

# Carried through the login page: once the session differs from the one this mark names,
# the fresh login happened, so prompt=login and max_age do not send the browser round again.
LOGIN_MARK = "gp_login"
LOGIN_MARK_WINDOW_SECONDS = 600
# The mark's time and the session's start come from the clocks of two processes (the one
# that sent the browser to log in, the one that logged it in): as much skew as a token's
# times are allowed (docs/operations.md, "Clocks"), or the login loops on a process behind.
CLOCK_SKEW_SECONDS = 30
LOGIN_MARK_PURPOSE = "fresh-login:"
CONSENT_PURPOSE = "consent:"
_CSP_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.\-\[\]:]+|[A-Za-z][A-Za-z0-9+.-]*:")


Params = dict[str, list[str]]


async def authorize(request: Request) -> Response:
    gp = services(request)
    params = _query_params(request.url.query)
    try:
        auth = await read_authorization_request(params, gp.clients.get, issuer=gp.settings.issuer)
        return await _proceed(request, gp, auth, params)
    except NoRedirectError as exc:
        return _no_redirect_page(request, gp, exc)
    except AuthorizationError as exc:
        return _to_client(exc)


async def _proceed(
    request: Request, gp: Services, auth: AuthorizationRequest, params: Params
) -> Response:
    who = await visitor(request)
    member = who.member
    if member is None or _login_due(auth, member, params, gp.clock.now()):
        # OIDC Core §3.1.2.6: with prompt=none the AS MUST NOT show a login page.
        if "none" in auth.prompt:
            raise auth.error(LoginRequired("The user is not signed in."), issuer=gp.settings.issuer)
        return redirect(_login_location(params, member, gp.clock.now()))
    if gp.settings.require_verified_email and not member.user.email_verified:
        if "none" in auth.prompt:
            denied = AccessDenied("The user's e-mail address is not verified.")
            raise auth.error(denied, issuer=gp.settings.issuer)
        page = {"client_name": auth.client.name}
        return render(request, "verify_required.html", who, page, status_code=403)
    if _second_factor_due(gp, auth, member):
        if "none" in auth.prompt:
            raise auth.error(LoginRequired("A second factor is needed."), issuer=gp.settings.issuer)
        return await step_up(request, gp, member, "/authorize?" + request.url.query)
    covered = await gp.consents.covers(member.user.id, auth.client, auth.scopes)
    if covered and "consent" not in auth.prompt:
        return await _issue_code(gp, auth, member)
    if "none" in auth.prompt:
        raise auth.error(
            ConsentRequired("The user has not allowed this client."), issuer=gp.settings.issuer
        )
    return _consent_page(request, who, member, auth, _without_marker(request.url.query))


def _login_due(auth: AuthorizationRequest, member: Member, params: Params, now: float) -> bool:
    """OIDC Core §3.1.2.1: prompt=login, or a session older than max_age, needs a new login."""
    if not ("login" in auth.prompt or _too_old(member, auth.max_age, now)):
        return False
    return not _logged_in_since_asked(params, member, now)


def _second_factor_due(gp: Services, auth: AuthorizationRequest, member: Member) -> bool:
    """OIDC Core §3.1.2.1 acr_values, or the client's (else the server's) MFA policy, asks
    for a second factor this session has not proved (docs/mfa.md): a step-up first."""
    if MFA_AMR in member.session.amr:
        return False
    required = auth.client.require_mfa
    policy = gp.settings.mfa_required if required is None else required
    return policy or wants_mfa(auth.acr_values)


def _too_old(member: Member, max_age: int | None, now: float) -> bool:
    # OIDC Core §3.1.2.1 (errata): max_age=0 is equivalent to prompt=login; some stores
    # keep created_at to the second, so zero is never left to a comparison.
    if max_age is None:
        return False
    return max_age == 0 or now - member.session.created_at > max_age


def _logged_in_since_asked(params: Params, member: Member, now: float) -> bool:
    """True when this request carries the mark set before the login it asked for, and the
    session has changed since: that login happened (every login starts a new session).

    The mark names the time it was set and, keyed, the session of that time; a stale mark
    (beyond the window) counts for nothing, so a bookmarked URL asks again, and a made-up
    one cannot pass off a session older than itself.
    """
    values = params.get(LOGIN_MARK, [])
    asked_at, _, mac = values[0].partition(".") if len(values) == 1 else ("", "", "")
    if not asked_at.isdigit() or len(asked_at) > 12 or not mac:
        return False
    if not now - LOGIN_MARK_WINDOW_SECONDS <= int(asked_at) <= now + CLOCK_SKEW_SECONDS:
        return False
    # The session began after the mark (give or take the skew between processes' clocks)
    # and is not the one the mark was made for.
    fresh = member.session.created_at >= int(asked_at) - CLOCK_SKEW_SECONDS
    return fresh and not same(mac, _session_mark(member, asked_at))


def _session_mark(member: Member | None, asked_at: str) -> str:
    handle = member.session.id if member is not None else "anonymous"
    return derive(handle, LOGIN_MARK_PURPOSE + asked_at)[:22]


def _login_location(params: Params, member: Member | None, now: float) -> str:
    """/login, coming back to this very request marked with the session it left from."""
    query = {name: values for name, values in params.items() if name != LOGIN_MARK}
    asked_at = str(math.floor(now))
    query[LOGIN_MARK] = [f"{asked_at}.{_session_mark(member, asked_at)}"]
    back = "/authorize?" + urlencode(query, doseq=True)
    # A signed-in user sees the login form anyway (prompt=login on the login page).
    prompt = "prompt=login&" if member is not None else ""
    return f"/login?{prompt}next={quote(back, safe='/')}"


async def _issue_code(gp: Services, auth: AuthorizationRequest, member: Member) -> Response:
    # RFC 6749 §4.1.2, OIDC Core §3.1.3.6: bound to client, redirect URI, PKCE challenge,
    # nonce, user, session and the time of authentication.
    code = await gp.codes.issue(
        auth,
        user_id=member.user.id,
        session_id=member.session.id,
        auth_time=member.session.created_at,
        amr=member.session.amr,
        idp=member.session.idp,
    )
    return _see_other(auth.response_url(code, issuer=gp.settings.issuer))


def _consent_page(
    request: Request, who: Visitor, member: Member, auth: AuthorizationRequest, query: str
) -> Response:
    context = {
        "client_name": auth.client.name,
        "scopes": scope_words(auth.scopes),
        "request_query": query,
        "request_mac": _request_mac(member, query),
    }
    # Chrome holds the redirect after the form's POST to form-action: let it reach the
    # client's redirect URI (this request's, already verified) and nothing else.
    csp = _csp_allowing(auth.redirect_uri)
    return render(request, "consent.html", who, context, headers={**NO_STORE, **csp})


async def consent(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    query = form.get("request", "")
    try:
        auth = await read_authorization_request(
            _query_params(query), gp.clients.get, issuer=gp.settings.issuer
        )
        return await _decide(request, auth, form, query)
    except NoRedirectError as exc:
        return _no_redirect_page(request, gp, exc)
    except AuthorizationError as exc:
        return _to_client(exc)


async def _decide(
    request: Request, auth: AuthorizationRequest, form: Mapping[str, str], query: str
) -> Response:
    gp, who = services(request), await visitor(request)
    member = who.member
    if member is None:  # the session ended while the page was open: start again
        return redirect(_login_location(_query_params(query), None, gp.clock.now()))
    if not same(form.get("request_mac", ""), _request_mac(member, query)):
        raise BadRequest("The consent form was altered or has expired. Please try again.")
    decision = form.get("decision")
    if decision == "deny":
        # RFC 6749 §4.1.2.1: the resource owner denied the request.
        raise auth.error(AccessDenied("The user denied the request."), issuer=gp.settings.issuer)
    if decision != "allow":
        raise BadRequest("Choose Allow or Deny.")
    await gp.consents.remember(member.user.id, auth.client.client_id, auth.scopes)
    await gp.audit_event(request, Event.CONSENT_GRANTED, user=member.user)
    return await _issue_code(gp, auth, member)


def _request_mac(member: Member, query: str) -> str:
    """Binds the consent form to this session and exactly the request it shows."""
    return derive(member.secret, CONSENT_PURPOSE + query)


def _query_params(query: str) -> Params:
    try:
        return parse_qs(query, keep_blank_values=True, errors="strict", max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The request's parameters are malformed.") from None


def _without_marker(query: str) -> str:
    params = _query_params(query)
    params.pop(LOGIN_MARK, None)
    return urlencode(params, doseq=True)


def _see_other(location: str) -> Response:
    # RFC 9700 §4.12: 303, never 307; RFC 6749 §5.1 spirit: never cached.
    return Response(status_code=303, headers={**NO_STORE, "Location": location})


def _to_client(exc: AuthorizationError) -> Response:
    log.info("authorization error %s: %s", exc.error.error, exc.error.debug or exc.error)
    status, headers, _ = exc.as_response()
    return Response(status_code=status, headers=headers)


def _no_redirect_page(request: Request, gp: Services, exc: NoRedirectError) -> Response:
    # RFC 6749 §4.1.2.1: inform the user; MUST NOT redirect to an unverified URI.
    log.info("authorization refused without redirect: %s %s", exc.description, exc.debug)
    page = {
        "title": "This sign-in request cannot be completed",
        "message": exc.description
        + " The application that sent you here may be misconfigured; nothing was shared.",
        "user": None,
    }
    response: Response = gp.templates.TemplateResponse(
        request, "error.html", page, status_code=exc.status_code, headers=dict(NO_STORE)
    )
    return response


async def form_action_headers(request: Request, next_path: str) -> dict[str, str]:
    """The CSP for a page (login, sign-up) whose form returns, through `next_path`, to
    /authorize: Chrome applies form-action to every redirect after the POST, and the last
    one goes to the client's redirect URI. Only a verified redirect URI is let through."""
    path, _, query = next_path.partition("?")
    if path != "/authorize":
        return {}
    gp = services(request)
    try:
        params = _query_params(query)
        auth = await read_authorization_request(params, gp.clients.get, issuer=gp.settings.issuer)
    except AuthorizationError as exc:  # the client and redirect URI are verified
        return _csp_allowing(exc.redirect_uri)
    except (NoRedirectError, BadRequest):
        return {}
    return _csp_allowing(auth.redirect_uri)


def login_hint_of(next_path: str) -> str:
    """The e-mail address an /authorize request in `next_path` names as `login_hint` (OIDC
    Core §3.1.2.1), to prefill the login form; "" when there is none. Only a well-formed
    address is used: the hint is the client's, so it is shown, never trusted."""
    path, _, query = next_path.partition("?")
    try:
        hints = _query_params(query).get("login_hint", []) if path == "/authorize" else []
        return normalize_email(hints[0]) if len(hints) == 1 else ""
    except (BadRequest, ValidationError):
        return ""


def _csp_allowing(redirect_uri: str) -> dict[str, str]:
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https"):
        source = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    else:
        source = f"{parts.scheme}:"
    if not _CSP_SOURCE.fullmatch(source):
        return {}
    policy = CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {source}")
    return {"Content-Security-Policy": policy}


routes = [
    Route("/authorize", authorize, methods=["GET"]),
    Route("/consent", consent, methods=["POST"]),
]
