"""`GET /revocations/stream` (web/routes/revocation_stream.py) and HttpRevocationFeed
(resource/feeds.py): against a live `gatepass serve` with clients registered by its CLI,
and in-process on every backend (driving the ASGI app directly, since a stream that
lasts minutes is read while it runs)."""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message

from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.clients import ClientRegistration
from gatepass.oauth.registry import ClientRegistry
from gatepass.resource.feed_task import FeedBroken
from gatepass.resource.feeds import HttpRevocationFeed
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.resource.sse import MAX_LINE_CHARS, messages
from gatepass.resource.sse import Message as Event
from gatepass.storage.backends import Backends
from gatepass.tokens.revocation import Revocations
from gatepass.web.app import build_revocations, create_app
from gatepass.web.routes import revocation_stream
from gatepass.web.routes.revocation_stream import watch_of
from tests.live_server import LiveServer, live_server
from tests.resource.feed_support import WAIT_SECONDS, eventually, facts, facts_of

STREAM = "/revocations/stream"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str

    def basic(self, secret: str | None = None) -> dict[str, str]:
        """RFC 6749 §2.3.1: id and secret form-urlencoded, then HTTP Basic."""
        raw = f"{quote_plus(self.client_id)}:{quote_plus(secret or self.secret)}"
        return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@dataclass(frozen=True)
class Issuer:
    live: LiveServer
    verifier: Credentials  # a confidential client
    public_id: str


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    with live_server(tmp_path_factory.mktemp("revocation-stream")) as live:
        confidential = json.loads(
            live.cli(
                "client", "create", "verifier", "--json",
                "--grant-type", "client_credentials", "--scope", "orders:read",
            )
        )  # fmt: skip
        public = json.loads(
            live.cli(
                "client", "create", "app", "--json", "--public",
                "--redirect-uri", "http://127.0.0.1/cb",
            )
        )  # fmt: skip
        yield Issuer(
            live,
            Credentials(confidential["client_id"], confidential["client_secret"]),
            public["client_id"],
        )


@pytest.fixture
async def http(issuer: Issuer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=issuer.live.url, timeout=WAIT_SECONDS) as client:
        yield client


async def access_token(http: httpx.AsyncClient, who: Credentials) -> str:
    response = await http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=who.basic()
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def revoke(http: httpx.AsyncClient, who: Credentials, token: str) -> None:
    response = await http.post("/revoke", data={"token": token}, headers=who.basic())
    assert response.status_code == 200, response.text


