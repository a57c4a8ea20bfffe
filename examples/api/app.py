"""The notes API of the hybrid examples: a JSON API on Starlette, protected by gatepass's
access tokens (RFC 9068 JWTs verified with `gatepass.resource`, no call to gatepass per
request), used by the spa, the native client and the service.

    GET  /me     any valid token          {"sub", "client_id", "scope"}
    GET  /notes  scope notes:read         {"notes": [...]} of the token's subject
    POST /notes  scope notes:write        {"text": "..."} -> 201 {"id", "text", "created_at"}
    GET  /healthz                         open

Refusals are RFC 6750: 401 with `WWW-Authenticate: Bearer ... error="invalid_token"` for
a missing, expired, revoked or wrong-audience token, 403 `insufficient_scope` for a
missing scope, the same in a JSON body. Browsers on API_ALLOWED_ORIGINS (the spa) may
call it cross-origin (CORS, preflight included); the token travels in the Authorization
header, never in a cookie, so no credentials mode is needed.

Environment: GATEPASS_ISSUER (default http://127.0.0.1:8000), GATEPASS_AUDIENCE (default
the issuer followed by /api, gatepass's default audience), API_ALLOWED_ORIGINS (space- or
comma-separated, default http://127.0.0.1:8020), PORT (default 8030). Revocations (a
revoked token, a user who logged out everywhere) are refused within a second through
gatepass's revocation feed: GATEPASS_REDIS_URL (+ GATEPASS_REDIS_PREFIX, default "gp:"),
or the HTTP stream with API_CLIENT_ID / API_CLIENT_SECRET (a confidential client), or
both (HTTP then catches up what Redis cannot vouch for). Notes live in memory only.
"""

import os
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gatepass.resource import (
    HttpRevocationFeed,
    RedisRevocationFeed,
    RevocationSet,
    TokenVerifier,
    VerifiedToken,
)
from gatepass.resource.adapters.starlette import GatepassAuth, requires_scope

REALM = "notes"
FEED_READY_SECONDS = 10
MAX_NOTE_LENGTH = 1000
MAX_NOTES_PER_SUBJECT = 100  # an example keeps memory bounded, whoever calls it
NO_STORE = {"Cache-Control": "no-store"}  # answers are about one user


class Notes:
    """Each subject's notes, in memory: the example is about the tokens, not storage."""

    def __init__(self) -> None:
        self._by_subject: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self._next_id = 1

    def of(self, subject: str) -> list[dict[str, Any]]:
        return list(self._by_subject.get(subject, []))

    def add(self, subject: str, text: str) -> dict[str, Any]:
        notes = self._by_subject[subject]
        note = {"id": self._next_id, "text": text, "created_at": int(time.time())}
        self._next_id += 1
        notes.append(note)
        del notes[:-MAX_NOTES_PER_SUBJECT]  # the oldest leave first
        return note


def token_of(request: Request) -> VerifiedToken:
    token: VerifiedToken = request.state.token
    return token


async def me(request: Request) -> JSONResponse:
    token = token_of(request)
    body = {"sub": token.subject, "client_id": token.client_id, "scope": sorted(token.scopes)}
    return JSONResponse(body, headers=NO_STORE)


@requires_scope("notes:read", realm=REALM)
async def list_notes(request: Request) -> JSONResponse:
    notes: Notes = request.app.state.notes
    return JSONResponse({"notes": notes.of(token_of(request).subject)}, headers=NO_STORE)


@requires_scope("notes:write", realm=REALM)
async def add_note(request: Request) -> JSONResponse:
    text = await _note_text(request)
    if text is None:
        description = f'Send JSON {{"text": "..."}}: 1 to {MAX_NOTE_LENGTH} characters.'
        body = {"error": "invalid_request", "error_description": description}
        return JSONResponse(body, status_code=400, headers=NO_STORE)
    notes: Notes = request.app.state.notes
    return JSONResponse(notes.add(token_of(request).subject, text), status_code=201)


async def _note_text(request: Request) -> str | None:
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        return None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not 0 < len(text.strip()) <= MAX_NOTE_LENGTH:
        return None
    return text.strip()


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def revocation_feed(
    env: Mapping[str, str], issuer: str, revocations: RevocationSet
) -> RedisRevocationFeed | HttpRevocationFeed | None:
    """The feed the environment configures, or None (then revocations are not seen)."""
    client_id, secret = env.get("API_CLIENT_ID"), env.get("API_CLIENT_SECRET")
    http = None
    if client_id and secret:
        http = HttpRevocationFeed(issuer, client_id, secret, revocations)
    redis_url = env.get("GATEPASS_REDIS_URL")
    if redis_url:
        prefix = env.get("GATEPASS_REDIS_PREFIX", "gp:")
        return RedisRevocationFeed(redis_url, revocations, prefix, http=http)
    return http


def allowed_origins(env: Mapping[str, str]) -> list[str]:
    return [o for o in re.split(r"[\s,]+", env.get("API_ALLOWED_ORIGINS", "")) if o] or [
        "http://127.0.0.1:8020"
    ]


def create_app(env: Mapping[str, str]) -> Starlette:
    issuer = env.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
    audience = env.get("GATEPASS_AUDIENCE", f"{issuer}/api")
    revocations = RevocationSet()
    feed = revocation_feed(env, issuer, revocations)
    verifier = TokenVerifier(issuer, audience, revocations=revocations if feed else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if feed is not None:
            await feed.start()
            # Until the feed has caught up, the set refuses older tokens (fail closed).
            await feed.wait_ready(FEED_READY_SECONDS)
        try:
            yield  # the first request fetches the issuer's keys
        finally:
            if feed is not None:
                await feed.aclose()
            await verifier.aclose()

    app = Starlette(
        routes=[
            Route("/me", me, methods=["GET"]),
            Route("/notes", list_notes, methods=["GET"]),
            Route("/notes", add_note, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[
            # Outermost, so a preflight (which carries no token, by the Fetch standard) is
            # answered before authentication, and refusals carry CORS headers too: the
            # spa must read a 401 to know it should refresh.
            Middleware(
                CORSMiddleware,
                allow_origins=allowed_origins(env),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                expose_headers=["WWW-Authenticate"],
                max_age=600,
            ),
            Middleware(GatepassAuth, verifier=verifier, realm=REALM, exempt={"/healthz"}),
        ],
        lifespan=lifespan,
    )
    app.state.notes = Notes()
    return app


app = create_app(os.environ)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8030")))
