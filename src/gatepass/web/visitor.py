"""The visitor behind a request: their session (if any) and their CSRF key.

Resolved once per request and cached on `request.state`, so a page costs one
session check whatever it renders.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from gatepass.accounts.model import User
from gatepass.crypto.secrets import looks_like_secret, new_secret, same
from gatepass.sessions.manager import StartedSession, csrf_token_for
from gatepass.sessions.model import Session
from gatepass.web.errors import Forbidden
from gatepass.web.state import Services, services


@dataclass
class Visitor:
    session: Session | None
    user: User | None
    secret: str | None  # the session cookie value, when it names a live session
    csrf_key: str  # session secret, or the anonymous visitor's CSRF cookie
    new_csrf_cookie: bool  # the anonymous CSRF cookie must be set on the response

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.csrf_key)

    @property
    def member(self) -> "Member | None":
        """The signed-in view of this visitor, or None when anonymous."""
        if self.user is None or self.session is None or self.secret is None:
            return None
        return Member(self.user, self.session, self.secret)


@dataclass(frozen=True)
class Member:
    """A visitor with a live session: every field present."""

    user: User
    session: Session
    secret: str


async def visitor(request: Request) -> Visitor:
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    gp = services(request)
    secret = request.cookies.get(gp.cookies.session_name, "")
    session = await gp.sessions.resume(secret) if secret else None
    user = await gp.accounts.get(session.user_id) if session else None
    if session is not None and (user is None or user.disabled):
        await gp.sessions.end(secret)
        session, user = None, None
    if session is not None:
        found = Visitor(session, user, secret, secret, new_csrf_cookie=False)
    else:
        anon = request.cookies.get(gp.cookies.csrf_name, "")
        fresh = not looks_like_secret(anon)
        found = Visitor(None, None, None, new_secret() if fresh else anon, new_csrf_cookie=fresh)
    request.state.visitor = found
    return found


def check_csrf(request: Request, form: dict[str, str], who: Visitor) -> None:
    """OWASP CSRF defence in depth: same origin *and* a token bound to the session."""
    gp = services(request)
    expected_origin = _origin(gp.settings.issuer)
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    if origin is not None and origin != expected_origin:
        raise Forbidden("This form was sent from another site.")
    if origin is None and referer and _origin(referer) != expected_origin:
        raise Forbidden("This form was sent from another site.")
    if not same(form.get("csrf_token", ""), who.csrf_token):
        raise Forbidden("The form has expired or was not sent from this site. Please try again.")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def set_session_cookie(response: Response, gp: Services, started: StartedSession) -> None:
    response.set_cookie(
        gp.cookies.session_name,
        started.secret,
        path="/",
        secure=gp.cookies.secure,
        httponly=True,
        samesite=gp.cookies.same_site,
    )


def clear_session_cookie(response: Response, gp: Services) -> None:
    response.delete_cookie(
        gp.cookies.session_name,
        path="/",
        secure=gp.cookies.secure,
        httponly=True,
        samesite=gp.cookies.same_site,
    )


def attach_csrf_cookie(response: Response, gp: Services, who: Visitor) -> None:
    if who.new_csrf_cookie:
        response.set_cookie(
            gp.cookies.csrf_name,
            who.csrf_key,
            path="/",
            secure=gp.cookies.secure,
            httponly=True,
            samesite=gp.cookies.same_site,
        )
