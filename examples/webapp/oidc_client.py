"""The relying-party side of OpenID Connect, for a confidential client of gatepass.

    /login ──► authorization_url(state, nonce, PKCE S256 challenge) ──► gatepass /authorize
    /callback ◄── code, state, iss ──┐
        exchange_code: POST /token, client_secret_basic, code_verifier
        verify_id_token: signature (gatepass's JWKS), typ JWT, iss, aud (azp), exp, iat, nonce
        userinfo: name and email, for the same `sub`
    /logout ──► end_session_url(id_token_hint, post_logout_redirect_uri, state)

gatepass.resource's TokenVerifier checks access tokens (`typ: at+jwt`) and refuses id
tokens on purpose (`typ: JWT`), so the id token is verified here with joserfc, against
the keys gatepass publishes; no cryptography is written by hand.
"""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LEEWAY_SECONDS = 30  # clock skew between this app and gatepass
JWKS_REFETCH_SECONDS = 10.0  # an unknown `kid` refetches the keys at most this often
ID_TOKEN_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})  # what gatepass signs with


class SignInFailed(Exception):
    """The sign-in cannot complete; `message` is safe to show, `status` is the page's."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ClientSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str = "openid profile email"


@dataclass(frozen=True)
class SignedIn:
    """The verified outcome of a callback."""

    claims: dict[str, Any]  # the id token's
    id_token: str
    name: str
    email: str


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 §4.1-4.2: a 256-bit verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Provider:
    """gatepass as this app's OpenID Provider: its metadata, keys and endpoints."""

    def __init__(self, settings: ClientSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self._http = http
        self.metadata: dict[str, Any] = {}
        self._keys: KeySet | None = None
        self._keys_fetched_at = -JWKS_REFETCH_SECONDS

    async def discover(self) -> None:
        """Read the metadata; OIDC Discovery §4.3: its issuer MUST be the one configured."""
        url = self.settings.issuer + "/.well-known/openid-configuration"
        response = await self._http.get(url)
        response.raise_for_status()
        metadata = response.json()
        if not isinstance(metadata, dict) or metadata.get("issuer") != self.settings.issuer:
            raise RuntimeError(f"{url} names another issuer than {self.settings.issuer}")
        self.metadata = metadata
        await self._fetch_keys()

    def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": self.settings.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.metadata['authorization_endpoint']}?{urlencode(query)}"

    def check_issuer(self, iss: str | None) -> None:
        """RFC 9207 §2.4: where the provider says it sends `iss`, it must be there and be
        the issuer (a mix-up attack otherwise)."""
        required = self.metadata.get("authorization_response_iss_parameter_supported")
        if (iss is not None or required) and iss != self.settings.issuer:
            raise SignInFailed("The sign-in answer came from an unexpected issuer.")

    async def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        """RFC 6749 §4.1.3 with client_secret_basic (§2.3.1: id and secret form-encoded
        before Basic) and the PKCE verifier."""
        auth = httpx.BasicAuth(
            quote(self.settings.client_id, safe=""), quote(self.settings.client_secret, safe="")
        )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "code_verifier": code_verifier,
        }
        response = await self._http.post(self.metadata["token_endpoint"], data=form, auth=auth)
        body = _json_object(response)
        if response.status_code != 200:
            # invalid_grant: the code was used, expired, or not ours; try again.
            raise SignInFailed("gatepass did not accept this sign-in; please sign in again.")
        if not isinstance(body.get("id_token"), str) or not isinstance(
            body.get("access_token"), str
        ):
            raise SignInFailed("gatepass's answer has no id token.", status=502)
        return body

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: the claims of a valid id token for this client and this
        sign-in, or SignInFailed."""
        try:
            header = jws.extract_compact(id_token.encode("ascii")).protected
            key = await self._key(header.get("kid"), header.get("alg"))
            if header.get("typ") != "JWT":  # an access token (at+jwt) is no id token
                raise SignInFailed("The id token has the wrong type.", status=502)
            token = jwt.decode(id_token, key, algorithms=[header["alg"]])
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                # Core §3.1.3.7 step 11: the nonce sent, against replayed id tokens.
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError, UnicodeError) as exc:
            raise SignInFailed(f"The id token is not valid ({type(exc).__name__}).", 502) from exc
        claims = token.claims
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # Core §3.1.3.7 steps 4-5: several audiences need azp, and azp must be us.
        if (len(audience) > 1 or "azp" in claims) and claims.get("azp") != (
            self.settings.client_id
        ):
            raise SignInFailed("The id token was issued to another client.", status=502)
        return claims

    async def userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        response = await self._http.get(
            self.metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
        )
        body = _json_object(response)
        # Core §5.3.2: the sub in the UserInfo response MUST match the id token's.
        if response.status_code != 200 or body.get("sub") != subject:
            raise SignInFailed("gatepass did not tell who signed in.", status=502)
        return body

    async def sign_in(self, code: str, login_nonce: str, code_verifier: str) -> SignedIn:
        tokens = await self.exchange_code(code, code_verifier)
        claims = await self.verify_id_token(tokens["id_token"], login_nonce)
        info = await self.userinfo(tokens["access_token"], claims["sub"])
        # The access token is not kept: this app only needed it for /userinfo.
        email = _text(info.get("email"))
        return SignedIn(claims, tokens["id_token"], _text(info.get("name")) or email, email)

    def end_session_url(self, id_token: str, post_logout_redirect_uri: str, state: str) -> str:
        """OIDC RP-Initiated Logout 1.0 §2."""
        query = {
            "id_token_hint": id_token,
            "client_id": self.settings.client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "state": state,
        }
        return f"{self.metadata['end_session_endpoint']}?{urlencode(query)}"

    async def _key(self, kid: Any, alg: Any) -> Any:
        """The published key for `kid`, refetched once (rate-limited) when unknown (a key
        rotated in since the last fetch); its own algorithm only."""
        if not isinstance(kid, str) or alg not in ID_TOKEN_ALGORITHMS:
            raise SignInFailed("The id token names no usable key.", status=502)
        key = self._known(kid)
        if key is None and time.monotonic() >= self._keys_fetched_at + JWKS_REFETCH_SECONDS:
            await self._fetch_keys()
            key = self._known(kid)
        if key is None or key.get("alg") not in (None, alg):
            raise SignInFailed("The id token names no usable key.", status=502)
        return key

    def _known(self, kid: str) -> Any:
        if self._keys is None:
            return None
        return next((k for k in self._keys.keys if k.kid == kid), None)

    async def _fetch_keys(self) -> None:
        self._keys_fetched_at = time.monotonic()
        response = await self._http.get(self.metadata["jwks_uri"])
        response.raise_for_status()
        self._keys = KeySet.import_key_set(response.json())


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SignInFailed("gatepass answered something unexpected.", status=502)
    return body


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
