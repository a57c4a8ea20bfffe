"""Single-use account links: e-mail verification, password reset, e-mail change (ASVS 6.4.1).

A link carries a 256-bit random token; only its SHA-256 digest is stored, with the user,
the purpose and the address the link was mailed to. It expires (VERIFY 24 h, RESET
30 min, CHANGE 24 h) and is consumed atomically once. A link for one purpose is refused
for another; what else it is bound to (the account's current address) the caller checks
with the record `consume` returns (accounts/lifecycle.py).
"""

from dataclasses import dataclass
from enum import StrEnum

from gatepass.accounts.link_store import AccountLink, AccountLinkStore
from gatepass.clock import Clock
from gatepass.crypto.secrets import digest, looks_like_secret, new_secret


class LinkPurpose(StrEnum):
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105 - a purpose name
    CHANGE_EMAIL = "change-email"


# NIST 800-63B §5.1.1.1 / OWASP Forgot Password: a reset link is short-lived; one that only
# proves an inbox may live a day, as people read mail late.
LIFETIMES_SECONDS = {
    LinkPurpose.VERIFY_EMAIL: 24 * 3600,
    LinkPurpose.RESET_PASSWORD: 30 * 60,
    LinkPurpose.CHANGE_EMAIL: 24 * 3600,
}


@dataclass(frozen=True)
class IssuedLink:
    token: str  # goes into the mail, never into storage or a log
    link: AccountLink


def describe_lifetime(purpose: LinkPurpose) -> str:
    """ "30 minutes", "24 hours": for the mail that carries the link."""
    seconds = LIFETIMES_SECONDS[purpose]
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{seconds // 60} minutes"


class AccountLinks:
    def __init__(self, store: AccountLinkStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def issue(self, purpose: LinkPurpose, user_id: str, email: str) -> IssuedLink:
        token = new_secret()
        now = self._clock.now()
        link = AccountLink(
            id=digest(token),
            purpose=purpose,
            user_id=user_id,
            email=email,
            created_at=now,
            expires_at=now + LIFETIMES_SECONDS[purpose],
        )
        await self._store.add(link)
        return IssuedLink(token, link)

    async def find(self, purpose: LinkPurpose, token: str) -> AccountLink | None:
        """The live link, not consumed: to show its page or check a form before using it."""
        if not looks_like_secret(token):  # garbage never reaches storage
            return None
        return await self._store.find(digest(token), purpose, self._clock.now())

    async def consume(self, purpose: LinkPurpose, token: str) -> AccountLink | None:
        """The link, now used; None when it is unknown, used, expired or for another purpose."""
        if not looks_like_secret(token):
            return None
        now = self._clock.now()
        link = await self._store.consume(digest(token), purpose, now)
        if link is not None and purpose is LinkPurpose.RESET_PASSWORD:
            # OWASP Forgot Password: one reset voids the others still in someone's inbox.
            await self._store.void(link.user_id, purpose, now)
        return link
