"""The user record."""

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str | None
    disabled: bool
    created_at: float
    updated_at: float
    # Proven by a delivered link or by an upstream provider that says so explicitly.
    email_verified: bool = False
