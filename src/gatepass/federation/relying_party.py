"""Login at an upstream provider: authorization code + PKCE (RFC 6749 §4.1, RFC 7636, OIDC
Core §3.1), gatepass being the relying party.

    begin     browser ──> provider's authorization endpoint
                          response_type=code, client_id, redirect_uri, scope, state,
                          nonce (OpenID), code_challenge=S256(verifier)
              PendingLogin (state, nonce, verifier) ──> the web layer, sealed in a cookie
    complete  browser ──> /login/NAME/callback?code&state[&iss]      (callback.py)
              token endpoint <── code + verifier + client secret      (token_exchange.py)
              OpenID:  id token: signature against the JWKS (crypto/foreign_jws.py),
                       claims (id_token.py); userinfo, its sub the id token's
              GitHub:  /user and /user/emails                         (github.py)

Every failure is an UpstreamError whose `reason` the web layer renders as a page with a
retry link; nothing here writes anything, so a failed login leaves nothing half-made.
"""

import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from gatepass.clock import Clock
from gatepass.crypto import foreign_jws
from gatepass.crypto.secrets import new_secret
from gatepass.errors import InvalidToken
from gatepass.federation.callback import check_callback, check_issuer_parameter
from gatepass.federation.github import github_identity
from gatepass.federation.http import call, client_for
from gatepass.federation.id_token import validate_claims
from gatepass.federation.metadata import POST, MetadataCache, ProviderMetadata
from gatepass.federation.model import (
    PendingLogin,
    UpstreamError,
    UpstreamIdentity,
    UpstreamProvider,
)
from gatepass.federation.presets import accepted_issuers, github_endpoints, uses_discovery
from gatepass.federation.token_exchange import TokenResponse, exchange_code

VERIFIER_BYTES = 48  # 64 characters: RFC 7636 §4.1 asks 43 to 128
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254