async def backlog(http: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> list[Any]:
    """The frames a stream sends up to `event: caught-up`, as (id, data) pairs; checks the
    stream's headers on the way."""
    frames: list[Any] = []
    async with http.stream("GET", STREAM + query, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        async for block in _blocks(response):
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            if fields.get("event") == "caught-up":
                return frames
            frames.append((int(fields["id"]), json.loads(fields["data"])))
    raise AssertionError("the stream ended before catching up")


async def _blocks(response: httpx.Response) -> AsyncIterator[str]:
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            yield block


async def seq_of(http: httpx.AsyncClient, who: Credentials, jti: str) -> int:
    (seq,) = [seq for seq, event in await backlog(http, who.basic()) if event["id"] == jti]
    return int(seq)


# -- against a live server ----------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["no credentials", "a public client", "a public client by id", "a wrong secret"],
)
async def test_only_a_confidential_client_may_read_the_stream(
    issuer: Issuer, http: httpx.AsyncClient, how: str
) -> None:
    public = Credentials(issuer.public_id, "anything")
    request = {
        "no credentials": ({}, ""),
        "a public client": (public.basic(), ""),
        "a public client by id": ({}, f"?client_id={issuer.public_id}"),
        "a wrong secret": (issuer.verifier.basic("not-the-secret"), ""),
    }[how]
    response = await http.get(STREAM + request[1], headers=request[0])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("headers", "query"),
    [({"Last-Event-ID": "abc"}, ""), ({}, "?after=-1"), ({}, "?after=1&after=2"),
     ({}, "?after=99999999999")],
    ids=["a cursor that is no number", "a negative one", "a repeated one", "one out of range"],
)  # fmt: skip
async def test_a_malformed_cursor_is_a_bad_request(
    issuer: Issuer, http: httpx.AsyncClient, headers: dict[str, str], query: str
) -> None:
    response = await http.get(STREAM + query, headers=issuer.verifier.basic() | headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_tokens_revoked_at_the_revoke_endpoint_reach_the_feed(
    issuer: Issuer, http: httpx.AsyncClient
) -> None:
    who = issuer.verifier
    revocations = RevocationSet(max_gap_seconds=0)
    feed = HttpRevocationFeed(issuer.live.url, who.client_id, who.secret, revocations)
    revoked, kept = await access_token(http, who), await access_token(http, who)
    async with feed:
        assert await feed.wait_ready(WAIT_SECONDS)
        assert revocations.connected
        assert revocations.verdict(facts_of(revoked), time.time()) is Verdict.ACCEPT
        await revoke(http, who, revoked)
        assert await eventually(lambda: revocations.kills(facts_of(revoked), time.time()))
        assert revocations.verdict(facts_of(revoked), time.time()) is Verdict.REVOKED
        assert revocations.verdict(facts_of(kept), time.time()) is Verdict.ACCEPT
        assert feed.cursor == await seq_of(http, who, facts_of(revoked).jti)
    assert not revocations.connected


async def test_the_stream_resumes_after_last_event_id(
    issuer: Issuer, http: httpx.AsyncClient
) -> None:
    who = issuer.verifier
    first, second = await access_token(http, who), await access_token(http, who)
    await revoke(http, who, first)
    await revoke(http, who, second)
    a = await seq_of(http, who, facts_of(first).jti)
    b = await seq_of(http, who, facts_of(second).jti)
    assert a < b
    resumed = await backlog(http, who.basic() | {"Last-Event-ID": str(a)})
    assert [seq for seq, _ in resumed] == [b]
    assert resumed[0][1]["id"] == facts_of(second).jti
    assert await backlog(http, who.basic(), f"?after={a}") == resumed
    # The header wins over the query, as an EventSource reconnecting would send both.
    assert await backlog(http, who.basic() | {"Last-Event-ID": str(b)}, "?after=0") == []


async def test_a_restarted_feed_asks_only_for_what_follows_its_cursor(
    issuer: Issuer, http: httpx.AsyncClient
) -> None:
    who = issuer.verifier
    earlier, later = await access_token(http, who), await access_token(http, who)
    await revoke(http, who, earlier)
    first_run = RevocationSet()
    async with HttpRevocationFeed(issuer.live.url, who.client_id, who.secret, first_run) as feed:
        assert await feed.wait_ready(WAIT_SECONDS)
    assert first_run.kills(facts_of(earlier), time.time())
    await revoke(http, who, later)  # while no feed runs
    second_run = RevocationSet()
    resumed = HttpRevocationFeed(
        issuer.live.url, who.client_id, who.secret, second_run, cursor=feed.cursor
    )
    async with resumed:
        assert await resumed.wait_ready(WAIT_SECONDS)
        now = time.time()
        assert second_run.verdict(facts_of(later), now) is Verdict.REVOKED
        # Resumed after the cursor: what came before was not sent again.
        assert second_run.verdict(facts_of(earlier), now) is Verdict.ACCEPT
        assert resumed.cursor > feed.cursor


async def test_a_feed_with_wrong_credentials_stays_closed(issuer: Issuer) -> None:
    revocations = RevocationSet()
    feed = HttpRevocationFeed(
        issuer.live.url, issuer.verifier.client_id, "wrong", revocations,
        max_attempts=1, min_backoff=0.01, max_backoff=0.02,
    )  # fmt: skip
    await feed.start()
    assert await eventually(lambda: not feed.running)
    assert feed.failures == 1
    assert revocations.kills(facts("any", iat=time.time() - 60), time.time())
    await feed.aclose()


# -- in-process, on every backend ---------------------------------------------------------


class StreamCall:
    """One streaming GET driven straight through the ASGI app, read while it runs."""

    def __init__(self, app: ASGIApp, query: str, headers: dict[str, str]) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.text = ""
        self._arrived = asyncio.Event()
        self._gone = asyncio.Event()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": STREAM,
            "raw_path": STREAM.encode(),
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
        self._task = asyncio.create_task(app(scope, self._receive, self._send))

    @property
    def finished(self) -> bool:
        return self._task.done()

    async def _receive(self) -> Message:
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.text += message.get("body", b"").decode()
        self._arrived.set()

    async def until(self, marker: str) -> str:
        """The text received once it holds `marker` (or the response is complete)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while marker not in self.text and not self._task.done():
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), max(0.01, deadline - loop.time()))
        return self.text

    async def close(self) -> None:
        self._gone.set()
        await asyncio.wait_for(self._task, WAIT_SECONDS)


@pytest.fixture
async def app(settings: Settings, backends: Backends) -> AsyncIterator[Starlette]:
    application = create_app(settings, backends=backends)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def verifier(settings: Settings, backends: Backends) -> Credentials:
    registry = ClientRegistry(
        backends.clients, load_master_key(settings).client_secret_key(), SystemClock()
    )
    client, secret = await registry.create(
        ClientRegistration(name="Verifier", grant_types=("client_credentials",))
    )
    assert secret is not None
    return Credentials(client.client_id, secret)


async def test_the_stream_sends_the_backlog_then_live_events(
    app: Starlette, settings: Settings, backends: Backends, verifier: Credentials
) -> None:
    core = build_revocations(settings, backends, SystemClock())
    old, new, live = (uuid.uuid4().hex for _ in range(3))
    await core.revoke_grant(old)
    await core.revoke_grant(new)
    seq_old = (await core.since(0))[0].seq

    call = StreamCall(app, f"after={seq_old}", verifier.basic())
    other = StreamCall(app, "", verifier.basic())
    try:
        text = await call.until("event: caught-up")
        assert call.status == 200
        assert call.headers["content-type"].startswith("text/event-stream")
        assert call.headers["x-accel-buffering"] == "no"
        assert old not in text
        assert new in text
        await other.until("event: caught-up")
        assert old in other.text
        assert watch_of(core_of(app)).streams == 2  # one poll of the log serves both

        await core.revoke_grant(live)  # recorded after both streams caught up
        (event,) = [e for e in await core.since(0) if e.id == live]
        frame = f"id: {event.seq}\ndata: {event.to_json()}\n\n"
        assert frame in await call.until(live)
        assert frame in await other.until(live)
    finally:
        await call.close()
        await other.close()
    assert watch_of(core_of(app)).streams == 0


async def test_refusals_are_json_answers_never_a_stream(
    app: Starlette, verifier: Credentials
) -> None:
    call = StreamCall(app, "after=x", verifier.basic())
    assert '"invalid_request"' in await call.until("}")
    assert call.status == 400
    await call.close()
    call = StreamCall(app, "", {})
    assert '"invalid_client"' in await call.until("}")
    assert call.status == 401
    await call.close()


def core_of(app: Starlette) -> Revocations:
    revocations: Revocations = app.state.gatepass.grants.revocations
    return revocations


# -- the event-stream reader --------------------------------------------------------------


async def events_of(*chunks: bytes) -> list[Event]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    heard: list[None] = []
    response = httpx.Response(200, content=body())
    return [m async for m in messages(response, lambda: heard.append(None))]


async def test_the_reader_follows_the_event_stream_format() -> None:
    read = await events_of(
        b": keep-alive\n\nid: 1\ndata: one\n\n",
        b"id: 2\r\ndata: two\r",  # \r\n split across chunks
        b"\ndata:three\r\n\r\nevent: caught-up\ndata: 2\n\n",
        b"id: 3\ndata: cut off",  # an event without its blank line is not dispatched
    )
    assert read == [
        Event("message", "one", "1"),
        Event("message", "two\nthree", "2"),
        Event("caught-up", "2", "2"),
    ]


async def test_the_reader_refuses_a_line_without_end() -> None:
    with pytest.raises(FeedBroken, match="too long"):
        await events_of(b"data: " + b"x" * (MAX_LINE_CHARS + 1))


async def test_streams_send_keep_alives_and_end_after_their_lifetime(
    app: Starlette, verifier: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(revocation_stream, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(revocation_stream, "STREAM_SECONDS", 0.5)
    call = StreamCall(app, "", verifier.basic())
    try:
        assert ": keep-alive\n\n" in await call.until(": keep-alive")
        await call.until("the end")  # returns when the server ends the response
        assert call.finished
    finally:
        await call.close()


async def test_past_the_stream_limit_a_client_is_told_to_come_back(
    app: Starlette, verifier: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(revocation_stream, "MAX_STREAMS", 1)
    first = StreamCall(app, "", verifier.basic())
    try:
        await first.until("event: caught-up")
        second = StreamCall(app, "", verifier.basic())
        assert '"temporarily_unavailable"' in await second.until("}")
        assert second.status == 503
        assert second.headers["retry-after"] == "5"
        await second.close()
    finally:
        await first.close()


async def test_the_feed_resumes_with_last_event_id_after_the_stream_ends() -> None:
    """The client side alone, over httpx's MockTransport: each answer ends after a few
    events, as the server's does after its lifetime."""
    seen: list[str | None] = []

    def event(seq: int) -> bytes:
        at = time.time()
        body = {"v": 1, "seq": seq, "type": "token", "id": f"j{seq}", "at": at, "until": at + 60}
        return f"id: {seq}\ndata: {json.dumps(body)}\n\n".encode()

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("last-event-id"))
        assert request.headers["authorization"].startswith("Basic ")
        after = int(request.headers.get("last-event-id", "0"))
        frames = [event(after + 1), event(after + 2), b"event: caught-up\ndata: 0\n\n"]
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"".join(frames)
        )

    revocations = RevocationSet()
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        feed = HttpRevocationFeed(
            "https://id.example", "id", "secret", revocations, http=http,
            min_backoff=0.01, max_backoff=0.02,
        )  # fmt: skip
        async with feed:
            # The third answer's events too, not only its request: the feed applies
            # them after the request returns, and closing it first would drop them.
            assert await eventually(lambda: len(seen) >= 3 and revocations.cursor >= 6)
    assert seen[:3] == [None, "2", "4"]
    assert revocations.cursor >= 6
    assert revocations.verdict(facts("j5"), time.time()) is Verdict.REVOKED
