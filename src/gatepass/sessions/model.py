"""A session record as storage keeps it: keyed by the digest of the cookie, never the cookie."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Session:
    id: str  # digest of the session secret; safe to show and to use as a handle
    user_id: str
    created_at: float
    last_seen_at: float
    absolute_expires_at: float
    address: str = ""
    user_agent: str = ""