class RelyingParty:
    def __init__(
        self, clock: Clock, *, http: httpx.AsyncClient | None = None, timeout: float = 10.0
    ) -> None:
        """`http`: a client to share (its owner closes it); None: one per login step."""
        self._clock = clock
        self._http = http
        self._timeout = timeout
        self.metadata = MetadataCache(clock)

    async def begin(
        self, provider: UpstreamProvider, redirect_uri: str
    ) -> tuple[str, PendingLogin]:
        """The authorization URL to send the browser to, and what to keep until it returns."""
        pending = PendingLogin(
            provider=provider.name,
            state=new_secret(),
            nonce=new_secret(),
            code_verifier=secrets.token_urlsafe(VERIFIER_BYTES),
            created_at=self._clock.now(),
        )
        params = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(provider.scopes),
            "state": pending.state,
            "code_challenge": _challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        if uses_discovery(provider.kind):
            async with client_for(self._http, self._timeout) as http:
                endpoint = (
                    await self.metadata.metadata(http, provider.issuer)
                ).authorization_endpoint
            params["nonce"] = pending.nonce
        else:
            endpoint = github_endpoints(provider.issuer).authorization_endpoint
        return _with_query(endpoint, params), pending

    async def complete(
        self,
        provider: UpstreamProvider,
        pending: PendingLogin,
        params: Mapping[str, str],
        redirect_uri: str,
    ) -> UpstreamIdentity:
        """Who signed in upstream; UpstreamError for anything amiss."""
        code = check_callback(provider, pending, params, now=self._clock.now())
        async with client_for(self._http, self._timeout) as http:
            if not uses_discovery(provider.kind):
                endpoints = github_endpoints(provider.issuer)
                tokens = await exchange_code(
                    http,
                    provider,
                    endpoints.token_endpoint,
                    auth_method=POST,
                    code=code,
                    code_verifier=pending.code_verifier,
                    redirect_uri=redirect_uri,
                )
                return await github_identity(http, provider, tokens.access_token)
            metadata = await self.metadata.metadata(http, provider.issuer)
            check_issuer_parameter(
                params, accepted_issuers(provider), required=metadata.iss_parameter_supported
            )
            tokens = await exchange_code(
                http,
                provider,
                metadata.token_endpoint,
                auth_method=metadata.token_auth_method,
                code=code,
                code_verifier=pending.code_verifier,
                redirect_uri=redirect_uri,
            )
            claims = await self._id_token_claims(http, provider, metadata, tokens, pending)
            profile = await self._userinfo(http, metadata, tokens, claims["sub"])
        return _identity(provider, claims, profile)

    async def _id_token_claims(
        self,
        http: httpx.AsyncClient,
        provider: UpstreamProvider,
        metadata: ProviderMetadata,
        tokens: TokenResponse,
        pending: PendingLogin,
    ) -> dict[str, Any]:
        if tokens.id_token is None:  # OIDC Core §3.1.3.3: the response MUST hold one
            raise UpstreamError("invalid_id_token", "token response without an id token")
        claims = await self._verified(http, metadata, tokens.id_token)
        claims["sub"] = validate_claims(
            claims,
            issuers=accepted_issuers(provider),
            client_id=provider.client_id,
            nonce=pending.nonce,
            now=self._clock.now(),
        )
        return claims

    async def _verified(
        self, http: httpx.AsyncClient, metadata: ProviderMetadata, id_token: str
    ) -> dict[str, Any]:
        keys = await self.metadata.keys(http, metadata)
        try:
            return foreign_jws.verify(id_token, keys, metadata.id_token_algs)
        except foreign_jws.UnknownKey as exc:
            # OIDC Core §10.1.1: a provider may have rotated a key in since we fetched.
            fresh = await self.metadata.refetch_keys(http, metadata)
            if fresh is None:
                raise UpstreamError("invalid_id_token", exc.debug) from None
            try:
                return foreign_jws.verify(id_token, fresh, metadata.id_token_algs)
            except InvalidToken as again:
                raise UpstreamError("invalid_id_token", again.debug) from None
        except InvalidToken as exc:
            raise UpstreamError("invalid_id_token", exc.debug) from None

    async def _userinfo(
        self,
        http: httpx.AsyncClient,
        metadata: ProviderMetadata,
        tokens: TokenResponse,
        subject: str,
    ) -> dict[str, Any]:
        """The UserInfo claims (OIDC Core §5.3), or {} when there is no such endpoint or it
        answers with a signed JWT (the id token then says all we use)."""
        if metadata.userinfo_endpoint is None:
            return {}
        answer = await call(
            http,
            "GET",
            metadata.userinfo_endpoint,
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        if answer.status != 200:
            raise UpstreamError("unavailable", f"userinfo answered HTTP {answer.status}")
        if answer.content_type != "application/json":
            return {}
        profile = answer.json()
        if not isinstance(profile, dict):
            raise UpstreamError("unavailable", "userinfo is not a JSON object")
        # §5.3.4: the sub MUST be verified to match the id token's; else it is someone else.
        if profile.get("sub") != subject:
            raise UpstreamError("invalid_id_token", "userinfo is about another subject")
        return profile


def _identity(
    provider: UpstreamProvider, claims: Mapping[str, Any], profile: Mapping[str, Any]
) -> UpstreamIdentity:
    # E-mail and its verification come as a pair from one source: the id token if it has
    # an address, else UserInfo. Only a literal true counts as verified.
    source = claims if isinstance(claims.get("email"), str) else profile
    email = _text(source.get("email"), MAX_EMAIL_CHARS)
    subject: str = claims["sub"]
    names = [claims.get("name"), profile.get("name")]
    names += [claims.get("preferred_username"), profile.get("preferred_username"), email]
    amr = claims.get("amr")
    return UpstreamIdentity(
        provider=provider.name,
        subject=subject,
        email=email,
        email_verified=email is not None and source.get("email_verified") is True,
        name=next((n for n in (_text(v, MAX_NAME_CHARS) for v in names) if n), subject),
        amr=tuple(a for a in amr if isinstance(a, str))[:10] if isinstance(amr, list) else (),
    )


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return value.strip()


def _challenge(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(endpoint: str, params: Mapping[str, str]) -> str:
    """The endpoint with `params` added to any query it has (OIDC Core §3.1.2.1 allows one)."""
    parts = urlsplit(endpoint)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
