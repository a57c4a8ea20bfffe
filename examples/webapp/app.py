"""A server-rendered web app that signs people in through gatepass, then keeps its own session.

    GET  /          "Signed in as <name>", or a "Sign in with gatepass" button
    GET  /login     starts OpenID Connect: code + PKCE S256, state, nonce (a Lax cookie)
    GET  /callback  checks state and iss, redeems the code, verifies the id token, asks
                    /userinfo, starts this app's session (a Strict cookie)
    POST /logout    (CSRF token) ends this app's session, then RP-initiated logout at gatepass

The app's session is checked on every request against gatepass's revocation feed (the
HTTP stream, read with this app's own client credentials): "log out everywhere", a
logout at gatepass, or an operator ending the gatepass session that signed the user in
ends this session too, within moments.

Configuration (environment): GATEPASS_ISSUER (default http://127.0.0.1:8000),
WEBAPP_CLIENT_ID and WEBAPP_CLIENT_SECRET (required), PORT (default 8010), WEBAPP_URL
(this app's address as the browser sees it, default http://127.0.0.1:$PORT).
"""

import asyncio
import contextlib
import logging
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from oidc_client import ClientSettings, Provider, SignedIn, SignInFailed, pkce_pair
from session_store import AppSession, ExpiringRecords, PendingLogin
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatepass.resource import HttpRevocationFeed, RevocationSet, TokenFacts, Verdict

log = logging.getLogger("webapp")

SESSION_COOKIE = "webapp_session"
LOGIN_COOKIE = "webapp_login"  # the pending sign-in: state, nonce, PKCE verifier
LOGOUT_COOKIE = "webapp_logout"  # the state sent with RP-initiated logout
SESSION_IDLE_SECONDS = 30 * 60
SESSION_ABSOLUTE_SECONDS = 8 * 3600
LOGIN_SECONDS = 10 * 60  # to finish signing in at gatepass
MAX_SESSIONS = 100_000
MAX_PENDING_LOGINS = 10_000
SWEEP_SECONDS = 5.0  # how often ended and revoked sessions are dropped unasked
FEED_READY_SECONDS = 10.0
MAX_FORM_BYTES = 4096
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    app_url: str  # scheme://host:port, no trailing slash

    @property
    def https(self) -> bool:
        return self.app_url.startswith("https://")

    @classmethod
    def from_environment(cls) -> "Config":
        port = os.environ.get("PORT", "8010")
        missing = [n for n in ("WEBAPP_CLIENT_ID", "WEBAPP_CLIENT_SECRET") if not os.environ.get(n)]
        if missing:
            sys.exit(f"webapp: set {' and '.join(missing)} (see examples/webapp/README.md)")
        return cls(
            issuer=os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8000").rstrip("/"),
            client_id=os.environ["WEBAPP_CLIENT_ID"],
            client_secret=os.environ["WEBAPP_CLIENT_SECRET"],
            app_url=os.environ.get("WEBAPP_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        )


class WebApp:
    """The app's state: gatepass as provider, the sessions, the live revocation set."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        self.provider = Provider(
            ClientSettings(
                config.issuer, config.client_id, config.client_secret, config.app_url + "/callback"
            ),
            self.http,
        )
        self.sessions: ExpiringRecords[AppSession] = ExpiringRecords(
            SESSION_IDLE_SECONDS, SESSION_ABSOLUTE_SECONDS, MAX_SESSIONS
        )
        self.pending: ExpiringRecords[PendingLogin] = ExpiringRecords(
            LOGIN_SECONDS, LOGIN_SECONDS, MAX_PENDING_LOGINS
        )
        self.revocations = RevocationSet()
        self.feed = HttpRevocationFeed(
            config.issuer, config.client_id, config.client_secret, self.revocations
        )

    def verdict(self, key: str, session: AppSession) -> Verdict:
        """The session as the revocation feed sees it: as a token issued to `sub` at login
        time in gatepass session `sid`. A subject's not-before ("log out everywhere")
        kills sessions that began before it; a session event kills those of that `sid`.
        Login time is this app's clock against gatepass's not-before: keep the clocks in
        step (NTP), as for any token's `iat`."""
        facts = TokenFacts(jti=key, sub=session.sub, iat=session.login_at, sid=session.sid)
        return self.revocations.verdict(facts, time.time())

    def current(self, request: Request) -> tuple[AppSession | None, Verdict]:
        """The signed-in session of this request, if any. A revoked one is deleted."""
        found = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if found is None:
            return None, Verdict.ACCEPT
        key, session = found
        verdict = self.verdict(key, session)
        if verdict is Verdict.REVOKED:
            self.sessions.delete(key)
            log.info("session of %s ended by gatepass's revocation feed", session.sub)
            return None, verdict
        return (session if verdict is Verdict.ACCEPT else None), verdict

    def sweep(self) -> None:
        """Drop revoked sessions nobody asked for: a subject's not-before is on the feed
        only for an hour (the longest token lifetime), while a session may idle longer."""
        for key, session in self.sessions.items():
            if self.verdict(key, session) is Verdict.REVOKED:
                self.sessions.delete(key)


def webapp(request: Request) -> WebApp:
    state: WebApp = request.app.state.webapp
    return state


def page(
    request: Request, name: str, context: Mapping[str, object], status_code: int = 200
) -> Response:
    response: Response = TEMPLATES.TemplateResponse(
        request, name, dict(context), status_code=status_code
    )
    return response


# -- routes ----------------------------------------------------------------------------


async def home(request: Request) -> Response:
    app = webapp(request)
    session, verdict = app.current(request)
    logout_state = request.cookies.get(LOGOUT_COOKIE)
    returned_state = request.query_params.get("state")
    # Back from RP-initiated logout: gatepass returns the state this app sent.
    back_from_logout = bool(logout_state and returned_state) and _equal(
        logout_state or "", returned_state or ""
    )
    # Fail closed: while the feed cannot vouch for a session, it is not honoured (503).
    # The record stays: the session is usable again once the feed has caught up.
    unavailable = verdict is Verdict.FEED_UNAVAILABLE
    context = {"session": session, "back_from_logout": back_from_logout, "unavailable": unavailable}
    response = page(request, "home.html", context, status_code=503 if unavailable else 200)
    # A cookie that names no live session goes: one just revoked, and one whose record the
    # sweeper already dropped (revoked while nobody asked), or that ended otherwise.
    if session is None and not unavailable and SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE)
    if logout_state and returned_state:
        response.delete_cookie(LOGOUT_COOKIE)
    return response


async def login(request: Request) -> Response:
    app = webapp(request)
    verifier, challenge = pkce_pair()
    pending = PendingLogin(
        state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32), code_verifier=verifier
    )
    cookie_value = app.pending.add(pending)
    response = RedirectResponse(
        app.provider.authorization_url(pending.state, pending.nonce, challenge), status_code=303
    )
    # SameSite=Lax, not Strict: in production gatepass is another site, and the browser
    # comes back to /callback by a cross-site top-level redirect, on which a Strict cookie
    # is not sent; then the state could not be checked and every sign-in would fail.
    # Lax cookies do ride on top-level GET navigations. This cookie only binds the sign-in
    # to this browser (login CSRF, RFC 9700 §4.7), and is single use.
    response.set_cookie(
        LOGIN_COOKIE,
        cookie_value,
        max_age=LOGIN_SECONDS,
        path="/callback",
        httponly=True,
        samesite="lax",
        secure=app.config.https,
    )
    return response


