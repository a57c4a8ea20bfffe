"""Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): one document, two URLs.

The same JSON answers /.well-known/openid-configuration and
/.well-known/oauth-authorization-server: RFC 8414 registers the OIDC Discovery
members for its document too, so one source cannot drift from the other.

It lists only what exists: the caller names the endpoints that are wired, so an
endpoint appears in discovery in the same change that makes it answer.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gatepass.oidc.acr import ACR_VALUES_SUPPORTED

OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
OAUTH_METADATA_PATH = "/.well-known/oauth-authorization-server"

# Metadata member -> path under the issuer.
ENDPOINT_PATHS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks.json",
    "end_session_endpoint": "/logout",
    "revocation_endpoint": "/revoke",
    "introspection_endpoint": "/introspect",
}
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
CLIENT_AUTH_METHODS = {
    # RFC 7009 §2.1: public clients may revoke their own tokens, naming themselves.
    "revocation_endpoint": list(TOKEN_AUTH_METHODS),
    # Introspection only answers confidential clients (oauth/introspection.py).
    "introspection_endpoint": ["client_secret_basic", "client_secret_post"],
}
# RFC 9700 §2.1.2 and §2.4: never advertised, whatever a caller passes.
REFUSED_GRANT_TYPES = frozenset({"implicit", "password"})
# OIDC Core §15.1: RS256 MUST be supported; it is listed first.
REQUIRED_ID_TOKEN_ALG = "RS256"  # noqa: S105 - an algorithm name
# The claims an id token or /userinfo may carry (Discovery §3 claims_supported).
CLAIMS_SUPPORTED = (
    "iss", "sub", "aud", "exp", "iat", "auth_time", "amr", "acr", "idp", "nonce", "sid", "azp",
    "at_hash",
    "email", "email_verified", "name",
)  # fmt: skip


@dataclass(frozen=True)
class ProviderFacts:
    """What the metadata is built from: settings and what is wired, nothing from a request."""

    issuer: str
    endpoints: Sequence[str]  # keys of ENDPOINT_PATHS that exist
    grant_types: Sequence[str]
    id_token_algs: Sequence[str]
    scopes: Sequence[str]


def provider_metadata(facts: ProviderFacts) -> dict[str, Any]:
    """The metadata document. `issuer` is the configured one, never a Host header
    (RFC 8414 §3.3, Discovery §4.3: it MUST equal the URL the document was fetched under)."""
    unknown = set(facts.endpoints) - set(ENDPOINT_PATHS)
    if unknown:
        raise ValueError(f"unknown endpoints {sorted(unknown)}")
    refused = REFUSED_GRANT_TYPES.intersection(facts.grant_types)
    if refused:
        raise ValueError(f"grant types never advertised: {sorted(refused)}")
    metadata: dict[str, Any] = {"issuer": facts.issuer}
    for name, path in ENDPOINT_PATHS.items():
        if name in facts.endpoints:
            metadata[name] = facts.issuer + path
    # RFC 8414 §2: how clients authenticate at /revoke and /introspect, where they exist.
    for endpoint, methods in CLIENT_AUTH_METHODS.items():
        if endpoint in facts.endpoints:
            metadata[endpoint.replace("_endpoint", "_endpoint_auth_methods_supported")] = methods
    return metadata | {
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        # Always present: RFC 8414 §2 reads an absent list as authorization_code + implicit.
        "grant_types_supported": list(dict.fromkeys(facts.grant_types)),
        "code_challenge_methods_supported": ["S256"],  # RFC 7636 §4.2: plain is refused
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": _id_token_algs(facts.id_token_algs),
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "scopes_supported": list(dict.fromkeys(facts.scopes)),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "acr_values_supported": list(ACR_VALUES_SUPPORTED),  # oidc/acr.py
    }


def render(metadata: dict[str, Any]) -> bytes:
    """The JSON body, rendered once at start."""
    return json.dumps(metadata, separators=(",", ":")).encode()


def _id_token_algs(configured: Sequence[str]) -> list[str]:
    return list(dict.fromkeys((REQUIRED_ID_TOKEN_ALG, *configured)))
