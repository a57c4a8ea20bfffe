"""Storage the consent step needs: what each user allowed each client, remembered."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Consent:
    """A user's standing permission for a client to receive these scopes."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    granted_at: float


class ConsentStore(Protocol):
    """Durable consents, one per (user_id, client_id).

    After `save(consent)`, `get(consent.user_id, consent.client_id)` returns an equal
    Consent and `list_for_user(consent.user_id)` includes it; a second `save` for the
    same user and client replaces the first. `list_for_user` returns the newest grant
    first. After `delete(user_id, client_id)` returns True, `get` returns None and
    `list_for_user` omits it; `delete` of an unknown pair returns False.
    """

    async def save(self, consent: Consent) -> None: ...

    async def get(self, user_id: str, client_id: str) -> Consent | None: ...

    async def list_for_user(self, user_id: str) -> list[Consent]: ...

    async def delete(self, user_id: str, client_id: str) -> bool: ...
