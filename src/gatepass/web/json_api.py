"""Small JSON endpoints for the browser's own script (passkeys): strict parsing, CSRF,
and every failure a clear JSON error with a 4xx status, never a 500.

A request must be `application/json` (which a cross-site form cannot send without a CORS
preflight), come from our origin, and carry the page's CSRF token in `X-CSRF-Token`.
"""

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gatepass.errors import StoreUnavailable, ValidationError
from gatepass.mfa.webauthn_input import PasskeyRefused
from gatepass.throttle.limiter import Throttled
from gatepass.web.errors import BadRequest
from gatepass.web.visitor import Visitor, check_csrf

MAX_JSON_BYTES = 32 * 1024  # a credential with a packed attestation fits many times over
CSRF_HEADER = "x-csrf-token"
JSON_TYPE = "application/json"
log = logging.getLogger("gatepass.web")

Endpoint = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A refusal with an error code and a message safe to show (and maybe where to go)."""

    def __init__(
        self, status: int, error: str, message: str, *, redirect: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.redirect = status, error, message, redirect


def json_error(
    status: int,
    error: str,
    message: str,
    *,
    redirect: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, str] = {"error": error, "message": message}
    if redirect is not None:
        body["redirect"] = redirect
    return JSONResponse(body, status_code=status, headers=headers)


def json_endpoint(endpoint: Endpoint) -> Endpoint:
    """Turn the known refusals into JSON errors (the app's handlers render HTML pages)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as exc:
            return json_error(exc.status, exc.error, exc.message, redirect=exc.redirect)
        except BadRequest as exc:  # the CSRF and origin checks among them
            code = "forbidden" if exc.status_code == 403 else "invalid_request"
            return json_error(exc.status_code, code, exc.message)
        except (PasskeyRefused, ValidationError) as exc:
            log.info("passkey refused: %s %s", exc.message, getattr(exc, "debug", ""))
            return json_error(400, "refused", exc.message)
        except Throttled as exc:
            retry = str(exc.retry_after_seconds)
            message = f"Too many attempts. Try again in {retry} seconds."
            return json_error(429, "throttled", message, headers={"Retry-After": retry})
        except StoreUnavailable as exc:
            log.warning("storage unavailable: %s", exc)
            message = "Sign-in is briefly unavailable. Please try again shortly."
            headers = {"Retry-After": str(StoreUnavailable.retry_after_seconds)}
            return json_error(503, "unavailable", message, headers=headers)

    return wrapped


async def parse_json(request: Request, who: Visitor) -> dict[str, Any]:
    """The body as a JSON object, after the origin and CSRF-token checks."""
    check_csrf(request, {"csrf_token": request.headers.get(CSRF_HEADER, "")}, who)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON_TYPE:
        raise ApiError(415, "invalid_request", "Send JSON (passkeys need JavaScript enabled).")
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        raise ApiError(413, "invalid_request", "The request body is too large.")
    try:
        parsed = json.loads(body.decode("utf-8"), object_pairs_hook=_no_repeats)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "invalid_request", "The body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "invalid_request", "The body is not a JSON object.")
    return parsed


def text_field(body: dict[str, Any], name: str, limit: int, default: str = "") -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ApiError(400, "invalid_request", f"{name} must be a string of at most {limit}.")
    return value


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"repeated member {name!r}")
        found[name] = value
    return found
