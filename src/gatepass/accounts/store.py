"""Storage the accounts core needs."""

from typing import Protocol

from gatepass.accounts.model import User


class DuplicateEmail(Exception):
    """`add` found the e-mail address taken; nothing was written."""


class UserStore(Protocol):
    """Durable user records.

    After `add(user)`, `get(user.id)` and `find_by_email(user.email)` return it;
    a second `add` with the same e-mail raises DuplicateEmail and writes nothing.
    `update` changes only the fields given and returns the new record, or None
    when no such user exists; a new `email` another user has raises DuplicateEmail and
    changes nothing. After `delete(id)`, neither lookup finds the user.
    """

    async def add(self, user: User) -> None: ...

    async def get(self, user_id: str) -> User | None: ...

    async def find_by_email(self, email: str) -> User | None: ...

    async def update(
        self,
        user_id: str,
        *,
        now: float,
        password_hash: str | None = None,
        disabled: bool | None = None,
        email: str | None = None,
        email_verified: bool | None = None,
        name: str | None = None,
    ) -> User | None: ...

    async def delete(self, user_id: str) -> bool: ...

    async def list_all(self, limit: int = 1000) -> list[User]: ...
