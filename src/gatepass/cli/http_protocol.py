"""The HTTP/1.1 protocol `gatepass serve` runs uvicorn with: uvicorn's httptools protocol,
with a response's head and body sent in one write.

uvicorn writes a response's head when the app sends `http.response.start` and its body
when the app sends `http.response.body`: two sends, so two TCP segments, and on loopback
or a LAN two wake-ups of the reader, for every answer. Measured on loopback, that second
send cost a `/token` answer about 8% more of the server's CPU, a `/jwks.json` answer
about 9% (docs/benchmarks.md).

`_OneSendPerTick` holds a write until the next write or the end of the event loop's
current turn, whichever comes first. Starlette sends a whole response's head and body
in one turn, so they leave together; a streamed response (the revocation feed) sends
its head at the end of its first turn and each event as it comes. Order is kept: what
is held always goes out before anything written after it, and before the connection
is closed.

Answers written by the protocol itself: an app may offer `answer_at_once(method, path)`
(web/app.py: the provider metadata and the JWKS). For a plain HTTP/1.1 keep-alive GET or
HEAD of such a path, while no earlier request on the connection is still being
answered, the protocol asks it and, given headers and a body, writes the 200 itself
(uvicorn's default headers first, as uvicorn would), with no task, scope or ASGI
messages: uvicorn's request cycle costs three times what such an answer does. Given
None, and for every other request, uvicorn's way runs unchanged.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

# (method, path) -> (headers, body) of a 200, or None: web/app.py's `answer_at_once`.
AnswerAtOnce = Callable[[str, str], tuple[list[tuple[bytes, bytes]], bytes] | None]
_STATUS_200: Final = b"HTTP/1.1 200 OK\r\n"
_AT_ONCE_METHODS: Final = (b"GET", b"HEAD")


class _OneSendPerTick:
    """A transport that holds a write until the next write or the end of the loop's turn."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._held = None
            self._transport.write(held + data)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def write_whole(self, data: bytes) -> None:
        """A whole answer: sent now, after anything held."""
        held = self._held
        if held is not None:
            self._held = None
            data = held + data
        self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            # Closing by now means the peer went away in the meantime (close() flushes
            # first): there is no one to send to, and a closed handle refuses writes.
            if not self._transport.is_closing():
                self._transport.write(held)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()  # a closing transport still sends what it was given
        self._transport.close()

    def abort(self) -> None:
        self._held = None  # an abort drops unsent data, held or buffered
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        # get_extra_info, pause_reading, set_protocol...: the transport's own.
        return getattr(self._transport, name)


class _Answered:
    """In the place of uvicorn's request cycle once the protocol has answered itself: what
    uvicorn asks of a finished cycle later (a body or the connection's end)."""

    __slots__ = ()
    response_complete = True

    # connection_lost() sets the cycle's event to wake a request waiting for its body;
    # no request waits here.
    class message_event:
        @staticmethod
        def set() -> None:
            pass


_ANSWERED: Final[Any] = _Answered()


class OneSendPerResponse(HttpToolsProtocol):
    """uvicorn's httptools protocol over `_OneSendPerTick`, answering what the app can
    answer at once itself."""

    # path -> (the headers list the app gave, those headers as HTTP/1.1 lines): the app
    # gives the same list until a document changes, and they are the same per process.
    _header_lines: ClassVar[dict[str, tuple[list[tuple[bytes, bytes]], bytes]]] = {}

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._coalescing = _OneSendPerTick(transport, self.loop)
        coalescing: Any = self._coalescing
        super().connection_made(coalescing)
        at_once: AnswerAtOnce | None = getattr(self.app, "answer_at_once", None)
        # An access log line per request, or a root path, are uvicorn's to write and apply.
        self._at_once = None if self.access_log or self.root_path else at_once

    def on_headers_complete(self) -> None:
        if self._at_once is not None and self._answered_at_once(self._at_once):
            return
        # An answer written here armed the keep-alive timer; a request after it in the
        # same read must not be cut off by it while the app works.
        self._unset_keepalive_if_required()
        super().on_headers_complete()

    def _answered_at_once(self, at_once: AnswerAtOnce) -> bool:
        parser, cycle = self.parser, self.cycle
        method = parser.get_method()
        if (
            method not in _AT_ONCE_METHODS
            or not (cycle is None or cycle.response_complete)  # one still being answered
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()  # Connection: close: uvicorn closes after
            or parser.should_upgrade()
        ):
            return False
        path = self.url.partition(b"?")[0].decode("latin-1")
        try:
            answer = at_once(method.decode(), path)
        except Exception:  # the app's own way decides, and reports, what went wrong
            log.exception("answer_at_once failed for %s", path)
            return False
        if answer is None:
            return False
        headers, body = answer
        cached = self._header_lines.get(path)
        if cached is None or cached[0] is not headers:
            lines = b"".join(b"%s: %s\r\n" % (name, value) for name, value in headers)
            cached = self._header_lines[path] = (headers, lines)
        dated = b"".join(b"%s: %s\r\n" % pair for pair in self.server_state.default_headers)
        self.cycle = _ANSWERED  # what uvicorn asks of a finished request from here on
        self._coalescing.write_whole(
            b"".join((_STATUS_200, dated, cached[1], b"\r\n", body if method == b"GET" else b""))
        )
        self.on_response_complete()  # counted; the keep-alive timer, or the next request
        return True
