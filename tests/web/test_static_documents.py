"""The provider metadata and the JWKS, answered ahead of the router
(web/middleware/static_documents.py): the same answer as through a route, HEAD without a
body, other methods 405, the security headers and the metrics as for any page."""

import httpx

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
