"""A tiny orders API on Django, in one file, protected by gatepass's access tokens.

GET /orders needs the scope orders:read, POST /orders orders:write; /healthz is open.
Settings GATEPASS_ISSUER and GATEPASS_AUDIENCE come from the environment variables of
the same names (defaults: http://127.0.0.1:8000 and the issuer followed by /api).
Run `python app.py` (runserver on port 8004) or `python app.py <any manage.py command>`.
"""

import os
import secrets
import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from gatepass.resource.adapters.django import require_token

ORDERS = [{"id": 1, "item": "tea", "quantity": 2}]


def configure() -> None:
    """Settings for running this file on its own (a test configures its own first)."""
    if settings.configured:
        return
    issuer = os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", secrets.token_urlsafe(32)),
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "gatepass.resource.adapters.django.GatepassMiddleware",
        ],
        GATEPASS_ISSUER=issuer,
        GATEPASS_AUDIENCE=os.environ.get("GATEPASS_AUDIENCE", f"{issuer}/api"),
    )


@csrf_exempt  # bearer tokens, not cookies: no cross-site request can carry one
@require_http_methods(["GET", "POST"])
def orders(request: HttpRequest) -> HttpResponse:
    return add_order(request) if request.method == "POST" else list_orders(request)


@require_token(scopes=["orders:read"])
def list_orders(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"orders": ORDERS, "client_id": request.gatepass_token.client_id})


@require_token(scopes=["orders:write"])
def add_order(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"id": len(ORDERS) + 1}, status=201)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("orders", orders), path("healthz", healthz)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    configure()
    execute_from_command_line([sys.argv[0], *(sys.argv[1:] or ["runserver", "127.0.0.1:8004"])])
