"""The Django adapter (GatepassMiddleware + @require_token) against a real gatepass server,
through Django's test Client, with the settings configured here: the example app's own
URLs, GATEPASS_ISSUER and GATEPASS_AUDIENCE pointing at the live server."""

import types
from collections.abc import Iterator

import django
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import path

from gatepass.resource import TokenVerifier
from gatepass.resource.adapters import django as gatepass_django
from tests.resource.adapter_support import (
    CASES,
    Api,
    Case,
    api,  # noqa: F401 - a fixture
    bearer,
    check,
    client_id_of,
    load_example,
    reply_of,
)

EXAMPLE = load_example("api_django")  # its urlpatterns are the URLconf below


def _configure() -> None:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["testserver"],
            SECRET_KEY="test-only-" + "x" * 40,
            ROOT_URLCONF=EXAMPLE.__name__,
            MIDDLEWARE=["gatepass.resource.adapters.django.GatepassMiddleware"],
            GATEPASS_ISSUER="http://unset.invalid",
            GATEPASS_AUDIENCE="http://unset.invalid/api",
        )
        django.setup()


@pytest.fixture
def client(api: Api) -> Iterator[Client]:  # noqa: F811
    _configure()
    with override_settings(GATEPASS_ISSUER=api.issuer, GATEPASS_AUDIENCE=api.audience):
        try:
            yield Client()
        finally:
            gatepass_django.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_example_answers_as_rfc_6750_says(
    case: Case,
    api: Api,  # noqa: F811
    client: Client,
) -> None:
    response = client.get("/orders", case.query(api), headers=case.headers(api))
    reply = reply_of(response.status_code, response.headers, response.content)
    check(case, reply)
    if reply.status == 200:
        assert reply.body["client_id"] == client_id_of(api.read_write)


def test_each_method_asks_for_its_own_scope(api: Api, client: Client) -> None:  # noqa: F811
    assert client.post("/orders", headers=bearer(api.write_only)).status_code == 201
    assert client.post("/orders", headers=bearer(api.read_write)).status_code == 201
    assert client.get("/healthz").status_code == 200


def test_a_bad_token_is_refused_by_the_middleware_even_on_an_open_view(
    api: Api,  # noqa: F811
    client: Client,
) -> None:
    response = client.get("/healthz", headers=bearer(api.tampered()))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@gatepass_django.require_token("orders:read")
async def async_orders(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"client_id": request.gatepass_token.client_id})


def test_require_token_guards_async_views_too(api: Api, client: Client) -> None:  # noqa: F811
    urls = types.ModuleType("async_urls")
    urls.urlpatterns = [path("async-orders", async_orders)]  # type: ignore[attr-defined]
    with override_settings(ROOT_URLCONF=urls):
        assert client.get("/async-orders").status_code == 401
        allowed = client.get("/async-orders", headers=bearer(api.read_write))
        assert allowed.json() == {"client_id": client_id_of(api.read_write)}
        assert client.get("/async-orders", headers=bearer(api.write_only)).status_code == 403


def test_the_realm_setting_names_the_realm(client: Client) -> None:
    with override_settings(GATEPASS_REALM="orders"):
        response = client.get("/orders")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="orders"'


def test_use_replaces_the_verifier_built_from_the_settings(
    api: Api,  # noqa: F811
    client: Client,
) -> None:
    gatepass_django.use(TokenVerifier(api.issuer, "https://another.api.example"))
    assert client.get("/orders", headers=bearer(api.read_write)).status_code == 401
    gatepass_django.close()  # back to the settings
    assert client.get("/orders", headers=bearer(api.read_write)).status_code == 200


@pytest.mark.parametrize("missing", ["GATEPASS_ISSUER", "GATEPASS_AUDIENCE"])
def test_a_missing_setting_fails_when_the_middleware_loads(client: Client, missing: str) -> None:
    with override_settings(**{missing: None}), pytest.raises(ImproperlyConfigured, match=missing):
        Client().get("/orders")
