"""Every failure becomes a clear page with the right status: never a stack trace."""

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gatepass.errors import StoreUnavailable
from gatepass.web.errors import BadRequest
from gatepass.web.middleware.limits import BodyTooLarge

log = logging.getLogger("gatepass.web")

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported form",
    502: "The sign-in provider failed",
    503: "Temporarily unavailable",
    500: "Something went wrong",
}


def _page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    title = TITLES.get(status, "Error")
    templates = getattr(request.app.state, "gatepass", None)
    if templates is None:  # before start-up finished: plain but still clear
        return HTMLResponse(f"<h1>{title}</h1>", status_code=status, headers=headers)
    # The error page never needs the visitor's session: keep it I/O-free.
    response: Response = templates.templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "user": None},
        status_code=status,
        headers=headers,
    )
    return response


async def bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return _page(request, exc.status_code, exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {
        404: "There is no page at this address.",
        405: "This address does not accept that method.",
    }
    headers = dict(exc.headers) if exc.headers else None
    return _page(
        request, exc.status_code, messages.get(exc.status_code, "The request was refused."), headers
    )


async def body_too_large(request: Request, _exc: Exception) -> Response:
    return _page(request, 413, "The request body is larger than this server accepts.")


async def store_unavailable(request: Request, exc: Exception) -> Response:
    # SECURITY.md decision 3: fail closed with 503 and Retry-After, never open, never 500.
    log.warning("storage unavailable: %s", exc)
    retry = str(StoreUnavailable.retry_after_seconds)
    return _page(
        request,
        503,
        "Sign-in is briefly unavailable. Please try again shortly.",
        {"Retry-After": retry},
    )


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _page(request, 500, "The server could not complete this request.")


HANDLERS = {
    BadRequest: bad_request,
    HTTPException: http_error,
    BodyTooLarge: body_too_large,
    StoreUnavailable: store_unavailable,
    Exception: unexpected,
}
