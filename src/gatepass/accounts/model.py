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
