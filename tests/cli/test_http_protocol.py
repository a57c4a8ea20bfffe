"""`gatepass serve`'s HTTP protocol (cli/http_protocol.py): one send per response, and
nothing else changed.

The transport tests run over a real loopback TCP connection; `_Counting` only notes each
send the real transport is given. The server tests run uvicorn with the protocol on a
free port and talk to it with httpx and with a raw socket.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gatepass.cli.http_protocol import OneSendPerResponse, _OneSendPerTick
from tests.cli.conftest import free_port

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


class _Counting:
    """The real transport, with the sends it was given noted."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.sends: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sends.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


@asynccontextmanager
async def _connection() -> AsyncIterator[tuple[_OneSendPerTick, _Counting, socket.socket]]:
    """A coalescing transport over a real loopback connection, and the peer's socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    peer_ready = asyncio.get_running_loop().run_in_executor(None, listener.accept)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, *listener.getsockname())
    peer, _ = await peer_ready
    listener.close()
    counting = _Counting(transport)  # type: ignore[arg-type]
    try:
        yield _OneSendPerTick(counting, loop), counting, peer  # type: ignore[arg-type]
    finally:
        transport.close()
        peer.close()


def _read_all(peer: socket.socket) -> bytes:
    peer.settimeout(5)
    chunks = []
    while chunk := peer.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_a_head_and_body_written_in_one_turn_leave_in_one_send() -> None:
    async with _connection() as (transport, counting, _):
        transport.write(HEAD)
        transport.write(b"hello")
        assert counting.sends == [HEAD + b"hello"]
        await asyncio.sleep(0)  # the turn's end: nothing is left to send
        assert counting.sends == [HEAD + b"hello"]


async def test_a_lone_write_leaves_at_the_end_of_the_turn() -> None:
    async with _connection() as (transport, counting, _):
        transport.write(HEAD)
        assert counting.sends == []
        await asyncio.sleep(0)
        assert counting.sends == [HEAD]
        transport.write(b"hello")  # a streamed body's next chunk, a later turn
        await asyncio.sleep(0)
        assert counting.sends == [HEAD, b"hello"]


async def test_close_sends_what_is_held_before_the_connection_ends() -> None:
    async with _connection() as (transport, _, peer):
        transport.write(HEAD + b"hello")
        transport.close()
        received = await asyncio.get_running_loop().run_in_executor(None, _read_all, peer)
        assert received == HEAD + b"hello"


async def test_abort_drops_what_is_held() -> None:
    async with _connection() as (transport, counting, _):
        transport.write(HEAD)
        transport.abort()
        await asyncio.sleep(0)
        assert counting.sends == []
        assert transport.is_closing()


async def test_a_peer_gone_before_the_turn_ends_gets_nothing_and_raises_nothing() -> None:
    async with _connection() as (transport, counting, _):
        transport.write(HEAD)
        counting.transport.close()  # as on a lost connection: the handle closes under us
        await asyncio.sleep(0)
        assert counting.sends == []


async def _stream() -> AsyncIterator[bytes]:
    for n in range(3):
        await asyncio.sleep(0.01)
        yield f"event {n}\n".encode()


def _app() -> Starlette:
    async def json(request: Request) -> Response:
        return JSONResponse({"n": int(request.query_params.get("n", "0"))})

    async def empty(request: Request) -> Response:
        return Response(status_code=204)

    async def stream(request: Request) -> Response:
        return StreamingResponse(_stream(), media_type="text/plain")

    return Starlette(
        routes=[
            Route("/json", json, methods=["GET", "HEAD"]),
            Route("/empty", empty),
            Route("/stream", stream),
        ]
    )


@asynccontextmanager
async def _server(app: Any = None, **options: Any) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app or _app(),
        host="127.0.0.1",
        port=port,
        http=OneSendPerResponse,
        log_level="warning",
        # As gatepass serve runs it: the app itself is the ASGI app, no access log.
        **{"proxy_headers": False, "access_log": False, **options},
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_answers_over_one_keep_alive_connection_stay_whole_and_in_order() -> None:
    async with _server() as url, httpx.AsyncClient(base_url=url) as client:
        for n in range(200):
            answer = await client.get("/json", params={"n": n})
            assert (answer.status_code, answer.json()) == (200, {"n": n})
        head = await client.head("/json")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(b'{"n":0}'))
        empty = await client.get("/empty")
        assert (empty.status_code, empty.content) == (204, b"")
        assert (await client.get("/json", params={"n": 7})).json() == {"n": 7}


async def test_a_streamed_answer_arrives_in_order_and_whole() -> None:
    async with _server() as url, httpx.AsyncClient(base_url=url) as client:
        async with client.stream("GET", "/stream") as answer:
            lines = [line async for line in answer.aiter_lines()]
        assert lines == ["event 0", "event 1", "event 2"]


async def test_pipelined_requests_and_connection_close_on_a_raw_socket() -> None:
    async with _server() as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET /json?n={{}} HTTP/1.1\r\nHost: {host}\r\n"
        writer.write((request.format(1) + "\r\n").encode())
        writer.write((request.format(2) + "Connection: close\r\n\r\n").encode())
        received = await asyncio.wait_for(reader.read(), 5)  # up to the server's close
        writer.close()
        await writer.wait_closed()
        assert received.count(b"HTTP/1.1 200 OK") == 2
        assert received.index(b'{"n":1}') < received.index(b'{"n":2}')
        assert received.endswith(b'{"n":2}')


QUIET_SECONDS = 5
DOCUMENT = b'{"keys":[]}'
DOCUMENT_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"11")]


class _AtOnce:
    """An app that can answer GET /doc at once, and counts what reaches it by ASGI."""

    def __init__(self) -> None:
        self.asgi = _app()
        self.routed = 0
        self.answer: Any = (DOCUMENT_HEADERS, DOCUMENT)
        self.asked: list[tuple[str, str]] = []

    def answer_at_once(self, method: str, path: str) -> Any:
        self.asked.append((method, path))
        if path != "/doc":
            return None
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.routed += 1
            if scope["path"] == "/doc":  # the app's own way: the same document
                await Response(DOCUMENT, media_type="application/json")(scope, receive, send)
                return
            if scope["path"] == "/slow":
                await asyncio.sleep(float(scope["query_string"] or b"0.2"))
                await JSONResponse({"slow": True})(scope, receive, send)
                return
        await self.asgi(scope, receive, send)


async def _exchange(url: str, raw: bytes) -> bytes:
    """`raw` written at once on a new connection; what comes back until the server
    closes it, or until QUIET_SECONDS pass with nothing more."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), QUIET_SECONDS):
            received += chunk
    except TimeoutError:
        pass
    writer.close()
    await writer.wait_closed()
    return received


