"""Rendering pages: every form gets the visitor's CSRF token, and its cookie when new."""

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatepass.web.forms import parse_form
from gatepass.web.state import Services, services
from gatepass.web.visitor import (
    Member,
    Visitor,
    attach_csrf_cookie,
    check_csrf,
    clear_session_cookie,
    visitor,
)


def render(
    request: Request,
    template: str,
    who: Visitor,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    gp = services(request)
    page = {"visitor": who, "user": who.user, "csrf_token": who.csrf_token, **(context or {})}
    response = gp.templates.TemplateResponse(
        request, template, page, status_code=status_code, headers=headers
    )
    attach_csrf_cookie(response, gp, who)
    return response


def redirect(location: str) -> RedirectResponse:
    # RFC 9700 §4.12: 303 so a POST that carried credentials is never replayed (never 307).
    return RedirectResponse(location, status_code=303)


def to_login(gp: Services) -> Response:
    """Back to the login page with the session cookie cleared."""
    response = redirect("/login")
    clear_session_cookie(response, gp)
    return response


# Room for an /authorize request carrying long state, nonce and login_hint values (2000
# characters each at most), escaped; well inside the 16 KiB header limit (middleware/limits).
MAX_NEXT_LENGTH = 8192


def safe_next(value: str | None, default: str = "/account") -> str:
    """Only same-site paths: `/x` yes; `//evil`, `/\\evil`, `https://evil` no (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 for ch in value) or len(value) > MAX_NEXT_LENGTH:
        return default
    return value


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


async def signed_in_form(request: Request) -> tuple[Visitor, Member, dict[str, str]] | Response:
    """An account-page form: parsed, CSRF-checked, from a signed-in visitor; else the
    way to the login page (answer it as it is)."""
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    member = who.member
    if member is None:
        return redirect(login_url("/account"))
    return who, member, form
