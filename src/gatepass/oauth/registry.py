"""The client registry: register, look up, rotate and authenticate OAuth clients (RFC 6749 §2)."""

import functools
from collections.abc import Callable

from gatepass.clock import Clock
from gatepass.oauth.client_secrets import ClientSecrets, new_secret
from gatepass.oauth.clients import (
    Client,
    ClientRegistration,
    looks_like_client_id,
    new_client_id,
    validate_registration,
)
from gatepass.oauth.errors import InvalidClient, InvalidRequest
from gatepass.oauth.store import ClientStore


class ClientRegistry:
    def __init__(
        self, store: ClientStore, hmac_key: bytes | Callable[[], bytes], clock: Clock
    ) -> None:
        """`hmac_key` may be given as a function, called on first use: the key derives from
        the master key, whose file should not appear because a command never used it."""
        self._store = store
        self._hmac_key = hmac_key
        self._clock = clock

    @functools.cached_property
    def _secrets(self) -> ClientSecrets:
        key = self._hmac_key
        return ClientSecrets(key if isinstance(key, bytes) else key())

    async def create(self, registration: ClientRegistration) -> tuple[Client, str | None]:
        """The new client and, for a confidential one, its secret: shown this once, never stored."""
        clean = validate_registration(registration)
        client_id = new_client_id()
        secret = None if clean.public else new_secret()
        now = self._clock.now()
        client = Client(
            client_id=client_id,
            name=clean.name,
            secret_digest=None if secret is None else self._secrets.digest(client_id, secret),
            redirect_uris=clean.redirect_uris,
            post_logout_redirect_uris=clean.post_logout_redirect_uris,
            grant_types=clean.grant_types,
            scopes=clean.scopes,
            first_party=clean.first_party,
            id_token_alg=clean.id_token_alg,
            created_at=now,
            updated_at=now,
            refresh_token_idle_ttl=clean.refresh_token_idle_ttl,
            refresh_token_absolute_ttl=clean.refresh_token_absolute_ttl,
            refresh_retry_window=clean.refresh_retry_window,
            default_audience=clean.default_audience,
        )
        await self._store.add(client)
        return client, secret

    async def get(self, client_id: str) -> Client | None:
        if not looks_like_client_id(client_id):
            return None  # garbage never reaches storage
        return await self._store.get(client_id)

    async def list_all(self) -> list[Client]:
        return await self._store.list_all()

    async def delete(self, client_id: str) -> bool:
        return looks_like_client_id(client_id) and await self._store.delete(client_id)

    async def rotate_secret(self, client_id: str) -> tuple[Client, str] | None:
        """A new secret replaces the old at once (the old one stops working); None if unknown."""
        client = await self.get(client_id)
        if client is None:
            return None
        if not client.confidential:
            raise InvalidRequest("A public client has no secret to rotate.")
        secret = new_secret()
        digest = self._secrets.digest(client_id, secret)
        updated = await self._store.set_secret_digest(client_id, digest, now=self._clock.now())
        return None if updated is None else (updated, secret)

    async def authenticate(self, client_id: str, secret: str | None) -> Client:
        """The client, when `secret` proves it; raises InvalidClient otherwise.

        A confidential client must present its secret; a public client presents
        none (`token_endpoint_auth_method=none`, RFC 6749 §2.1: it cannot keep one),
        and one that sends a secret anyway is refused. Every failure looks alike.
        """
        client = await self.get(client_id)
        if secret is None:
            if client is not None and not client.confidential:
                return client
            raise InvalidClient(debug="no secret from an unknown or confidential client")
        stored = client.secret_digest if client is not None else None
        verified = self._secrets.verify(client_id, secret, stored)  # same work when unknown
        if client is None or not verified:
            raise InvalidClient(debug="unknown client or wrong secret")
        return client
