"""The provider metadata and the JWKS, answered ahead of the router
(web/middleware/static_documents.py): the same answer as through a route, HEAD without a
body, other methods 405, the security headers and the metrics as for any page."""

import httpx

from gatepass.config import Settings
from gatepass.web.app import create_app
from tests.support import metric_value
from tests.web.conftest import assert_clean_error

PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


async def test_get_and_head_answer_with_the_document_and_its_headers(
    client: httpx.AsyncClient,
) -> None:
    for path, media_type in (
        (PATHS[0], "application/json"),
        ("/jwks.json", "application/jwk-set+json"),
    ):
        got = await client.get(path, params={"ignored": "1"})
        assert got.status_code == 200
        assert got.headers["content-type"] == media_type
        assert got.headers["cache-control"].startswith("public, max-age=")
        assert got.headers["access-control-allow-origin"] == "*"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "set-cookie" not in got.headers
        assert int(got.headers["content-length"]) == len(got.content) > 0
        head = await client.head(path)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
    assert (await client.get(PATHS[0])).json() == (await client.get(PATHS[1])).json()
    assert "keys" in (await client.get("/jwks.json")).json()


async def test_other_methods_are_refused_by_the_router(client: httpx.AsyncClient) -> None:
    for path in (*PATHS, "/jwks.json"):
        for method in ("POST", "PUT", "DELETE"):
            assert_clean_error(await client.request(method, path), 405)


async def test_the_answers_are_counted_and_an_unknown_method_gets_one_label(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/jwks.json")
    await client.request("BREW", "/jwks.json")
    text = (await client.get("/metrics")).text
    assert 'gatepass_http_requests_total{method="GET",route="/jwks.json",status="200"}' in text
    assert "BREW" not in text
    assert 'method="other"' in text


async def test_the_answer_at_once_is_the_routed_answer_and_is_counted(
    client: httpx.AsyncClient,
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    for path in (*PATHS, "/jwks.json"):
        routed = await client.get(path)
        answer = app.answer_at_once("GET", path)
        assert answer is not None
        headers, body = answer
        assert body == routed.content
        assert headers == routed.headers.raw  # the same headers, in the same order
        assert app.answer_at_once("HEAD", path) == answer  # the server leaves the body out
    for method, path in (("POST", "/jwks.json"), ("GET", "/jwks.json/"), ("GET", "/login")):
        assert app.answer_at_once(method, path) is None  # the router's to answer
    before = (await client.get("/metrics")).text
    app.answer_at_once("HEAD", "/jwks.json")
    after = (await client.get("/metrics")).text
    series = 'gatepass_http_requests_total{method="HEAD",route="/jwks.json",status="200"}'
    assert metric_value(after, series) == metric_value(before, series) + 1


def test_nothing_is_answered_at_once_before_the_app_has_started(settings: Settings) -> None:
    app = create_app(settings)
    assert app.answer_at_once("GET", "/jwks.json") is None