async def callback(request: Request) -> Response:
    app = webapp(request)
    pending = app.pending.pop(request.cookies.get(LOGIN_COOKIE))
    try:
        signed_in = await _complete_sign_in(app, request, pending)
    except SignInFailed as failure:
        response = page(request, "error.html", {"message": failure.message}, failure.status)
        response.delete_cookie(LOGIN_COOKIE, path="/callback")
        return response
    claims = signed_in.claims
    session = AppSession(
        sub=claims["sub"],
        name=signed_in.name,
        email=signed_in.email,
        sid=claims["sid"] if isinstance(claims.get("sid"), str) else None,
        login_at=time.time(),
        id_token=signed_in.id_token,
        csrf_token=secrets.token_urlsafe(32),
    )
    cookie_value = app.sessions.add(session)
    # Not a redirect: this page navigates to / by itself. A navigation that a cross-site
    # page started (gatepass's redirect to /callback) carries no Strict cookie, redirects
    # included, so a 303 to / would arrive without the session just set. The page's own
    # navigation is same-site, so the Strict cookie comes along.
    response = page(request, "continue.html", {})
    response.delete_cookie(LOGIN_COOKIE, path="/callback")
    # The app's own session: SameSite=Strict, as the seed recommends for an app's cookie:
    # no cross-site request, not even a top-level link, ever carries it (CSRF). HttpOnly:
    # no script reads it. Secure whenever the app is served over https.
    response.set_cookie(
        SESSION_COOKIE,
        cookie_value,
        path="/",
        httponly=True,
        samesite="strict",
        secure=app.config.https,
    )
    log.info("signed in: %s", session.sub)
    return response


