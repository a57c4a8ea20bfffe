"""The key ring: publish before signing, keep until every signed token has expired.

Rotation of an algorithm at time T (`rotate`):

    new key:  published T ........ active T+lead ...................................
    old keys:  ............ active ...... retired T+lead ..... expired T+lead+ttl+leeway

- lead = the JWKS cache lifetime + how stale a process's view may be: a client
  that fetched /jwks.json just before the new key appeared still knows it
  before its first signature;
- ttl + leeway = the longest token lifetime plus the verifiers' leeway: the old
  key stays published until every token it signed has expired everywhere.

Each process holds a snapshot of the ring, refreshed every `refresh_seconds`
(and at once after its own changes); since every change is scheduled at least
`lead` ahead, all processes agree on which key signs when.
"""

import asyncio
import json
from dataclasses import dataclass

from gatepass.clock import Clock
from gatepass.crypto.jwt import MAX_LEEWAY_SECONDS
from gatepass.crypto.keys import (
    SigningKey,
    VerificationKey,
    generate_signing_key,
    import_verification_key,
)
from gatepass.crypto.sealing import KeySealer, UnsealError
from gatepass.errors import ConfigError, GatepassError
from gatepass.keys.model import KeyState, StoredSigningKey
from gatepass.keys.store import SigningKeyStore

MASTER_KEY_SETTING = "GATEPASS_SECRET_KEY or GATEPASS_KEY_FILE"


class NoSigningKey(GatepassError):
    """No key of this algorithm is active (the ring was not started for it)."""


@dataclass(frozen=True)
class RotationPolicy:
    jwks_max_age_seconds: int
    max_token_ttl_seconds: int
    refresh_seconds: int = 60  # GATEPASS_KEY_REFRESH_SECONDS: how stale a process's view may be

    @property
    def publish_lead_seconds(self) -> int:
        return self.jwks_max_age_seconds + self.refresh_seconds

    @property
    def retire_grace_seconds(self) -> int:
        return self.max_token_ttl_seconds + MAX_LEEWAY_SECONDS


