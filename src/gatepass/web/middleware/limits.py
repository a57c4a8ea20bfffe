"""Cap requests: 431 for oversized headers, 413 for oversized bodies (declared or streamed),
400 for a NUL character in the path or query (web/forms.py refuses it in form bodies):
no identifier or parameter of gatepass holds one, and PostgreSQL refuses it in text, so
it would otherwise reach a store only to fail there."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the cap."""


MAX_HEADER_BYTES = 16 * 1024  # far above any real browser's, far below a flood


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = refusal_of(scope, self.max_bytes)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        await self.app(scope, capped(receive, self.max_bytes), send)


def refusal_of(scope: Scope, max_bytes: int) -> tuple[int, bytes] | None:
    """The status and text of the refusal the request's head calls for, or None."""
    header_bytes = sum(len(name) + len(value) for name, value in scope.get("headers", []))
    if header_bytes > MAX_HEADER_BYTES:
        return 431, b"Request headers too large.\n"
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        return 400, b"The request contains a NUL character.\n"
    declared = _content_length(scope)
    if declared is not None and declared > max_bytes:
        return 413, b"Request body too large.\n"
    return None


def capped(receive: Receive, max_bytes: int) -> Receive:
    """`receive` raising BodyTooLarge once the body passes `max_bytes`, whatever the
    Content-Length said (a chunked body declares none)."""
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge()
        return message

    return capped_receive


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
