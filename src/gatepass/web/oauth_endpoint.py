"""What the back-channel endpoints share (/token, /revoke, /introspect): a form body, an
authenticated client, JSON answers that are never cached, RFC 6749 §5.2 errors.

    oauth_endpoint(handler) ─► parse_form ─► check_client (Basic | post | none;
                               throttled on failures, R15) ─► handler(request, gp, client, form)

Every answer carries `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1,
R13); every error is RFC 6749 §5.2 JSON, also for a malformed or oversized body or an
unavailable store (503 with Retry-After, SECURITY.md decision 3): never a page, never a 500.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gatepass.errors import StoreUnavailable
from gatepass.oauth.client_auth import parse_client_credentials
from gatepass.oauth.clients import Client, looks_like_client_id
from gatepass.oauth.errors import NO_STORE, InvalidClient, InvalidRequest, OAuthError
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.errors import BadRequest
from gatepass.web.forms import parse_form
from gatepass.web.middleware.limits import BodyTooLarge
from gatepass.web.state import Services, services

log = logging.getLogger("gatepass.oauth")
THROTTLE_SCOPE = "client"
JSON = "application/json"

# (request, services, authenticated client, form) -> (status, JSON body or None for none)
Handler = Callable[[Request, Services, Client, dict[str, str]], Awaitable[tuple[int, Any]]]


def oauth_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        gp = services(request)
        try:
            form = await _form(request)
            client = await check_client(request, gp, form)
            status, body = await handler(request, gp, client, form)
            return json_response(status, {}, body)
        except (OAuthError, Throttled, StoreUnavailable) as exc:
            return error_response(request, exc)

    return endpoint


def error_response(request: Request, exc: OAuthError | Throttled | StoreUnavailable) -> Response:
    """The RFC 6749 §5.2 JSON answer to a refused or unanswerable back-channel request."""
    if isinstance(exc, OAuthError):
        log.info("%s refused: %s (%s)", request.url.path, exc.error, exc.debug)
        status, headers, error = exc.as_response()
        return json_response(status, headers, error)
    if isinstance(exc, Throttled):
        return json_response(
            429,
            {"Retry-After": str(exc.retry_after_seconds)},
            {"error": "invalid_client", "error_description": "Too many failed attempts."},
        )
    log.warning("%s: storage unavailable: %s", request.url.path, exc)
    retry = str(StoreUnavailable.retry_after_seconds)
    body = {"error": "temporarily_unavailable", "error_description": "Try again shortly."}
    return json_response(503, {"Retry-After": retry}, body)


async def _form(request: Request) -> dict[str, str]:
    try:
        return await parse_form(request)
    except BadRequest as exc:  # 415 for another content type, 400 for a bad form
        raise _StatusRequest(exc.message, exc.status_code) from None
    except BodyTooLarge:
        raise _StatusRequest("The request body is too large.", 413) from None


async def check_client(request: Request, gp: Services, form: dict[str, str]) -> Client:
    """The authenticated client; failures count against its id and the caller's address."""
    credentials = parse_client_credentials(request.headers.get("authorization"), form)
    account = credentials.client_id if looks_like_client_id(credentials.client_id) else "?"
    address = throttle_key(gp.address(request))
    # Refused before the secret is checked once over the limit: guessing stops paying.
    # One after the other: both answer from this process's memory nearly always (the
    # throttle's recent verdict, the client registry's copy), where two tasks to wait on
    # both at once cost more than either.
    await gp.throttle.refuse_if_over(THROTTLE_SCOPE, account, address)
    found = await gp.clients.get(credentials.client_id)
    try:
        return gp.clients.check_secret(found, credentials.client_id, credentials.secret)
    except InvalidClient:
        await gp.throttle.failed(THROTTLE_SCOPE, account, address)  # records this failure
        raise


class _StatusRequest(InvalidRequest):
    """invalid_request with the HTTP status the failure calls for (413, 415)."""

    def __init__(self, description: str, status: int) -> None:
        super().__init__(description)
        self.status = status

    def as_response(self) -> tuple[int, dict[str, str], dict[str, str]]:
        _, headers, body = super().as_response()
        return self.status, headers, body


def json_response(status: int, headers: dict[str, str], body: Any) -> Response:
    if body is None:
        return Response(status_code=status, headers={**NO_STORE, **headers})
    # orjson: the same compact JSON as JSONResponse's, at a fraction of the stdlib's cost.
    content = orjson.dumps(body)
    return Response(content, status, {**NO_STORE, **headers}, media_type=JSON)
