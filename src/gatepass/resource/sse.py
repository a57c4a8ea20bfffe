"""Reading server-sent events (HTML Living Standard §9.2.6) from an httpx response, with
bounds: a line or an event over MAX_LINE_CHARS ends the stream (FeedBroken)."""

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from gatepass.resource.feed_task import FeedBroken

MAX_LINE_CHARS = 64 * 1024  # a revocation event is under 300 characters
_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Message:
    event: str
    data: str
    id: str | None


def check_event_stream(response: httpx.Response) -> None:
    """FeedBroken unless the answer is 200 with an event stream."""
    if response.status_code != 200:
        raise FeedBroken(f"{response.url} answered {response.status_code}")
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/event-stream":
        raise FeedBroken(f"{response.url} answered {media_type or 'no content type'}")


async def messages(response: httpx.Response, heard: Callable[[], None]) -> AsyncIterator[Message]:
    """The events of the stream; `heard()` on every line, keep-alive comments included."""
    event, last_id = "", None
    data: list[str] = []
    async for line in _lines(response):
        heard()
        if not line:
            if data:
                yield Message(event or "message", "\n".join(data), last_id)
            event, data = "", []
            continue
        name, colon, value = line.partition(":")
        if not name:
            continue  # a comment
        value = value[1:] if colon and value.startswith(" ") else value
        if name == "data":
            data.append(value)
            if sum(map(len, data)) > MAX_LINE_CHARS:
                raise FeedBroken("an event too large")
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value


async def _lines(response: httpx.Response) -> AsyncIterator[str]:
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        start = 0
        for match in _EOL.finditer(buffer):
            if match.group() == "\r" and match.end() == len(buffer):
                break  # perhaps the first half of a \r\n split across chunks
            yield buffer[start : match.start()]
            start = match.end()
        buffer = buffer[start:]
        if len(buffer) > MAX_LINE_CHARS:
            raise FeedBroken("a line too long")
