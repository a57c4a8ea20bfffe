"""What the key ring needs from storage: durable signing-key records."""

from typing import Protocol

from gatepass.keys.model import StoredSigningKey


class SigningKeyStore(Protocol):
    """Durable signing keys, shared by every process of the deployment.

    Contract:
    - after `add(key)`, `list_all()` contains a record equal to `key`;
    - `add` of a kid that exists raises `DuplicateKey` and changes nothing;
    - `list_all()` returns every record, oldest `created_at` first;
    - `retire(kid, retired_at=r, expires_at=e)` sets both times and returns True,
      unless the key already retires at or before `r` (a retirement is never
      postponed) or does not exist: then it changes nothing and returns False;
    - `delete_expired(now)` removes the records whose `expires_at <= now` and
      returns how many; records without `expires_at` are never removed.
    """

    async def add(self, key: StoredSigningKey) -> None: ...

    async def list_all(self) -> list[StoredSigningKey]: ...

    async def retire(self, kid: str, *, retired_at: float, expires_at: float) -> bool: ...

    async def delete_expired(self, now: float) -> int: ...


class DuplicateKey(Exception):
    """A signing key with this kid is already stored."""
