"""The loopback redirect receiver of a native app (RFC 8252 §7.3).

The app binds 127.0.0.1 on a port the system picks at run time (§8.3: the IP literal,
not "localhost", which a resolver or firewall could send elsewhere), registers nothing
per port (gatepass lets a loopback redirect URI's port vary), and serves exactly one
thing: the redirect to /callback that carries this sign-in's `state`. Anything else gets
a 404 or 400 and the wait goes on, until the deadline.
"""

import hmac
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH = "/callback"
DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Signed in</title>"
    b"<p>You are signed in to the notes app. You can close this window.</p>"
)


class RedirectFailed(Exception):
    """No usable redirect arrived: the user refused, the provider said why, or time ran out."""


class _Server(HTTPServer):
    expected_state = ""
    issuer = ""
    result: dict[str, str] | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # seconds a connection may take to send its request: no hanging the wait

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != CALLBACK_PATH:
            self._answer(404, b"Not found.")
            return
        params = {k: v[0] for k, v in parse_qs(url.query).items() if len(v) == 1}
        # RFC 6749 §10.12: a redirect without this sign-in's state is not its answer
        # (a forged or stale request); it is refused and the real one still awaited.
        if not hmac.compare_digest(params.get("state", ""), self.server.expected_state):
            self._answer(400, b"This is not the sign-in this app started.")
            return
        self.server.result = params
        self._answer(200, DONE_PAGE)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the query holds the authorization code, which belongs in no log."""


class LoopbackReceiver:
    """`with LoopbackReceiver() as r: ... r.wait_for_code(state, issuer, seconds)`."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)  # port 0: the system picks
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_port}{CALLBACK_PATH}"

    def __enter__(self) -> "LoopbackReceiver":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.server_close()

    def wait_for_code(self, state: str, issuer: str, seconds: float) -> str:
        """The authorization code of the redirect that carries `state`."""
        self._server.expected_state = state
        deadline = time.monotonic() + seconds
        while self._server.result is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RedirectFailed(f"no redirect within {seconds:.0f} s")
            self._server.timeout = left
            self._server.handle_request()
        return _code_of(self._server.result, issuer)


def _code_of(params: dict[str, str], issuer: str) -> str:
    # RFC 9207 §2.4: when the provider names itself, it must be the one the app asked.
    if "iss" in params and params["iss"] != issuer:
        raise RedirectFailed("the redirect came from another issuer (mix-up)")
    if "error" in params:
        raise RedirectFailed(f"sign-in refused: {params['error']}")
    if not params.get("code"):
        raise RedirectFailed("the redirect carries no code")
    return params["code"]
