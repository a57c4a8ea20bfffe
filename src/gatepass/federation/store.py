"""Storage the federation core needs: CLI-managed providers and linked identities."""

from dataclasses import dataclass
from typing import Protocol

from gatepass.federation.model import LinkedIdentity


@dataclass(frozen=True)
class StoredProvider:
    """A provider as the database holds it: the client secret sealed (crypto/secret_box.py)."""

    name: str
    kind: str
    issuer: str
    client_id: str
    sealed_secret: str
    scopes: tuple[str, ...]
    display_name: str
    created_at: float


class ProviderStore(Protocol):
    """Durable provider records, keyed by name.

    After `add(record)`, `get(record.name)` returns an equal record and `list_all()`
    includes it; a second `add` with the same name raises DuplicateProvider and writes
    nothing. `list_all` returns records by name. After `delete(name)` returns True, `get`
    returns None and `list_all` omits it; `delete` of an unknown name returns False.
    """

    async def add(self, record: StoredProvider) -> None: ...

    async def get(self, name: str) -> StoredProvider | None: ...

    async def list_all(self) -> list[StoredProvider]: ...

    async def delete(self, name: str) -> bool: ...


class IdentityStore(Protocol):
    """Durable links from an upstream identity (provider, subject) to a local user.

    After `add(link)`, `get(link.provider, link.subject)` returns an equal link and
    `for_user(link.user_id)` includes it; a second `add` of the same (provider, subject),
    for any user, raises AlreadyLinked and writes nothing. `for_user` returns links oldest
    first. `delete(user_id, provider, subject)` removes the link only if it is that
    user's, and says whether it did. `touch` sets `last_used_at` (no-op when unknown).
    Deleting the user deletes their links.
    """

    async def add(self, link: LinkedIdentity) -> None: ...

    async def get(self, provider: str, subject: str) -> LinkedIdentity | None: ...

    async def for_user(self, user_id: str) -> list[LinkedIdentity]: ...

    async def delete(self, user_id: str, provider: str, subject: str) -> bool: ...

    async def touch(self, provider: str, subject: str, now: float) -> None: ...
