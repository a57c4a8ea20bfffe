"""Storage the audit log needs."""

from typing import Protocol

from gatepass.audit.model import AuditEvent


class AuditStore(Protocol):
    """An append-only, durable event log.

    After `record(event)`, `recent()` lists it, newest first; `recent(user_id=X)`
    lists only events of user X. Events are never updated; deleting a user keeps
    their events (the log outlives the account).
    """

    async def record(self, event: AuditEvent) -> None: ...

    async def recent(self, *, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]: ...
