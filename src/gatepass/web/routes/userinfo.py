"""`/userinfo` (OpenID Connect Core §5.3): GET or POST, the access token in the header only.

    access_token in query or form? ─┐
    Authorization header(s) ────────┴► parse_bearer ─► gp.userinfo.claims ─► 200 JSON
                                                          │
    BearerError ─► 401 / 400 / 403 + WWW-Authenticate (RFC 6750 §3), JSON error body
    StoreUnavailable ─► 503 + Retry-After (SECURITY.md decision 3: fail closed)

A token in the query string or a form body is never used (OAuth 2.1 §5.1, SECURITY.md
R23): alone it counts as no credentials, next to a header it is a second method, which
RFC 6750 §2 forbids (invalid_request). Every answer is `Cache-Control: no-store`.
"""

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.errors import StoreUnavailable
from gatepass.tokens.bearer import NO_STORE, BearerError, BearerInvalidRequest, parse_bearer
from gatepass.web.errors import BadRequest
from gatepass.web.forms import FORM_TYPE, parse_form
from gatepass.web.middleware.limits import BodyTooLarge
from gatepass.web.state import Services, services

log = logging.getLogger("gatepass.userinfo")
TOKEN_PARAMETER = "access_token"  # noqa: S105 - a parameter name (RFC 6750 §2.2, §2.3)


async def userinfo(request: Request) -> Response:
    gp = services(request)
    try:
        token = parse_bearer(
            request.headers.getlist("authorization"),
            token_elsewhere=await _token_elsewhere(request),
        )
        claims = await gp.userinfo.claims(token)
    except BearerError as exc:
        return _refused(gp, exc)
    except _BodyRefused as exc:
        return _refused(gp, exc.error, status=exc.status)
    except StoreUnavailable as exc:
        log.warning("userinfo: storage unavailable: %s", exc)
        body = {"error": "temporarily_unavailable", "error_description": "Try again shortly."}
        retry = str(StoreUnavailable.retry_after_seconds)
        return _json(503, {"Retry-After": retry}, body)
    # Core §5.3.2: a JSON object of the claims, application/json.
    return _json(200, {}, claims.as_json())


async def _token_elsewhere(request: Request) -> bool:
    """Whether the request also carries an access token by another method (never used)."""
    # RFC 6749 §3.1 (SECURITY.md R22): a parameter sent without a value counts as omitted.
    if request.query_params.get(TOKEN_PARAMETER):
        return True
    if request.method != "POST":
        return False
    try:
        body = await request.body()  # capped by RequestLimitsMiddleware
        if not body or not _is_form(request):
            return False  # nothing here could be a token by RFC 6750 §2.2's rules
        return bool((await parse_form(request)).get(TOKEN_PARAMETER))
    except BodyTooLarge:
        raise _BodyRefused("The request body is too large.", 413) from None
    except BadRequest as exc:  # not UTF-8, repeated or too many fields
        raise _BodyRefused(exc.message, exc.status_code) from None


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == FORM_TYPE


class _BodyRefused(Exception):
    """A POST body that cannot be read: invalid_request with the status it calls for."""

    def __init__(self, description: str, status: int) -> None:
        super().__init__(description)
        self.error = BearerInvalidRequest(_printable(description), debug="body")
        self.status = status


def _printable(text: str) -> str:
    """RFC 6750 §3 allows only printable ASCII without quote or backslash."""
    return "".join(ch for ch in text if " " <= ch <= "~" and ch not in '"\\') or "Bad body."


def _refused(gp: Services, error: BearerError, *, status: int | None = None) -> Response:
    log.info("userinfo refused: %s (%s)", error.error or "no credentials", error.debug)
    # The issuer is the realm, as in node-oidc-provider: it names the protection space.
    code, headers, body = error.as_response(realm=gp.settings.issuer)
    if not body:  # RFC 6750 §3.1: no credentials, so no error information either
        return Response(status_code=code, headers=headers)
    return _json(status or code, headers, body)


def _json(status: int, headers: dict[str, str], body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **headers})


routes = [Route("/userinfo", userinfo, methods=["GET", "POST"])]
