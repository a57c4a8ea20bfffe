"""Storage the sessions core needs."""

from typing import Protocol

from gatepass.sessions.model import Session


class SessionStore(Protocol):
    """Live sessions, keyed by `Session.id` (the digest of the cookie secret).

    After `create(session, idle_seconds)`, `touch(session.id, now, idle_seconds)`
    returns the session with `last_seen_at == now` and pushes its idle expiry to
    `now + idle_seconds`, in one round trip; it returns None once the idle expiry
    has passed, after `delete`, or after `delete_for_user` of its user. The store
    need not check `absolute_expires_at`: the manager does, and deletes.
    `list_for_user` returns that user's live sessions, oldest first.
    `create` returns how many sessions the user has with the new one: never fewer than
    the live ones (a store may count some that have just expired), learnt in the same
    round trip or transaction as the write, so a login under the per-user limit costs
    no listing.
    """

    async def create(self, session: Session, idle_seconds: int) -> int: ...

    async def touch(self, session_id: str, now: float, idle_seconds: int) -> Session | None: ...

    async def delete(self, session_id: str) -> Session | None: ...

    async def list_for_user(self, user_id: str, now: float, idle_seconds: int) -> list[Session]: ...

    async def delete_for_user(self, user_id: str) -> int: ...
