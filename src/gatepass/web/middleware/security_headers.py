"""Response headers every page gets: CSP, framing, referrer, sniffing, caching, HSTS."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No third-party resources, no inline script (our own files only: the passkey script and
# its fetches to us), forms only to ourselves, never framed
# (RFC 9700 §4.16 clickjacking; §4.2.4 no Referer leaks from the authorization pages).
# Referrer-Policy is `same-origin`, not `no-referrer`: under `no-referrer` browsers send
# `Origin: null` even on same-origin form posts, which the CSRF origin check must refuse.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    """What every answer carries (the static documents add them themselves)."""
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"x-content-type-options", b"nosniff"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self._headers = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self._headers if n not in present]
                if b"cache-control" not in present:
                    # Pages show account data; nothing here is worth a stale copy.
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
