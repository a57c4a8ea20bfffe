"""`/metrics`: the Prometheus text format, for the scraper only (web/metrics.py).

With `metrics_token` set, the scraper sends it as a bearer token. Unset, only a direct
connection from this host is answered: the socket peer is loopback and no proxy header
says the request came from further away. Everyone else gets 404, as if it were not there.
"""

import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.crypto.secrets import same
from gatepass.web.metrics import exposition
from gatepass.web.state import services

FORWARDING_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def _from_this_host(request: Request) -> bool:
    if any(name in FORWARDING_HEADERS for name, _ in request.scope["headers"]):
        return False
    peer = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def _allowed(request: Request) -> bool:
    token = services(request).settings.metrics_token
    if token is None:
        return _from_this_host(request)
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and same(presented.strip(), token.reveal())


async def metrics(request: Request) -> Response:
    if not _allowed(request):
        raise HTTPException(404)  # not 403: to everyone else the endpoint is not there
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics, methods=["GET"])]
