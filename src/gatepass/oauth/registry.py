"""The client registry: register, look up, rotate and authenticate OAuth clients (RFC 6749 §2)."""

import asyncio
import functools
import time
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

# Clients remembered at most this many at once (a flood of ids costs lookups, not memory).
CACHE_SIZE = 1024


class ClientRegistry:
    def __init__(
        self,
        store: ClientStore,
        hmac_key: bytes | Callable[[], bytes],
        clock: Clock,
        *,
        cache_seconds: float = 0.0,
    ) -> None:
        """`hmac_key` may be given as a function, called on first use: the key derives from
        the master key, whose file should not appear because a command never used it.

        With `cache_seconds`, a client found is remembered that long, so the token endpoint
        does not read the same record for every request; a change made through this
        registry applies here at once, one made elsewhere (another process, the CLI) after
        at most `cache_seconds`. An unknown id is never remembered: a new client works at
        once everywhere."""
        self._store = store
        self._hmac_key = hmac_key
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Client]] = {}  # id -> (monotonic deadline, client)
        self._loading: dict[str, asyncio.Task[Client | None]] = {}  # id -> its read in flight

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
            require_mfa=clean.require_mfa,
        )
        await self._store.add(client)
        return client, secret

    async def get(self, client_id: str) -> Client | None:
        if not looks_like_client_id(client_id):
            return None  # garbage never reaches storage
        if not self._cache_seconds:
            return await self._store.get(client_id)
        hit = self._cache.get(client_id)
        if hit is not None and time.monotonic() < hit[0]:
            return hit[1]
        # One read per client at a time: when a copy expires under load, every request in
        # flight for that client would otherwise read the same row at once (a pool's worth
        # of connections, every `cache_seconds`). They all wait for the one read instead,
        # each shielded, so a caller that gives up does not cancel it for the others.
        loading = self._loading.get(client_id)
        if loading is None or loading.get_loop() is not asyncio.get_running_loop():
            loading = asyncio.create_task(self._store.get(client_id))
            self._loading[client_id] = loading
            loading.add_done_callback(functools.partial(self._loaded, client_id))
        return await asyncio.shield(loading)

    def _loaded(self, client_id: str, loading: "asyncio.Task[Client | None]") -> None:
        if self._loading.get(client_id) is not loading:
            return  # forgotten while it was read: the answer may predate the change
        del self._loading[client_id]
        if loading.cancelled() or loading.exception() is not None:
            return  # each waiter got the error; the next request reads again
        client = loading.result()
        if client is None:
            self._cache.pop(client_id, None)
            return
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[client_id] = (time.monotonic() + self._cache_seconds, client)

    def forget(self, client_id: str) -> None:
        """Drop this process's copy of a client that was changed or deleted, and any read
        of it in flight (its waiters get that answer; nothing later does)."""
        self._cache.pop(client_id, None)
        self._loading.pop(client_id, None)

    async def list_all(self) -> list[Client]:
        return await self._store.list_all()

    async def delete(self, client_id: str) -> bool:
        self.forget(client_id)
        return looks_like_client_id(client_id) and await self._store.delete(client_id)

    async def rotate_secret(self, client_id: str) -> tuple[Client, str] | None:
        """A new secret replaces the old (in other processes once their copy of the client
        expires, `cache_seconds`); None if unknown."""
        client = await self.get(client_id)
        if client is None:
            return None
        if not client.confidential:
            raise InvalidRequest("A public client has no secret to rotate.")
        secret = new_secret()
        digest = self._secrets.digest(client_id, secret)
        updated = await self._store.set_secret_digest(client_id, digest, now=self._clock.now())
        self.forget(client_id)
        return None if updated is None else (updated, secret)

    async def authenticate(self, client_id: str, secret: str | None) -> Client:
        """The client, when `secret` proves it; raises InvalidClient otherwise.

        A confidential client must present its secret; a public client presents
        none (`token_endpoint_auth_method=none`, RFC 6749 §2.1: it cannot keep one),
        and one that sends a secret anyway is refused. Every failure looks alike.
        """
        return self.check_secret(await self.get(client_id), client_id, secret)

    def check_secret(self, client: Client | None, client_id: str, secret: str | None) -> Client:
        """`authenticate` for a client already looked up (`get(client_id)`)."""
        if secret is None:
            if client is not None and not client.confidential:
                return client
            raise InvalidClient(debug="no secret from an unknown or confidential client")
        stored = client.secret_digest if client is not None else None
        verified = self._secrets.verify(client_id, secret, stored)  # same work when unknown
        if client is None or not verified:
            raise InvalidClient(debug="unknown client or wrong secret")
        return client
