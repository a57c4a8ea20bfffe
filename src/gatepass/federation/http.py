"""Talking to a provider: bounded reads, and every transport failure one UpstreamError.

A provider's answer is read up to MAX_RESPONSE_BYTES and no further: a hostile or broken
endpoint cannot make gatepass buffer gigabytes. Redirects are not followed: endpoints
come from the discovery document and must answer where they say they are.
"""

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gatepass.federation.model import UpstreamError

MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "gatepass (OpenID relying party)"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON; UpstreamError("unavailable") when it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise UpstreamError("unavailable", f"HTTP {self.status}: not JSON") from None


@asynccontextmanager
async def client_for(
    given: httpx.AsyncClient | None, timeout_seconds: float
) -> AsyncIterator[httpx.AsyncClient]:
    """The caller's client, or one of our own for the duration of one operation."""
    if given is not None:
        yield given
        return
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds), follow_redirects=False, trust_env=False
    ) as own:
        yield own


async def call(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
) -> Answer:
    """One request; any transport failure or oversized answer is "unavailable"."""
    sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    try:
        async with http.stream(
            method, url, headers=sent, data=data, follow_redirects=False
        ) as response:
            declared = response.headers.get("content-length", "0")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise UpstreamError("unavailable", f"{url}: answer too large")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise UpstreamError("unavailable", f"{url}: answer too large")
            content_type = response.headers.get("content-type", "")
            return Answer(response.status_code, content_type.split(";")[0].strip(), bytes(body))
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise UpstreamError("unavailable", f"{url}: {exc.__class__.__name__}") from None
    except ValueError as exc:  # e.g. a malformed URL, or a header httpx cannot encode
        raise UpstreamError("unavailable", f"{url}: {exc}") from None
