"""The webapp's own sessions, and its pending sign-ins: records in process memory.

An example's simplification: a real deployment keeps these in a shared store (Redis, a
database) so that several processes, and a restart, see the same sessions. The shape is
what matters here:

- the cookie carries an opaque random value (256 bits); the store is keyed by its
  SHA-256 digest, so a dump of the store (or of its keys in a log) holds no usable cookie;
- each record has an idle and an absolute end, checked on every read;
- the number of records is bounded, so a flood of sign-in attempts cannot exhaust memory.
"""

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

COOKIE_VALUE_BYTES = 32  # 256 random bits, as gatepass's own session ids

Record = TypeVar("Record")


def new_secret() -> str:
    return secrets.token_urlsafe(COOKIE_VALUE_BYTES)


def digest(cookie_value: str) -> str:
    """The key a record is stored under: the cookie value itself is never kept."""
    return hashlib.sha256(cookie_value.encode("utf-8", "replace")).hexdigest()


@dataclass
class _Entry(Generic[Record]):
    record: Record
    created_at: float
    seen_at: float


@dataclass
class ExpiringRecords(Generic[Record]):
    """Records keyed by a cookie's digest, each ending `idle_seconds` after its last read
    or `absolute_seconds` after its creation, whichever comes first; the oldest leave
    first beyond `max_records`."""

    idle_seconds: float
    absolute_seconds: float
    max_records: int
    _entries: "OrderedDict[str, _Entry[Record]]" = field(default_factory=OrderedDict)

    def add(self, record: Record) -> str:
        """Store `record`; the new cookie value that names it."""
        secret, now = new_secret(), time.time()
        self._entries[digest(secret)] = _Entry(record, created_at=now, seen_at=now)
        while len(self._entries) > self.max_records:
            self._entries.popitem(last=False)
        return secret

    def get(self, cookie_value: str | None) -> tuple[str, Record] | None:
        """(key, record) if the cookie names a live record, which counts as activity."""
        if not cookie_value:
            return None
        key = digest(cookie_value)
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = time.time()
        if self._ended(entry, now):
            del self._entries[key]
            return None
        entry.seen_at = now
        return key, entry.record

    def pop(self, cookie_value: str | None) -> Record | None:
        """The live record the cookie names, removed: single use."""
        found = self.get(cookie_value)
        if found is None:
            return None
        del self._entries[found[0]]
        return found[1]

    def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    def items(self) -> list[tuple[str, Record]]:
        """Every live record (a snapshot), dropping the ended ones on the way."""
        now = time.time()
        for key in [k for k, e in self._entries.items() if self._ended(e, now)]:
            del self._entries[key]
        return [(key, entry.record) for key, entry in self._entries.items()]

    def _ended(self, entry: "_Entry[Record]", now: float) -> bool:
        return (
            now >= entry.seen_at + self.idle_seconds
            or now >= entry.created_at + self.absolute_seconds
        )


@dataclass(frozen=True)
class AppSession:
    """Who is signed in to this app, and what RP-initiated logout and the revocation
    checks need later."""

    sub: str
    name: str
    email: str
    sid: str | None  # gatepass's session that signed the user in (the id token's `sid`)
    login_at: float  # this app's clock, when the session began
    id_token: str  # for id_token_hint at gatepass's end_session_endpoint
    csrf_token: str  # for this app's own state-changing forms (sign out)


@dataclass(frozen=True)
class PendingLogin:
    """What /login sent to gatepass, to check what comes back to /callback."""

    state: str
    nonce: str
    code_verifier: str