async def _complete_sign_in(
    app: WebApp, request: Request, pending: PendingLogin | None
) -> SignedIn:
    params = request.query_params
    if pending is None or not _equal(pending.state, params.get("state", "")):
        # RFC 6749 §10.12: an answer to no sign-in this browser started.
        raise SignInFailed("This sign-in has expired or was started elsewhere; sign in again.")
    app.provider.check_issuer(params.get("iss"))
    if "error" in params:
        if params["error"] == "access_denied":
            raise SignInFailed("You did not allow this app to sign you in.")
        raise SignInFailed("gatepass could not sign you in; please try again.")
    code = params.get("code")
    if not code:
        raise SignInFailed("The sign-in answer has no code.")
    try:
        return await app.provider.sign_in(code, pending.nonce, pending.code_verifier)
    except httpx.HTTPError as exc:
        log.warning("gatepass unreachable during sign-in: %s", type(exc).__name__)
        raise SignInFailed("gatepass cannot be reached; please try again.", 502) from None


async def logout(request: Request) -> Response:
    app = webapp(request)
    form = await _small_form(request)
    if form is None or not _same_origin(request, app.config.app_url):
        return page(request, "error.html", {"message": "This form cannot be sent."}, 403)
    found = app.sessions.get(request.cookies.get(SESSION_COOKIE))
    if found is None:  # already signed out (expired, revoked): nothing to end
        return _signed_out_redirect("/")
    key, session = found
    if not _equal(session.csrf_token, form.get("csrf_token", "")):
        return page(request, "error.html", {"message": "This form has expired."}, 403)
    app.sessions.delete(key)  # this app's session ends now, whatever gatepass answers
    state = secrets.token_urlsafe(16)
    response = _signed_out_redirect(
        app.provider.end_session_url(session.id_token, app.config.app_url + "/", state)
    )
    # Lax: gatepass sends the browser back by a cross-site navigation (see /login).
    response.set_cookie(
        LOGOUT_COOKIE,
        state,
        max_age=LOGIN_SECONDS,
        httponly=True,
        samesite="lax",
        secure=app.config.https,
    )
    return response


def _equal(expected: str, given: str) -> bool:
    """Constant-time, and safe for any text a browser sends (compare_digest refuses
    non-ASCII str)."""
    return secrets.compare_digest(expected.encode(), given.encode())


def _signed_out_redirect(url: str) -> Response:
    response = RedirectResponse(url, status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def _small_form(request: Request) -> dict[str, str] | None:
    """The urlencoded body, or None if it is anything else or too large."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), max_num_fields=8))
    except (UnicodeDecodeError, ValueError):
        return None


def _same_origin(request: Request, app_url: str) -> bool:
    """OWASP CSRF cheat sheet: a state-changing request's Origin, when sent, is ours."""
    origin = request.headers.get("origin")
    ours = urlsplit(app_url)
    return origin is None or origin == f"{ours.scheme}://{ours.netloc}"


# -- the application -------------------------------------------------------------------


class SecurityHeaders:
    """Pages that name a person are not cached or framed, and no other site gets a
    Referer (the /callback URL holds the authorization code)."""

    def __init__(self, app: ASGIApp, issuer: str) -> None:
        self.app = app
        issuer_origin = "{0.scheme}://{0.netloc}".format(urlsplit(issuer))
        # Chrome applies form-action to the redirect that answers a POST: /logout's
        # redirect to gatepass's end_session_endpoint must be allowed.
        self.policy = (
            "default-src 'none'; form-action 'self' "
            f"{issuer_origin}; frame-ancestors 'none'; base-uri 'none'"
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] += [
                    (b"content-security-policy", self.policy),
                    (b"cache-control", b"no-store"),
                    # Not no-referrer: with it, Chrome sends `Origin: null` on this app's
                    # own form posts, which the CSRF check would refuse.
                    (b"referrer-policy", b"same-origin"),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(config: Config) -> Starlette:
    state = WebApp(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.provider.discover()
        await state.feed.start()
        if not await state.feed.wait_ready(FEED_READY_SECONDS):
            log.warning("gatepass's revocation feed has not caught up yet")
        sweeper = asyncio.create_task(_sweep_forever(state))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await state.feed.aclose()
            await state.http.aclose()

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/login", login, methods=["GET"]),
            Route("/callback", callback, methods=["GET"]),
            Route("/logout", logout, methods=["POST"]),
        ],
        middleware=[Middleware(SecurityHeaders, issuer=config.issuer)],
        lifespan=lifespan,
    )
    app.state.webapp = state
    return app


async def _sweep_forever(state: WebApp) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        state.sweep()


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    config = Config.from_environment()
    port = int(os.environ.get("PORT", "8010"))
    # No access log: /callback's query holds the authorization code.
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, access_log=False)
