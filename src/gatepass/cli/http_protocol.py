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
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


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


class OneSendPerResponse(HttpToolsProtocol):
    """uvicorn's httptools protocol over `_OneSendPerTick`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing: Any = _OneSendPerTick(transport, self.loop)
        super().connection_made(coalescing)
