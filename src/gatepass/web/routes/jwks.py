"""`GET /jwks.json`: the public signing keys (RFC 7517 §5), precomputed, cacheable.

No session, no cookie, no per-request rendering: the key ring keeps the body
rendered and re-renders it when a key changes state or the ring changes.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.web.state import services

# RFC 7517 §8.5 registers this media type for a JWK Set.
MEDIA_TYPE = "application/jwk-set+json"


async def jwks(request: Request) -> Response:
    gp = services(request)
    return Response(
        await gp.keys.jwks(),
        media_type=MEDIA_TYPE,
        headers={
            "Cache-Control": f"public, max-age={gp.settings.jwks_max_age}",
            # Public keys only: browser apps (SPAs verifying id tokens) may read them.
            "Access-Control-Allow-Origin": "*",
        },
    )


routes = [Route("/jwks.json", jwks, methods=["GET"])]
