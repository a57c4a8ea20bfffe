"""A stand-in for GitHub's OAuth web flow and REST user endpoints, on a loopback port.

It speaks what GitHub documents ("Authorizing OAuth apps", "Troubleshooting OAuth app
access token request errors", REST "Users" and "Emails"), laid out as GitHub Enterprise
Server is (web at {base}, API at {base}/api/v3), so a relying party configured with
`issuer = base` talks to it exactly as it would to a GitHub Enterprise host:

    GET  /login/oauth/authorize      no login page: straight back to redirect_uri with
                                     code + state for the user the test chose
                                     (`standin.next_user`, or GitHub's own `login`
                                     parameter), or error=access_denied when
                                     `standin.user_cancels` is set
    POST /login/oauth/access_token   code (single use, 10 min), client credentials (form
                                     or HTTP Basic), redirect_uri, PKCE S256 verifier;
                                     JSON with `Accept: application/json`, otherwise
                                     form-encoded; errors as 200 + {"error": ...}
    GET  /api/v3/user                Authorization: Bearer|token; 401 Bad credentials
    GET  /api/v3/user/emails         needs the `user:email` (or `user`) scope, else 404

It runs under uvicorn in a background thread of the test process; the test steers it
through the `StandIn` attributes (plain assignments, read by the server thread).
"""

import base64
import hashlib
import hmac
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_TTL_SECONDS = 600  # GitHub: "codes expire after 10 minutes"
STARTUP_SECONDS = 10.0
STOP_SECONDS = 10.0
DOCS = "https://docs.github.com"
TOKEN_ERRORS = {
    "incorrect_client_credentials": (
        "The client_id and/or client_secret passed are incorrect.",
        "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
        "#incorrect-client-credentials",
    ),
    "redirect_uri_mismatch": (
        "The redirect_uri MUST match the registered callback URL for this application.",
        "/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
        "#redirect-uri-mismatch2",
    ),
    "bad_verification_code": (
        "The code passed is incorrect or expired.",
        "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
        "#bad-verification-code",
    ),
}


@dataclass(frozen=True)
class GitHubEmail:
    email: str
    primary: bool
    verified: bool
    visibility: str | None = "private"  # "public" | "private" | None, as GitHub answers


@dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str
    name: str | None
    email: str | None  # the public profile e-mail: often null on real GitHub
    emails: tuple[GitHubEmail, ...] = ()


@dataclass
class CodeGrant:
    """What an authorization code stands for, until it is redeemed or expires."""

    login: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expires_at: float


class Ledger:
    """The codes and tokens handed out so far; the server thread and the test share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, CodeGrant] = {}
        self._tokens: dict[str, tuple[str, tuple[str, ...]]] = {}

    def issue_code(self, grant: CodeGrant) -> str:
        code = secrets.token_hex(10)
        with self._lock:
            self._grants[code] = grant
        return code

    def consume_code(self, code: str) -> CodeGrant | None:
        """The code's grant, if it is known and not expired; a code works once, even
        when this first use then fails (RFC 6749 §4.1.2)."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None or grant.expires_at < time.monotonic():
            return None
        return grant

    def issue_token(self, login: str, scopes: tuple[str, ...]) -> str:
        token = "gho_" + secrets.token_urlsafe(27)
        with self._lock:
            self._tokens[token] = (login, scopes)
        return token

    def token_owner(self, token: str) -> tuple[str, tuple[str, ...]] | None:
        with self._lock:
            return self._tokens.get(token)

    def expire_codes(self) -> None:
        with self._lock:
            for grant in self._grants.values():
                grant.expires_at = 0.0

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()


@dataclass
class StandIn:
    """A running stand-in: its base URL and the knobs a test turns."""

    base_url: str
    client_id: str
    client_secret: str
    users: Mapping[str, GitHubUser]  # by login
    next_user: str | None = None  # who "signs in" at the next authorize without `login=`
    user_cancels: bool = False  # authorizations answer error=access_denied while set
    unavailable: bool = False  # token and API endpoints answer 502 (GitHub is down)
    ledger: Ledger = field(default_factory=Ledger)

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/login/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/login/oauth/access_token"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v3"

    def expire_codes(self) -> None:
        """Every code handed out so far is now past its ten minutes."""
        self.ledger.expire_codes()

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (the user revoked the app)."""
        self.ledger.revoke_tokens()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _token_answer(request: Request, values: dict[str, str]) -> Response:
    """GitHub: JSON when asked for it, otherwise application/x-www-form-urlencoded."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(values)
    return PlainTextResponse(urlencode(values), media_type="application/x-www-form-urlencoded")


def _token_error(request: Request, error: str) -> Response:
    # GitHub answers token errors with 200 and an `error` member.
    description, path = TOKEN_ERRORS[error]
    values = {"error": error, "error_description": description, "error_uri": DOCS + path}
    return _token_answer(request, values)


def _client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both halves are form-encoded before they are joined.
        return unquote_plus(client_id), unquote_plus(secret)
    return form.get("client_id", ""), form.get("client_secret", "")


def _bad_credentials() -> Response:
    body = {"message": "Bad credentials", "documentation_url": f"{DOCS}/rest", "status": "401"}
    return JSONResponse(body, status_code=401)


