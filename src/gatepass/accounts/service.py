"""Sign-up, authentication and administration of users, independent of HTTP."""

import uuid
from dataclasses import replace

from gatepass.accounts.email import normalize_email
from gatepass.accounts.model import User
from gatepass.accounts.password_policy import validate_new_password
from gatepass.accounts.store import DuplicateEmail, UserStore
from gatepass.clock import Clock
from gatepass.crypto.passwords import PasswordHasher
from gatepass.errors import ValidationError

MAX_NAME_LENGTH = 200


class EmailTaken(ValidationError):
    def __init__(self) -> None:
        super().__init__("An account with this e-mail address already exists.", field="email")


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
        raise ValidationError("Use a shorter name without control characters.", field="name")
    return name


class Accounts:
    def __init__(self, users: UserStore, hasher: PasswordHasher, clock: Clock) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock

    async def sign_up(self, email: str, password: str, name: str = "") -> User:
        """Create an enabled user; raises ValidationError (EmailTaken included)."""
        email = normalize_email(email)
        name = _clean_name(name)
        validate_new_password(password, context=(email, email.split("@")[0], name))
        return await self._add(email, name, await self._hasher.hash(password))

    async def sign_up_without_password(
        self, email: str, name: str = "", *, email_verified: bool = False
    ) -> User:
        """A user who signs in at an upstream provider only (no password: the password
        form never lets them in). A name that does not fit is dropped, not refused: it
        comes from the provider, not from the person. `email_verified` only when the
        provider said so explicitly. Raises ValidationError."""
        email = normalize_email(email)
        try:
            name = _clean_name(name)
        except ValidationError:
            name = ""
        return await self._add(email, name, None, email_verified=email_verified)

    async def _add(
        self, email: str, name: str, password_hash: str | None, *, email_verified: bool = False
    ) -> User:
        now = self._clock.now()
        user = User(
            id=str(uuid.uuid4()),
            email=email,
            name=name,
            password_hash=password_hash,
            disabled=False,
            created_at=now,
            updated_at=now,
            email_verified=email_verified,
        )
        try:
            await self._users.add(user)
        except DuplicateEmail:
            raise EmailTaken() from None
        return user

    async def authenticate(self, email: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled.

        Unknown addresses verify against a dummy hash, so every failure costs the
        same work (ASVS 6.3.8). A hash with outdated parameters is upgraded.
        """
        try:
            user = await self._users.find_by_email(normalize_email(email))
        except ValidationError:
            user = None
        stored_hash = user.password_hash if user is not None else None
        verified = await self._hasher.verify(stored_hash, password)
        if user is None or stored_hash is None or not verified or user.disabled:
            return None
        if self._hasher.needs_rehash(stored_hash):
            new_hash = await self._hasher.hash(password)
            user = await self._users.update(user.id, now=self._clock.now(), password_hash=new_hash)
        return user

    async def change_password(self, user: User, current: str, new: str) -> User:
        """Requires the current password (ASVS 6.2.3); applies the new-password rules."""
        if not await self._hasher.verify(user.password_hash, current):
            raise ValidationError("The current password is not correct.", field="current_password")
        validate_new_password(new, context=(user.email, user.email.split("@")[0], user.name))
        updated = await self._users.update(
            user.id, now=self._clock.now(), password_hash=await self._hasher.hash(new)
        )
        if updated is None:
            raise ValidationError("This account no longer exists.")
        return updated

    async def find(self, email: str) -> User | None:
        return await self._users.find_by_email(normalize_email(email))

    async def get(self, user_id: str) -> User | None:
        return await self._users.get(user_id)

    async def set_disabled(self, user: User, disabled: bool) -> User:
        updated = await self._users.update(user.id, now=self._clock.now(), disabled=disabled)
        return updated if updated is not None else replace(user, disabled=disabled)

    async def delete(self, user: User) -> bool:
        return await self._users.delete(user.id)

    async def list_all(self) -> list[User]:
        return await self._users.list_all()
