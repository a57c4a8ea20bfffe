"""The provider metadata at both well-known URLs (OIDC Discovery §4, RFC 8414 §3).

The body is built from settings once, when the app is created: no session, no
cookie, no storage, and nothing taken from the request (the `Host` header least
of all, R28).
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.oidc.discovery import OAUTH_METADATA_PATH, OPENID_CONFIGURATION_PATH

# Metadata changes only with a deployment; an hour of caching spares clients a round trip.
MAX_AGE_SECONDS = 3600


def build_routes(body: bytes) -> list[Route]:
    headers = {
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        # Public facts: browser apps (SPAs) read them across origins.
        "Access-Control-Allow-Origin": "*",
    }

    async def metadata(request: Request) -> Response:
        return Response(body, media_type="application/json", headers=headers)

    return [
        Route(OPENID_CONFIGURATION_PATH, metadata, methods=["GET"]),
        Route(OAUTH_METADATA_PATH, metadata, methods=["GET"]),
    ]
