"""Every issued JWT checked by libraries that share no code with gatepass's own JOSE stack.

Signatures and registered claims: PyJWT, with keys from the discovered `jwks_uri` through
PyJWKClient and the algorithm pinned. The id token's OpenID rules are then checked a
second time by Authlib's own validator (authlib.oidc.core.CodeIDToken). at_hash is
recomputed here from OIDC Core §3.1.3.6 by hand, a third opinion.
"""

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import jwt
from authlib.oidc.core import CodeIDToken

from tests.interop.relying_party import Provider

ID_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "at_hash")
# RFC 9068 §2.2: what every JWT access token carries.
ACCESS_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")
AT_HASH = {"RS256": hashlib.sha256, "ES256": hashlib.sha256}


@dataclass(frozen=True)
class Verified:
    header: dict[str, Any]
    claims: dict[str, Any]


async def verify_jwt(
    provider: Provider, token: str, *, alg: str, audience: str, require: tuple[str, ...]
) -> Verified:
    """Signature by the published key the token names, alg pinned, iss, aud, exp, iat,
    and the required claims present; no leeway."""
    keys = jwt.PyJWKClient(provider.endpoint("jwks_uri"), cache_jwk_set=False)
    # PyJWKClient fetches with urllib: off the event loop.
    key = await asyncio.to_thread(keys.get_signing_key_from_jwt, token)
    # The published key says which algorithm it is for (RFC 7517 §4.4): the same one.
    assert key.algorithm_name == alg, (key.algorithm_name, alg)
    decoded = jwt.decode_complete(
        token,
        key.key,
        algorithms=[alg],
        audience=audience,
        issuer=provider.issuer,
        options={"require": list(require), "strict_aud": True},
    )
    return Verified(decoded["header"], decoded["payload"])


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of the hash of the token's ASCII."""
    digest = AT_HASH[alg](access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


async def verify_id_token(
    provider: Provider, id_token: str, *, client_id: str, nonce: str, access_token: str
) -> Verified:
    """An RS256 id token for `client_id` (OIDC Core §3.1.3.7), checked twice."""
    verified = await verify_jwt(
        provider, id_token, alg="RS256", audience=client_id, require=ID_TOKEN_CLAIMS
    )
    claims = verified.claims
    assert verified.header["alg"] == "RS256"
    assert verified.header.get("typ") != "at+jwt"  # never mistaken for an access token
    assert claims["nonce"] == nonce
    assert claims["at_hash"] == at_hash(access_token, "RS256")
    assert isinstance(claims["auth_time"], int)
    assert claims["auth_time"] <= claims["iat"] < claims["exp"], claims
    assert isinstance(claims["sid"], str)
    assert claims["sid"]
    # Core §2: azp is needed only with several audiences; this token has one.
    assert "azp" not in claims or claims["azp"] == client_id
    _authlib_validates(verified, client_id=client_id, nonce=nonce, access_token=access_token)
    return verified


def _authlib_validates(
    verified: Verified, *, client_id: str, nonce: str, access_token: str
) -> None:
    """Authlib's own reading of OIDC Core §3.1.3.7 (iss, aud, exp, nonce, azp, at_hash)."""
    checked = CodeIDToken(
        verified.claims,
        verified.header,
        options={
            "iss": {"essential": True, "value": verified.claims["iss"]},
            "aud": {"essential": True, "value": client_id},
        },
        params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    checked.validate()


async def verify_access_token(
    provider: Provider,
    access_token: str,
    *,
    alg: str,
    audience: str,
    client_id: str,
    scope: str,
    ttl_seconds: int,
) -> Verified:
    """An RFC 9068 access token: `typ` at+jwt, the configured alg, audience and lifetime."""
    verified = await verify_jwt(
        provider, access_token, alg=alg, audience=audience, require=ACCESS_TOKEN_CLAIMS
    )
    claims = verified.claims
    assert verified.header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert verified.header["alg"] == alg
    assert claims["client_id"] == client_id
    assert claims["scope"] == scope
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
    assert claims["exp"] - claims["iat"] == ttl_seconds
    # RFC 9068 §6: no personal data in a token anyone holding it can read.
    assert not {"email", "name", "email_verified"} & claims.keys()
    return verified
