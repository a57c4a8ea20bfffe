"""Storage the audit log needs."""

from typing import Protocol

from gatepass.audit.model import AuditEvent


class AuditStore(Protocol):
    """An append-only, durable event log.

    After `record(event)`, `recent()` lists it, newest first; `recent(user_id=X)`
    lists only events of user X. Events are never updated but by `forget`; deleting a
    user keeps their events (the log outlives the account).

    After `forget(user_id, email)`, no event names that e-mail address, and the events of
    that user keep their type, time, user id and detail but no address, e-mail or user
    agent (account deletion removes personal data; the record that things happened stays).
    """

    async def record(self, event: AuditEvent) -> None: ...

    async def recent(self, *, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]: ...

    async def forget(self, user_id: str, email: str) -> int: ...
