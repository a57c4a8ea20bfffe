"""The account lifecycle behind mailed links: verify an address, reset a password, change
the address (ASVS 6.4.1, 6.4.3; NIST 800-63B §6.1.2.3), and the administrator's shortcuts.

Each link is bound to its user and to the address it was sent to: a verification link
for an address the account no longer has proves nothing and is refused; so is a reset
link mailed to a former address. A reset only sets a password; it never signs anyone
in, so a second factor is never bypassed (the caller sends the person to the login page).
"""

from gatepass.accounts.email import normalize_email
from gatepass.accounts.link_store import AccountLink
from gatepass.accounts.links import AccountLinks, IssuedLink, LinkPurpose
from gatepass.accounts.model import User
from gatepass.accounts.password_policy import validate_new_password
from gatepass.accounts.service import EmailTaken
from gatepass.accounts.store import DuplicateEmail, UserStore
from gatepass.clock import Clock
from gatepass.crypto.passwords import PasswordHasher
from gatepass.errors import ValidationError

Purpose = LinkPurpose


class LinkRefused(ValidationError):
    """Unknown, used, expired, for another purpose, or no longer bound to the account."""

    def __init__(self) -> None:
        super().__init__("This link is not valid: it was used already, has expired, or is wrong.")


class AccountLifecycle:
    def __init__(
        self, users: UserStore, links: AccountLinks, hasher: PasswordHasher, clock: Clock
    ) -> None:
        self._users = users
        self.links = links
        self._hasher = hasher
        self._clock = clock

    async def verification_link(self, user: User) -> IssuedLink | None:
        """A link to verify the user's address; None when it is verified already."""
        if user.email_verified:
            return None
        return await self.links.issue(Purpose.VERIFY_EMAIL, user.id, user.email)

    async def verify_email(self, token: str) -> User:
        link = await self.links.consume(Purpose.VERIFY_EMAIL, token)
        user = await self._bound_user(link)
        return await self.mark_verified(user)

    async def mark_verified(self, user: User) -> User:
        if user.email_verified:
            return user
        updated = await self._users.update(user.id, now=self._clock.now(), email_verified=True)
        if updated is None:
            raise LinkRefused()
        return updated

    async def reset_link(self, email: str) -> tuple[User, IssuedLink] | None:
        """A reset link for an enabled account with this address; None for any other."""
        try:
            user = await self._users.find_by_email(normalize_email(email))
        except ValidationError:
            return None
        if user is None or user.disabled:
            return None
        return user, await self.links.issue(Purpose.RESET_PASSWORD, user.id, user.email)

    async def check_reset(self, token: str) -> User:
        """The account a live reset link is for, without using the link; else LinkRefused."""
        return await self._bound_user(await self.links.find(Purpose.RESET_PASSWORD, token))

    async def reset_password(self, token: str, new_password: str) -> User:
        """Set the password (rules first, so a refused one leaves the link usable), mark the
        address verified (the inbox was proven), use the link and void its siblings."""
        user = await self.check_reset(token)
        validate_new_password(new_password, context=_context(user))
        password_hash = await self._hasher.hash(new_password)
        # Single use: of two concurrent submissions only one gets the link.
        if await self.links.consume(Purpose.RESET_PASSWORD, token) is None:
            raise LinkRefused()
        return await self._set_password_hash(user, password_hash, verified=True)

    async def set_password(self, user: User, new_password: str) -> User:
        """An administrator's reset (CLI): the same password rules, no link."""
        validate_new_password(new_password, context=_context(user))
        password_hash = await self._hasher.hash(new_password)
        return await self._set_password_hash(user, password_hash, verified=user.email_verified)

    async def email_change_link(self, user: User, new_email: str) -> IssuedLink:
        """A link to the new address; the account keeps the old one until it is used."""
        email = normalize_email(new_email)
        if email == user.email:
            raise ValidationError("This is already your e-mail address.", field="email")
        if await self._users.find_by_email(email) is not None:
            raise EmailTaken()
        return await self.links.issue(Purpose.CHANGE_EMAIL, user.id, email)

    async def change_email(self, token: str) -> tuple[User, User]:
        """(before, after): the address the link was sent to becomes the account's, verified."""
        link, user = await self._user_of(await self.links.find(Purpose.CHANGE_EMAIL, token))
        holder = await self._users.find_by_email(link.email)
        if holder is not None and holder.id != user.id:
            raise EmailTaken()  # taken since the request: the link stays, nothing changes
        if await self.links.consume(Purpose.CHANGE_EMAIL, token) is None:
            raise LinkRefused()
        try:
            updated = await self._users.update(
                user.id, now=self._clock.now(), email=link.email, email_verified=True
            )
        except DuplicateEmail:
            raise EmailTaken() from None
        if updated is None:
            raise LinkRefused()
        return user, updated

    async def _user_of(self, link: AccountLink | None) -> tuple[AccountLink, User]:
        """The link and its enabled user; LinkRefused when either is missing."""
        user = await self._users.get(link.user_id) if link is not None else None
        if link is None or user is None or user.disabled:
            raise LinkRefused()
        return link, user

    async def _bound_user(self, link: AccountLink | None) -> User:
        """The link's user, when the link was sent to the address the account has now."""
        link, user = await self._user_of(link)
        if user.email != link.email:
            raise LinkRefused()
        return user

    async def _set_password_hash(self, user: User, password_hash: str, *, verified: bool) -> User:
        updated = await self._users.update(
            user.id, now=self._clock.now(), password_hash=password_hash, email_verified=verified
        )
        if updated is None:
            raise LinkRefused()
        return updated


def _context(user: User) -> tuple[str, ...]:
    return (user.email, user.email.split("@")[0], user.name)
