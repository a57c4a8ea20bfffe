"""Provider metadata (OIDC Discovery §3/§4, RFC 8414) at both well-known URLs, on every backend."""

from typing import Any

import httpx
import pytest

from gatepass.config import Settings
from gatepass.oidc.discovery import (
    ENDPOINT_PATHS,
    OAUTH_METADATA_PATH,
    OPENID_CONFIGURATION_PATH,
    ProviderFacts,
    provider_metadata,
)
from gatepass.storage.backends import Backends

DOCUMENTS = (OPENID_CONFIGURATION_PATH, OAUTH_METADATA_PATH)


async def metadata(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "set-cookie" not in response.headers
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("path", DOCUMENTS)
async def test_the_issuer_is_exactly_the_configured_one_whatever_host_says__rfc8414_3_3(
    client: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    assert (await metadata(client, path))["issuer"] == settings.issuer
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    hostile = await metadata(client, path, evil)
    assert hostile["issuer"] == settings.issuer
    assert "evil.example" not in str(hostile)


async def test_both_documents_say_the_same(client: httpx.AsyncClient) -> None:
    first, second = [(await client.get(path)).content for path in DOCUMENTS]
    assert first == second


async def test_only_the_code_flow_with_s256_and_the_iss_parameter_is_advertised__r9_r16(
    client: httpx.AsyncClient,
) -> None:
    doc = await metadata(client, OPENID_CONFIGURATION_PATH)
    assert doc["response_types_supported"] == ["code"]
    assert doc["response_modes_supported"] == ["query"]
    assert not {"implicit", "password"} & set(doc["grant_types_supported"])
    assert "authorization_code" in doc["grant_types_supported"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["subject_types_supported"] == ["public"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert "openid" in doc["scopes_supported"]
    assert {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce"} <= set(doc["claims_supported"])


async def test_rs256_comes_first_among_id_token_algorithms__oidc_core_15_1(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    algs = (await metadata(client, OPENID_CONFIGURATION_PATH))[
        "id_token_signing_alg_values_supported"
    ]
    assert algs[0] == "RS256"
    assert set(algs) == set(settings.signing_algorithms)


async def test_every_advertised_endpoint_answers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    doc = await metadata(client, OPENID_CONFIGURATION_PATH)
    urls = [value for name, value in doc.items() if name in ENDPOINT_PATHS]
    assert f"{settings.issuer}/jwks.json" in urls
    for url in [*urls, *(settings.issuer + path for path in DOCUMENTS)]:
        assert url.startswith(settings.issuer + "/")
        response = await client.get(url)
        assert response.status_code != 404, url


async def test_the_documents_are_served_without_storage_or_session(
    client: httpx.AsyncClient, backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("storage was read for the metadata")

    monkeypatch.setattr(backends.signing_keys, "list_all", refuse)
    client.cookies.set("gp_session", "x" * 43)
    for path in DOCUMENTS:
        assert (await client.get(path)).status_code == 200


# ---- the builder


def facts(**changes: Any) -> ProviderFacts:
    base: dict[str, Any] = {
        "issuer": "https://id.example.com",
        "endpoints": ("jwks_uri",),
        "grant_types": ("authorization_code",),
        "id_token_algs": ("ES256", "RS256"),
        "scopes": ("openid",),
    }
    return ProviderFacts(**(base | changes))


def test_only_the_endpoints_that_exist_are_listed() -> None:
    doc = provider_metadata(facts())
    assert doc["jwks_uri"] == "https://id.example.com/jwks.json"
    assert not {"authorization_endpoint", "token_endpoint", "end_session_endpoint"} & set(doc)
    everything = provider_metadata(facts(endpoints=tuple(ENDPOINT_PATHS)))
    assert everything["token_endpoint"] == "https://id.example.com/token"
    assert everything["revocation_endpoint"] == "https://id.example.com/revoke"


def test_rs256_is_listed_first_even_when_not_configured_first() -> None:
    assert provider_metadata(facts())["id_token_signing_alg_values_supported"] == [
        "RS256",
        "ES256",
    ]


@pytest.mark.parametrize("grant", ["implicit", "password"])
def test_implicit_and_password_are_never_advertised__rfc9700_2_1_2_and_2_4(grant: str) -> None:
    with pytest.raises(ValueError, match=grant):
        provider_metadata(facts(grant_types=("authorization_code", grant)))


def test_an_unknown_endpoint_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown endpoints"):
        provider_metadata(facts(endpoints=("jwks_uri", "magic_endpoint")))
