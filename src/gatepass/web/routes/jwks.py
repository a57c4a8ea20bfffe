"""`GET /jwks.json`: the public signing keys (RFC 7517 §5), precomputed, cacheable.

No session, no cookie, no per-request rendering: the key ring keeps the body
rendered and re-renders it when a key changes state or the ring changes. Answered
ahead of the router (middleware/static_documents.py).
"""

from typing import Any

from starlette.types import Scope

from gatepass.config import Settings
from gatepass.web.middleware.static_documents import Document
from gatepass.web.state import Services

PATH = "/jwks.json"
# RFC 7517 §8.5 registers this media type for a JWK Set.
MEDIA_TYPE = "application/jwk-set+json"


async def _body(scope: Scope) -> bytes:
    gp: Services = scope["app"].state.gatepass
    return await gp.keys.jwks()


def _at_hand(app: Any) -> bytes | None:
    gp: Services | None = getattr(app.state, "gatepass", None)  # None before the lifespan
    return None if gp is None else gp.keys.jwks_at_hand()


def documents(settings: Settings) -> dict[str, Document]:
    cache_control = f"public, max-age={settings.jwks_max_age}"
    return {PATH: Document(_body, MEDIA_TYPE, cache_control, _at_hand)}
