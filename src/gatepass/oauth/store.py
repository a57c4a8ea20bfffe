"""Storage the OAuth core needs: the client registry."""

from typing import Protocol

from gatepass.oauth.clients import Client


class DuplicateClient(Exception):
    """`add` found the client id taken; nothing was written."""


class ClientStore(Protocol):
    """Durable client records.

    After `add(client)`, `get(client.client_id)` returns an equal Client and
    `list_all()` includes it; a second `add` with the same client id raises
    DuplicateClient and writes nothing. `list_all` returns clients oldest first.
    `set_secret_digest` replaces the digest and `updated_at` and returns the new
    record, or None when no such client exists; the old digest is gone. After
    `delete(client_id)` returns True, `get` returns None and `list_all` omits it;
    `delete` of an unknown id returns False. `set_require_mfa` sets the client's
    `require_mfa` (True, False or None) and `updated_at` and returns the new record, or
    None when no such client exists.
    """

    async def add(self, client: Client) -> None: ...

    async def get(self, client_id: str) -> Client | None: ...

    async def list_all(self, limit: int = 1000) -> list[Client]: ...

    async def set_secret_digest(
        self, client_id: str, digest: str, *, now: float
    ) -> Client | None: ...

    async def set_require_mfa(
        self, client_id: str, require_mfa: bool | None, *, now: float
    ) -> Client | None: ...

    async def delete(self, client_id: str) -> bool: ...
