"""Authorization codes (RFC 6749 §4.1.2, §4.1.3; OAuth 2.1 §4.1.3, §7.5.2): issue, redeem once.

    issue ──► code (256 random bits) to the client; its digest and binding to storage
    redeem(code, client_id, redirect_uri, code_verifier)
      ├─ consume(digest) returns the record ─► binding matches? ─► Redeemed(record, grant_id)
      │   (atomically leaves a tombstone)                └─ no ─► Invalid (the code is spent)
      └─ nothing to consume ─► tombstone with a matching binding? ─► AlreadyRedeemed(grant_id)
                                                          └─ no ─► Invalid (revokes nothing)

SECURITY.md decision 2: a second *valid* redemption is refused and the caller revokes
what the first issued (`AlreadyRedeemed.grant_id`); a replay carrying wrong parameters
is refused and revokes nothing, so a stolen code cannot be used to kill a grant.

A first redemption with a wrong binding spends the code too (single use): its
tombstone names a grant that issued nothing, so a later valid redemption is
AlreadyRedeemed and its revocation finds nothing to revoke.
"""

import uuid
from dataclasses import dataclass

from gatepass.clock import Clock
from gatepass.crypto.secrets import digest, looks_like_secret, new_secret, same
from gatepass.oauth.authorize import AuthorizationRequest
from gatepass.oauth.code_store import AuthorizationCode, AuthorizationCodeStore
from gatepass.oauth.errors import InvalidGrant
from gatepass.oauth.pkce import verify_code_verifier

MAX_CODE_TTL_SECONDS = 600  # RFC 6749 §4.1.2: a maximum lifetime of 10 minutes
DEFAULT_TOMBSTONE_SECONDS = 900  # a replay within an access token's default life revokes it


@dataclass(frozen=True)
class Redeemed:
    """The first valid redemption: issue tokens under `grant_id` (the family id)."""

    code: AuthorizationCode
    grant_id: str


@dataclass(frozen=True)
class AlreadyRedeemed:
    """A second valid redemption: refuse it and revoke what `grant_id` issued."""

    grant_id: str
    code: AuthorizationCode

    def as_error(self) -> InvalidGrant:
        return InvalidGrant(CODE_REFUSED, debug=f"code replayed; grant {self.grant_id} revoked")


@dataclass(frozen=True)
class Invalid:
    """Unknown, expired, spent, or bound to other parameters: refuse, revoke nothing."""

    debug: str

    def as_error(self) -> InvalidGrant:
        return InvalidGrant(CODE_REFUSED, debug=self.debug)


RedeemResult = Redeemed | AlreadyRedeemed | Invalid

# One description for every refusal, so a caller cannot tell which check failed.
CODE_REFUSED = "The authorization code is invalid, expired or already used."


def new_grant_id() -> str:
    return uuid.uuid4().hex


class AuthorizationCodes:
    def __init__(
        self,
        store: AuthorizationCodeStore,
        clock: Clock,
        *,
        ttl_seconds: int = 60,
        tombstone_seconds: int = DEFAULT_TOMBSTONE_SECONDS,
    ) -> None:
        # RFC 6749 §4.1.2: the code MUST expire shortly after it is issued.
        if not 0 < ttl_seconds <= MAX_CODE_TTL_SECONDS:
            raise ValueError(f"a code lives 1 to {MAX_CODE_TTL_SECONDS} seconds")
        self._store = store
        self._clock = clock
        self._ttl = ttl_seconds
        self._tombstone_seconds = max(tombstone_seconds, ttl_seconds)

    async def issue(
        self,
        request: AuthorizationRequest,
        *,
        user_id: str,
        session_id: str,
        auth_time: float,
        amr: tuple[str, ...] = ("pwd",),
        idp: str | None = None,
    ) -> str:
        """A fresh code for `request`: returned to the caller, stored only as its digest."""
        # RFC 6749 §10.10, OAuth 2.1 §7.7: guessing probability far below 2^-128.
        code = new_secret()
        now = self._clock.now()
        await self._store.add(
            AuthorizationCode(
                digest=digest(code),
                client_id=request.client.client_id,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
                user_id=user_id,
                session_id=session_id,
                scopes=request.scopes,
                auth_time=auth_time,
                issued_at=now,
                expires_at=now + self._ttl,
                nonce=request.nonce,
                resource=request.resource,
                amr=amr,
                idp=idp,
            ),
            self._ttl,
        )
        return code

    async def redeem(
        self,
        code: str,
        *,
        client_id: str,
        redirect_uri: str | None,
        code_verifier: str | None,
        grant_id: str | None = None,
    ) -> RedeemResult:
        """Consume `code` for an authenticated `client_id`; see the module docstring."""
        if not looks_like_secret(code):
            return Invalid("malformed code")  # garbage never reaches storage
        key, now, grant_id = digest(code), self._clock.now(), grant_id or new_grant_id()
        # RFC 6749 §4.1.2: the client MUST NOT use the code more than once; consume
        # gets and invalidates in one step, so of concurrent redemptions one wins.
        record = await self._store.consume(
            key, grant_id=grant_id, now=now, tombstone_seconds=self._tombstone_seconds
        )
        if record is None:
            return await self._replayed(key, now, client_id, redirect_uri, code_verifier)
        if now >= record.expires_at:
            return Invalid("expired code")
        mismatch = _mismatch(record, client_id, redirect_uri, code_verifier)
        if mismatch:
            return Invalid(f"{mismatch}; the code is spent")
        return Redeemed(record, grant_id)

    async def mark_redeemed(self, code: str, grant_id: str) -> bool:
        """Name the grant a redemption issued, when it is not the one `redeem` chose."""
        if not looks_like_secret(code):
            return False
        return await self._store.mark_redeemed(
            digest(code), grant_id, now=self._clock.now(), ttl_seconds=self._tombstone_seconds
        )

    async def _replayed(
        self,
        key: str,
        now: float,
        client_id: str,
        redirect_uri: str | None,
        code_verifier: str | None,
    ) -> RedeemResult:
        tombstone = await self._store.find_redeemed(key, now)
        if tombstone is None:
            return Invalid("unknown or expired code")
        # OAuth 2.1 §7.5.2: revoke on a second *valid* redemption only; a replay with
        # other parameters may be an attacker's, and must not end the user's grant.
        mismatch = _mismatch(tombstone.code, client_id, redirect_uri, code_verifier)
        if mismatch:
            return Invalid(f"spent code replayed with {mismatch}; nothing revoked")
        return AlreadyRedeemed(tombstone.grant_id, tombstone.code)


def _mismatch(
    code: AuthorizationCode, client_id: str, redirect_uri: str | None, code_verifier: str | None
) -> str:
    """What of the request differs from the code's binding; "" when nothing does."""
    # Every check runs, whatever the first one says, so timing shows little.
    checks = (
        # RFC 6749 §4.1.3: the code was issued to the authenticated client...
        ("another client", same(code.client_id, client_id)),
        # ...and redirect_uri is identical to the one of the authorization request.
        ("another redirect_uri", same(code.redirect_uri, redirect_uri or "")),
        # RFC 7636 §4.6: S256(code_verifier) must equal the stored code_challenge.
        ("a wrong code_verifier", verify_code_verifier(code_verifier, code.code_challenge)),
    )
    return ", ".join(what for what, ok in checks if not ok)
