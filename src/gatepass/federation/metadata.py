"""A provider's discovery document (OpenID Connect Discovery 1.0) and JWKS, cached.

    metadata(issuer)  GET {issuer}/.well-known/openid-configuration  (§4)
                      its `issuer` must be exactly the configured one (§4.3): else the
                      provider is "misconfigured"; endpoints https (http: loopback only)
    keys(metadata)    GET {jwks_uri}, keys pinned to their algorithms (crypto/foreign_jws)
    refetch_keys(..)  a key rotated in (OIDC Core §10.1.1): fetch again, but at most once
                      per JWKS_REFETCH_SECONDS, so tokens with invented kids cost the
                      provider one request a minute, not one each

Both live in process memory for CACHE_SECONDS: a cache, never a source of truth (every
process fetches its own). Failures are not cached.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from gatepass.clock import Clock
from gatepass.config import LOOPBACK_HOSTS
from gatepass.crypto.foreign_jws import ALGORITHMS, ForeignKey, import_jwks
from gatepass.federation.http import call
from gatepass.federation.model import UpstreamError

DISCOVERY_PATH = "/.well-known/openid-configuration"
CACHE_SECONDS = 3600.0
JWKS_REFETCH_SECONDS = 60.0
BASIC, POST = "client_secret_basic", "client_secret_post"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    token_auth_method: str  # BASIC or POST
    id_token_algs: tuple[str, ...]  # advertised, and among those crypto/foreign_jws allows
    iss_parameter_supported: bool  # RFC 9207 §3


@dataclass
class _Keys:
    keys: list[ForeignKey]
    fetched_at: float


class MetadataCache:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._metadata: dict[str, tuple[ProviderMetadata, float]] = {}
        self._keys: dict[str, _Keys] = {}

    async def metadata(self, http: httpx.AsyncClient, issuer: str) -> ProviderMetadata:
        cached = self._metadata.get(issuer)
        now = self._clock.now()
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        # OIDC Discovery §4: the path is appended to the issuer without its trailing "/".
        answer = await call(http, "GET", issuer.rstrip("/") + DISCOVERY_PATH)
        if answer.status != 200:
            raise UpstreamError("unavailable", f"discovery answered HTTP {answer.status}")
        metadata = parse_metadata(answer.json(), issuer)
        self._metadata[issuer] = (metadata, now)
        return metadata

    async def keys(self, http: httpx.AsyncClient, metadata: ProviderMetadata) -> list[ForeignKey]:
        cached = self._keys.get(metadata.jwks_uri)
        if cached is not None and self._clock.now() - cached.fetched_at < CACHE_SECONDS:
            return cached.keys
        return await self._fetch_keys(http, metadata)

    async def refetch_keys(
        self, http: httpx.AsyncClient, metadata: ProviderMetadata
    ) -> list[ForeignKey] | None:
        """Fresh keys, or None when the last fetch was under JWKS_REFETCH_SECONDS ago."""
        cached = self._keys.get(metadata.jwks_uri)
        if cached is not None and self._clock.now() - cached.fetched_at < JWKS_REFETCH_SECONDS:
            return None
        return await self._fetch_keys(http, metadata)

    async def _fetch_keys(
        self, http: httpx.AsyncClient, metadata: ProviderMetadata
    ) -> list[ForeignKey]:
        answer = await call(http, "GET", metadata.jwks_uri)
        if answer.status != 200:
            raise UpstreamError("unavailable", f"JWKS answered HTTP {answer.status}")
        try:
            keys = import_jwks(answer.json())
        except ValueError:
            raise UpstreamError("unavailable", "the JWKS is not a JWK Set") from None
        self._keys[metadata.jwks_uri] = _Keys(keys, self._clock.now())
        return keys


def parse_metadata(document: Any, issuer: str) -> ProviderMetadata:
    """The parts of a discovery document a relying party needs, checked."""
    if not isinstance(document, dict):
        raise UpstreamError("unavailable", "discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        # §4.3: MUST be identical, or the document is someone else's (or a mix-up).
        raise UpstreamError(
            "misconfigured", f"discovery says issuer {str(document.get('issuer'))[:200]!r}"
        )
    advertised = _strings(document, "id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(alg for alg in advertised if alg in ALGORITHMS)
    if not algorithms:
        raise UpstreamError("misconfigured", f"no usable id token algorithm in {advertised}")
    methods = _strings(document, "token_endpoint_auth_methods_supported") or [BASIC]
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_endpoint(document, "authorization_endpoint"),
        token_endpoint=_endpoint(document, "token_endpoint"),
        jwks_uri=_endpoint(document, "jwks_uri"),
        userinfo_endpoint=_endpoint(document, "userinfo_endpoint", required=False) or None,
        # Basic is what RFC 6749 §2.3.1 makes every server support; post only if it must.
        token_auth_method=POST if POST in methods and BASIC not in methods else BASIC,
        id_token_algs=algorithms,
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
        is True,
    )


def _strings(document: Mapping[str, Any], name: str) -> list[str]:
    value = document.get(name)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _endpoint(document: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    url = document.get(name)
    if url is None and not required:
        return ""
    if not isinstance(url, str):
        raise UpstreamError("misconfigured", f"discovery has no {name}")
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS
    )
    if not secure or not parts.hostname or parts.fragment:
        raise UpstreamError("misconfigured", f"{name} {url[:200]!r} is not an https URL")
    return url