def _not_found() -> Response:
    body = {"message": "Not Found", "documentation_url": f"{DOCS}/rest", "status": "404"}
    return JSONResponse(body, status_code=404)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _authorize(standin: StandIn, request: Request) -> Response:
    query = request.query_params
    if query.get("client_id") != standin.client_id:
        return PlainTextResponse("Not Found", status_code=404)
    redirect_uri = query.get("redirect_uri")
    if not redirect_uri:
        return PlainTextResponse("this stand-in needs a redirect_uri", status_code=400)
    if standin.user_cancels:
        values = {
            "error": "access_denied",
            "error_description": "The user has denied your application access.",
            "error_uri": f"{DOCS}/apps/managing-oauth-apps/"
            "troubleshooting-authorization-request-errors/#access-denied",
        }
    else:
        login = query.get("login") or standin.next_user
        if login is None or login not in standin.users:
            return PlainTextResponse(f"the test chose no known user: {login!r}", status_code=400)
        challenge = query.get("code_challenge")
        if challenge is not None and query.get("code_challenge_method") != "S256":
            return PlainTextResponse("code_challenge_method must be S256", status_code=400)
        grant = CodeGrant(
            login=login,
            redirect_uri=redirect_uri,
            scopes=tuple(query.get("scope", "").replace(",", " ").split()),
            code_challenge=challenge,
            expires_at=time.monotonic() + CODE_TTL_SECONDS,
        )
        values = {"code": standin.ledger.issue_code(grant)}
    if "state" in query:
        values["state"] = query["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(values)}", status_code=302)


async def _access_token(standin: StandIn, request: Request) -> Response:
    form = await _form(request)
    client_id, secret = _client_credentials(request, form)
    if client_id != standin.client_id or not hmac.compare_digest(
        secret.encode(), standin.client_secret.encode()
    ):
        return _token_error(request, "incorrect_client_credentials")
    grant = standin.ledger.consume_code(form.get("code", ""))
    if grant is None:
        return _token_error(request, "bad_verification_code")
    if form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
        return _token_error(request, "redirect_uri_mismatch")
    # RFC 7636 §4.6: the verifier must hash to the challenge sent with the authorization.
    if grant.code_challenge is not None and not hmac.compare_digest(
        _s256(form.get("code_verifier", "")), grant.code_challenge
    ):
        return _token_error(request, "bad_verification_code")
    token = standin.ledger.issue_token(grant.login, grant.scopes)
    values = {"access_token": token, "token_type": "bearer", "scope": ",".join(grant.scopes)}
    return _token_answer(request, values)


def _caller(standin: StandIn, request: Request) -> tuple[GitHubUser, tuple[str, ...]] | None:
    """The user and scopes behind `Authorization: Bearer|token <access token>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "token"):
        return None
    found = standin.ledger.token_owner(token.strip())
    if found is None:
        return None
    return standin.users[found[0]], found[1]


def _user(standin: StandIn, request: Request) -> Response:
    if (found := _caller(standin, request)) is None:
        return _bad_credentials()
    person, scopes = found
    body = {
        "login": person.login,
        "id": person.id,
        "node_id": f"U_{person.id}",
        "type": "User",
        "site_admin": False,
        "name": person.name,
        "email": person.email,
        "html_url": f"{standin.base_url}/{person.login}",
    }
    return JSONResponse(body, headers={"X-OAuth-Scopes": ", ".join(scopes)})


def _emails(standin: StandIn, request: Request) -> Response:
    if (found := _caller(standin, request)) is None:
        return _bad_credentials()
    person, scopes = found
    # GitHub hides the endpoint (404) from a token without an e-mail scope.
    if not {"user", "user:email"} & set(scopes):
        return _not_found()
    body = [
        {"email": e.email, "primary": e.primary, "verified": e.verified, "visibility": e.visibility}
        for e in person.emails
    ]
    return JSONResponse(body, headers={"X-OAuth-Scopes": ", ".join(scopes)})


def build_app(standin: StandIn) -> Starlette:
    async def authorize(request: Request) -> Response:
        return _authorize(standin, request)

    async def access_token(request: Request) -> Response:
        if standin.unavailable:
            return PlainTextResponse("Bad Gateway", status_code=502)
        return await _access_token(standin, request)

    async def user(request: Request) -> Response:
        if standin.unavailable:
            return PlainTextResponse("Bad Gateway", status_code=502)
        return _user(standin, request)

    async def emails(request: Request) -> Response:
        if standin.unavailable:
            return PlainTextResponse("Bad Gateway", status_code=502)
        return _emails(standin, request)

    return Starlette(
        routes=[
            Route("/login/oauth/authorize", authorize, methods=["GET"]),
            Route("/login/oauth/access_token", access_token, methods=["POST"]),
            Route("/api/v3/user", user, methods=["GET"]),
            Route("/api/v3/user/emails", emails, methods=["GET"]),
        ]
    )


@contextmanager
def running(users: Iterable[GitHubUser], client_id: str, client_secret: str) -> Iterator[StandIn]:
    """Serve a stand-in for one OAuth app on a free loopback port until the block ends."""
    by_login = {user.login: user for user in users}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    standin = StandIn(f"http://127.0.0.1:{port}", client_id, client_secret, by_login)
    config = uvicorn.Config(
        build_app(standin), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the GitHub stand-in did not start")
            time.sleep(0.01)
        yield standin
    finally:
        server.should_exit = True
        thread.join(STOP_SECONDS)
        sock.close()
