"""Django: `GatepassMiddleware` and the `@require_token(scopes=...)` view decorator.

    # settings.py
    MIDDLEWARE = [..., "gatepass.resource.adapters.django.GatepassMiddleware"]
    GATEPASS_ISSUER = "https://id.example.com"
    GATEPASS_AUDIENCE = "https://api.example.com"   # or a list of them
    GATEPASS_LEEWAY = 30                            # optional, seconds (at most 60)
    GATEPASS_REALM = "orders"                       # optional

    # views.py
    @require_token(scopes=["orders:read"])
    def orders(request):
        return JsonResponse({"client": request.gatepass_token.client_id})

The middleware verifies the bearer token a request presents and sets
`request.gatepass_token` (None without one); a bad token is answered 401 invalid_token
there and then. `@require_token` turns a missing token into 401 and a missing scope
into 403 insufficient_scope; it does no I/O, so it serves sync and async views alike.
Django's views here are sync WSGI code and the verifier is async: it runs on an event
loop in a background thread (adapters/background.py says why). To run a custom
verifier (with a revocation set, say) and its feed, call `use(verifier, background=
[feed])` once at start-up, e.g. in an AppConfig's `ready()`.
"""

import functools
import inspect
import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse

from gatepass.resource.adapters.background import Background, SyncVerifiers
from gatepass.resource.adapters.common import (
    Verifier,
    authorize,
    refusal,
    scopes_of,
    token_in_query,
)
from gatepass.resource.errors import ResourceError
from gatepass.resource.tokens import DEFAULT_LEEWAY_SECONDS, TokenVerifier

View = Callable[..., Any]
_MISSING = object()
_lock = threading.Lock()
# One verifier (and its loop thread) per configuration, shared by every request and
# every middleware instance of the process; a test that overrides the settings gets its own.
_by_settings: dict[tuple[str, tuple[str, ...], int], SyncVerifiers] = {}
_custom: list[SyncVerifiers] = []


def use(verifier: Verifier, *, background: Sequence[Background] = ()) -> None:
    """Verify with this verifier from now on, instead of one built from the settings."""
    with _lock:
        previous = list(_custom)
        _custom[:] = [SyncVerifiers(verifier, background=background)]
    for old in previous:
        old.close()


def close() -> None:
    """Close every verifier and stop their loops (also done at interpreter exit)."""
    with _lock:
        opened = [*_custom, *_by_settings.values()]
        _custom.clear()
        _by_settings.clear()
    for verifiers in opened:
        verifiers.close()


def _setting(name: str) -> Any:
    value = getattr(settings, name, None)
    if value in (None, "", [], ()):
        raise ImproperlyConfigured(f"{name} is required by gatepass's GatepassMiddleware")
    return value


def _configured() -> SyncVerifiers:
    if _custom:
        return _custom[0]
    issuer = _setting("GATEPASS_ISSUER")
    audience = _setting("GATEPASS_AUDIENCE")
    audiences = (audience,) if isinstance(audience, str) else tuple(audience)
    leeway = getattr(settings, "GATEPASS_LEEWAY", DEFAULT_LEEWAY_SECONDS)
    key = (issuer, audiences, leeway)
    with _lock:
        found = _by_settings.get(key)
        if found is None:
            try:
                verifier = TokenVerifier(issuer, audiences, leeway=leeway)
            except ValueError as exc:
                raise ImproperlyConfigured(f"GATEPASS_*: {exc}") from None
            found = _by_settings[key] = SyncVerifiers(verifier)
    return found


def _refused(error: ResourceError) -> HttpResponse:
    status, headers, body = refusal(error, getattr(settings, "GATEPASS_REALM", None))
    return JsonResponse(body, status=status, headers=headers)


class GatepassMiddleware:
    """Verifies a presented bearer token; `request.gatepass_token` = VerifiedToken or None."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        _configured()  # a missing setting fails when Django loads the middleware

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization")
        try:
            request.gatepass_token = _configured().authenticate(
                [] if header is None else [header],
                token_elsewhere=token_in_query(request.META.get("QUERY_STRING", "")),
                required=False,
            )
        except ResourceError as exc:
            return _refused(exc)
        return self.get_response(request)


def require_token(scopes: str | Collection[str] = ()) -> Callable[[View], View]:
    """A view that needs a bearer token with every one of `scopes` (GatepassMiddleware
    verified it): 401 without a token, 403 insufficient_scope without a scope."""
    needed = scopes_of(scopes)

    def check(request: HttpRequest) -> HttpResponse | None:
        token = getattr(request, "gatepass_token", _MISSING)
        if token is _MISSING:
            raise ImproperlyConfigured("@require_token needs GatepassMiddleware in MIDDLEWARE")
        try:
            authorize(token, needed)  # type: ignore[arg-type]
        except ResourceError as exc:
            return _refused(exc)
        return None

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def guarded_async(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refused = check(request)
                return refused if refused is not None else await view(request, *args, **kwargs)

            return guarded_async

        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = check(request)
            return refused if refused is not None else view(request, *args, **kwargs)

        return guarded

    return decorate
