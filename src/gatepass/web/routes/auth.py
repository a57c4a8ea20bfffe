"""Sign-up and log-in pages (log-out: routes/logout.py)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.email import normalize_email
from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.errors import ValidationError
from gatepass.sessions.model import PASSWORD_AMR
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.forms import parse_form
from gatepass.web.pages import redirect, render, safe_next
from gatepass.web.routes import email_verification
from gatepass.web.routes.authorize import form_action_headers, login_hint_of
from gatepass.web.second_factor import finish_first_factor
from gatepass.web.state import Services, services
from gatepass.web.visitor import (
    Visitor,
    check_csrf,
    visitor,
)

LOGIN_FAILED = "Incorrect e-mail address or password."
LOGIN_NOTICES = {"password-reset": "Your password was changed. Log in with the new one."}


def _account_key(email: str) -> str:
    try:
        return normalize_email(email)
    except ValidationError:
        return email.strip().lower()[:254]


async def login_page(request: Request) -> Response:
    who = await visitor(request)
    next_path = safe_next(request.query_params.get("next"))
    # OIDC Core §3.1.2.1 prompt=login, max_age: /authorize asks for a fresh login even
    # of a signed-in user; logging in then replaces the session (a new session ID).
    if who.user is not None and request.query_params.get("prompt") != "login":
        return redirect(next_path)
    headers = await form_action_headers(request, next_path)
    page = {
        "next": next_path,
        "email": login_hint_of(next_path),
        "providers": await services(request).providers.list(),
        "notice": LOGIN_NOTICES.get(request.query_params.get("notice", "")),
    }
    return render(request, "login.html", who, page, headers=headers)


async def login(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    email, password = form.get("email", ""), form.get("password", "")
    next_path = safe_next(form.get("next"))
    page = {"next": next_path, "email": email[:254], "providers": await gp.providers.list()}
    # The form shown again must still be allowed to end at the client (see the GET page).
    csp = await form_action_headers(request, next_path)
    try:
        await gp.throttle.check("login", _account_key(email), throttle_key(gp.address(request)))
    except Throttled as exc:
        await gp.audit_event(request, Event.LOGIN_THROTTLED, email=_account_key(email))
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        return render(
            request,
            "login.html",
            who,
            {**page, "error": message},
            status_code=429,
            headers={**csp, "Retry-After": str(exc.retry_after_seconds)},
        )
    user = await gp.accounts.authenticate(email, password)
    if user is None:
        await gp.audit_event(request, Event.LOGIN_FAILED, email=_account_key(email))
        return render(request, "login.html", who, {**page, "error": LOGIN_FAILED}, headers=csp)
    await gp.throttle.succeeded("login", _account_key(email))
    return await _signed_in(request, gp, who, user, Event.LOGIN_SUCCEEDED, next_path)


async def _signed_in(
    request: Request,
    gp: Services,
    who: Visitor,
    user: User,
    event: Event,
    next_path: str,
) -> Response:
    """A brand-new session (never reuse one the browser brought: fixation), or first the
    second factor when one is due (web/second_factor.py)."""
    return await finish_first_factor(request, gp, who, user, event, next_path, amr=PASSWORD_AMR)


async def signup_page(request: Request) -> Response:
    who = await visitor(request)
    next_path = safe_next(request.query_params.get("next"))
    if who.user is not None:
        return redirect(next_path)
    page = {
        "next": next_path,
        "email": login_hint_of(next_path),
        "name": "",
        "providers": await services(request).providers.list(),
    }
    headers = await form_action_headers(request, next_path)
    return render(request, "signup.html", who, page, headers=headers)


async def signup(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    email, name = form.get("email", ""), form.get("name", "")
    next_path = safe_next(form.get("next"))
    page = {
        "next": next_path,
        "email": email[:254],
        "name": name[:200],
        "providers": await gp.providers.list(),
    }
    csp = await form_action_headers(request, next_path)
    address = gp.address(request)
    try:
        await gp.throttle.check("signup", _account_key(email), throttle_key(address))
        user = await gp.accounts.sign_up(email, form.get("password", ""), name)
    except Throttled as exc:
        message = f"Too many attempts. Try again in {exc.retry_after_seconds} seconds."
        return render(
            request,
            "signup.html",
            who,
            {**page, "error": message},
            status_code=429,
            headers={**csp, "Retry-After": str(exc.retry_after_seconds)},
        )
    except ValidationError as exc:
        page["error"] = exc.message
        return render(request, "signup.html", who, page, status_code=400, headers=csp)
    response = await _signed_in(request, gp, who, user, Event.SIGNUP, next_path)
    # A new address is unproven until the link mailed to it is used.
    return await email_verification.mail_verification_link(request, gp, user, response)


async def home(request: Request) -> Response:
    who = await visitor(request)
    return redirect("/account" if who.user is not None else "/login")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup, methods=["POST"]),
]
