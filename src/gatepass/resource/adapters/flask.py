"""Flask: the extension `Gatepass(app, verifier)` and the `@require_token(scopes=...)` decorator.

    gatepass = Gatepass(app, TokenVerifier(issuer, audience))

    @app.get("/orders")
    @require_token(scopes=["orders:read"])
    def orders():
        return {"orders": [], "client": g.token.client_id}

Flask is synchronous, the verifiers are async: the extension runs them on one event loop
in a background thread (adapters/background.py says why that and not `asyncio.run` per
request) and each request waits for its answer. The decorated view finds the
`VerifiedToken` in `flask.g.token`; a refused request gets the RFC 6750 answer as JSON.
`background=[feed]` runs a revocation feed on the same loop, beside the verifier.
"""

import functools
from collections.abc import Callable, Collection, Sequence
from typing import Any, ParamSpec

from flask import Flask, Response, current_app, g, jsonify, request

from gatepass.resource.adapters.background import (
    CALL_TIMEOUT_SECONDS,
    Background,
    SyncVerifiers,
)
from gatepass.resource.adapters.common import (
    Verifier,
    authorize,
    refusal,
    scopes_of,
    token_in_query,
)
from gatepass.resource.errors import ResourceError
from gatepass.resource.sessions import SessionVerifier

P = ParamSpec("P")
EXTENSION = "gatepass"


class Gatepass:
    """The verifiers of one Flask app, run on a background event loop."""

    def __init__(
        self,
        app: Flask | None = None,
        verifier: Verifier | None = None,
        *,
        sessions: SessionVerifier | None = None,
        background: Sequence[Background] = (),
        realm: str | None = None,
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> None:
        if verifier is None:
            raise TypeError("Gatepass needs a TokenVerifier")
        self.realm = realm
        self.verifiers = SyncVerifiers(
            verifier, sessions=sessions, background=background, timeout=timeout
        )
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self

    def refused(self, error: ResourceError) -> Response:
        status, headers, body = refusal(error, self.realm)
        response = jsonify(body)
        response.status_code = status
        response.headers.update(headers)
        return response

    def close(self) -> None:
        """Close the verifiers and stop the loop (also done at interpreter exit)."""
        self.verifiers.close()


def _extension() -> Gatepass:
    found = current_app.extensions.get(EXTENSION)
    if not isinstance(found, Gatepass):
        raise RuntimeError("initialise gatepass.resource.adapters.flask.Gatepass(app, ...)")
    return found


def require_token(
    scopes: str | Collection[str] = (),
) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """A view that needs a valid bearer token carrying every one of `scopes`: 401 without
    one or with a bad one, 403 insufficient_scope without a scope. Sets `g.token`."""
    needed = scopes_of(scopes)

    def decorate(view: Callable[P, Any]) -> Callable[P, Any]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
            gatepass = _extension()
            try:
                token = gatepass.verifiers.authenticate(
                    request.headers.getlist("Authorization"),
                    token_elsewhere=token_in_query(request.query_string),
                    required=True,
                )
                g.token = authorize(token, needed)
            except ResourceError as exc:
                return gatepass.refused(exc)
            return view(*args, **kwargs)

        return guarded

    return decorate


def require_session(view: Callable[P, Any]) -> Callable[P, Any]:
    """A view that needs a live gatepass session (`Gatepass(..., sessions=...)`): 401
    without one. Sets `g.session` to the VerifiedSession."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
        gatepass = _extension()
        try:
            g.session = gatepass.verifiers.verify_session(request.cookies)
        except ResourceError as exc:
            return gatepass.refused(exc)
        return view(*args, **kwargs)

    return guarded