def _get(path: str, extra: str = "", method: str = "GET", version: str = "1.1") -> bytes:
    return f"{method} {path} HTTP/{version}\r\nHost: x\r\n{extra}\r\n".encode()


async def test_get_and_head_are_answered_by_the_protocol_with_uvicorns_headers_first() -> None:
    app = _AtOnce()
    async with _server(app) as url:
        raw = _get("/doc?x=1") + _get("/doc", method="HEAD") + _get("/doc", "Connection: close\r\n")
        received = await _exchange(url, raw)
    answers = received.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert len(answers) == 3
    first_head, first_body = answers[0].split(b"\r\n\r\n")
    assert first_head.startswith(b"date: ")  # uvicorn's default header, as it writes it
    assert first_head.split(b"\r\n")[1:] == [
        b"server: uvicorn",  # the other default header (gatepass serve turns it off)
        b"content-type: application/json",
        b"content-length: 11",
    ]
    assert first_body == DOCUMENT
    assert answers[1].endswith(b"content-length: 11\r\n\r\n")  # HEAD: no body
    # Connection: close is uvicorn's to answer (it closes after): the app's own way.
    assert answers[2].endswith(b"connection: close\r\n\r\n" + DOCUMENT)
    assert app.asked == [("GET", "/doc"), ("HEAD", "/doc")]
    assert app.routed == 1


async def test_what_the_app_cannot_answer_at_once_goes_the_asgi_way() -> None:
    app = _AtOnce()
    async with _server(app) as url:
        raw = (
            _get("/json?n=4")  # the app answers None
            + _get("/doc", "Content-Length: 0\r\n", method="POST")
            + _get("/doc", version="1.0")
        )
        received = await _exchange(url, raw)
        assert received.count(b"HTTP/1.1 ") == 3
        assert b'{"n":4}' in received
        assert received.count(DOCUMENT) == 2
        app.answer = None  # e.g. the JWKS due for a reload
        none = await _exchange(url, _get("/doc") + _get("/json?n=5", "Connection: close\r\n"))
        app.answer = RuntimeError("broken")
        raised = await _exchange(url, _get("/doc") + _get("/doc", "Connection: close\r\n"))
    assert app.asked == [("GET", "/json"), ("GET", "/doc"), ("GET", "/doc")]
    assert none.count(DOCUMENT) == 1
    assert none.endswith(b'{"n":5}')
    assert raised.count(b"HTTP/1.1 200 OK") == 2
    assert raised.endswith(DOCUMENT)
    assert app.routed == 3 + 2 + 2  # the json, POST and HTTP/1.0; None and the json; raised x2


async def test_with_an_access_log_every_request_goes_the_asgi_way() -> None:
    app = _AtOnce()
    async with _server(app, access_log=True) as url:
        received = await _exchange(url, _get("/doc", "Connection: close\r\n"))
    assert received.endswith(DOCUMENT)
    assert (app.asked, app.routed) == ([], 1)  # uvicorn writes the access log line


async def test_a_document_asked_behind_a_request_in_progress_waits_its_turn() -> None:
    app = _AtOnce()
    async with _server(app) as url:
        raw = _get("/slow?0.2") + _get("/doc") + _get("/json?n=1", "Connection: close\r\n")
        received = await _exchange(url, raw)
    assert received.index(b'{"slow":true}') < received.index(DOCUMENT) < received.index(b'{"n":1}')
    assert app.routed == 3  # queued behind the slow one, the document went the ASGI way


async def test_the_keep_alive_timer_of_an_answer_does_not_cut_the_next_request() -> None:
    app = _AtOnce()
    async with _server(app, timeout_keep_alive=1) as url:
        raw = _get("/doc") + _get("/slow?1.5", "Connection: close\r\n")
        received = await _exchange(url, raw)
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.endswith(b'{"slow":true}')


async def test_many_answers_at_once_and_by_the_app_on_one_connection_stay_in_order() -> None:
    app = _AtOnce()
    async with _server(app) as url, httpx.AsyncClient(base_url=url) as client:
        for n in range(100):
            doc = await client.get("/doc")
            assert (doc.status_code, doc.content) == (200, DOCUMENT)
            assert (await client.get("/json", params={"n": n})).json() == {"n": n}
    assert app.routed == 100