class KeyRing:
    def __init__(
        self,
        store: SigningKeyStore,
        sealer: KeySealer,
        policy: RotationPolicy,
        clock: Clock,
        algorithms: tuple[str, ...],
    ) -> None:
        self._store = store
        self._sealer = sealer
        self.policy = policy
        self._clock = clock
        self.algorithms = algorithms
        self._records: list[StoredSigningKey] = []
        self._jwks = b'{"keys":[]}'
        self._valid_until = float("-inf")
        self._opened: dict[str, SigningKey] = {}
        self._public: dict[str, VerificationKey] = {}
        # alg -> its signing key, for the snapshot's lifetime: `_valid_until` is never
        # later than the next moment a key changes state, so none can change before then.
        self._signing: dict[str, SigningKey] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """First start: an active key for every algorithm in use; check the master key.

        A key made here is active at once: with no key of its algorithm published,
        no verifier can hold a cached copy that lacks it (and OpenID Connect Core
        §10.1.1 has relying parties refetch the JWKS for an unknown kid).
        """
        await self.refresh()
        now = self._clock.now()
        # Dated back by the verifiers' leeway: another process whose clock is behind (by no
        # more than that) and starts a moment later finds this key active, rather than
        # making one of its own that the others would not know until their next refresh.
        since = now - MAX_LEEWAY_SECONDS
        for alg in self.algorithms:
            if not self._of(alg, KeyState.ACTIVE, now):
                await self._create(alg, now, active_at=since, published_at=since)
        await self.refresh()
        self._check_master_key()

    async def rotate(self, alg: str) -> StoredSigningKey:
        """Publish a new key now; it signs after the lead, when the current ones retire."""
        await self.refresh()
        self._check_master_key()  # never seal a new key under a master key the others lack
        now = self._clock.now()
        active_at = now + self.policy.publish_lead_seconds
        new = await self._create(alg, now, active_at=active_at)
        for record in self._records:
            if record.alg == alg and record.state(now) is not KeyState.EXPIRED:
                await self._store.retire(
                    record.kid,
                    retired_at=active_at,
                    expires_at=active_at + self.policy.retire_grace_seconds,
                )
        await self._store.delete_expired(now)
        await self.refresh()
        return new

    async def signing_key(self, alg: str) -> SigningKey:
        """The newest active key of `alg`."""
        await self._ensure_fresh()
        key = self._signing.get(alg)
        if key is None:
            active = self._of(alg, KeyState.ACTIVE, self._clock.now())
            if not active:
                raise NoSigningKey(f"no active {alg} signing key")
            key = self._signing[alg] = self._open(
                max(active, key=lambda r: (r.active_at, r.created_at))
            )
        return key

    async def verification_keys(self) -> list[VerificationKey]:
        """The published keys: what a token from this issuer may be verified with."""
        await self._ensure_fresh()
        now = self._clock.now()
        return [self._public_of(r) for r in self._records if r.is_published(now)]

    async def jwks(self) -> bytes:
        """The JWKS document (RFC 7517 §5), rendered once per change, not per request."""
        await self._ensure_fresh()
        return self._jwks

    def jwks_at_hand(self) -> bytes | None:
        """The JWKS document if the snapshot is fresh, without waiting; None when `jwks()`
        would reload it first."""
        return self._jwks if self._clock.now() < self._valid_until else None

    async def list_keys(self) -> list[StoredSigningKey]:
        await self.refresh()
        return list(self._records)

    async def refresh(self) -> None:
        """Reload the snapshot from the store and re-render the JWKS."""
        records = await self._store.list_all()
        now = self._clock.now()
        published = [r for r in records if r.is_published(now)]
        published.sort(key=lambda r: (r.alg, -r.active_at))
        keys = [self._public_of(r).public_jwk() for r in published]
        self._records = records
        self._signing = {}
        self._jwks = json.dumps({"keys": keys}, separators=(",", ":")).encode()
        self._valid_until = min([now + self.policy.refresh_seconds, *_changes_after(records, now)])

    def _check_master_key(self) -> None:
        """ConfigError unless the master key opens the newest stored key."""
        if not self._records:
            return
        newest = max(self._records, key=lambda r: r.created_at)
        try:
            self._open(newest)
        except UnsealError as exc:
            raise ConfigError(MASTER_KEY_SETTING, f"not the master key that sealed {exc}") from None

    async def _ensure_fresh(self) -> None:
        if self._clock.now() < self._valid_until:
            return
        async with self._lock:
            if self._clock.now() >= self._valid_until:
                await self.refresh()

    async def _create(
        self, alg: str, now: float, *, active_at: float, published_at: float | None = None
    ) -> StoredSigningKey:
        key = await asyncio.to_thread(generate_signing_key, alg)  # RSA generation is slow
        record = StoredSigningKey(
            kid=key.kid,
            alg=key.alg,
            public_jwk=json.dumps(key.verification_key().public_jwk(), separators=(",", ":")),
            sealed_private=self._sealer.seal(key),
            created_at=now,
            published_at=now if published_at is None else published_at,
            active_at=active_at,
        )
        await self._store.add(record)
        self._opened[key.kid] = key
        return record

    def _of(self, alg: str | None, state: KeyState, now: float) -> list[StoredSigningKey]:
        return [r for r in self._records if (alg is None or r.alg == alg) and r.state(now) is state]

    def _open(self, record: StoredSigningKey) -> SigningKey:
        if record.kid not in self._opened:
            self._opened[record.kid] = self._sealer.open(
                record.sealed_private, kid=record.kid, alg=record.alg
            )
        return self._opened[record.kid]

    def _public_of(self, record: StoredSigningKey) -> VerificationKey:
        if record.kid not in self._public:
            self._public[record.kid] = import_verification_key(record.public_jwk)
        return self._public[record.kid]


def _changes_after(records: list[StoredSigningKey], now: float) -> list[float]:
    """The moments after `now` at which some key changes state (and the JWKS may)."""
    times = (t for r in records for t in (r.published_at, r.active_at, r.expires_at))
    return [t for t in times if t is not None and t > now]
