"""Consent (OIDC Core §3.1.2.4): which clients a user let see which scopes, remembered.

A first-party client never asks (`Client.first_party`); any other asks once per
client and scope set, and again after the user revokes it from their account page.
"""

from collections.abc import Iterable

from gatepass.clock import Clock
from gatepass.oauth.clients import Client
from gatepass.oauth.consent_store import Consent, ConsentStore


class Consents:
    def __init__(self, store: ConsentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def covers(self, user_id: str, client: Client, scopes: Iterable[str]) -> bool:
        """True when no question needs asking: a first-party client, or a remembered
        consent holding every scope asked for."""
        if client.first_party:
            return True
        consent = await self._store.get(user_id, client.client_id)
        return consent is not None and set(scopes) <= set(consent.scopes)

    async def remember(self, user_id: str, client_id: str, scopes: Iterable[str]) -> Consent:
        """Add `scopes` to what the user allowed `client_id` (a wider grant keeps the old ones)."""
        previous = await self._store.get(user_id, client_id)
        held = previous.scopes if previous is not None else ()
        consent = Consent(
            user_id=user_id,
            client_id=client_id,
            scopes=tuple(dict.fromkeys((*held, *scopes))),
            granted_at=self._clock.now(),
        )
        await self._store.save(consent)
        return consent

    async def list_for_user(self, user_id: str) -> list[Consent]:
        return await self._store.list_for_user(user_id)

    async def revoke(self, user_id: str, client_id: str) -> bool:
        return await self._store.delete(user_id, client_id)
