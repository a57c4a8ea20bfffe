"""The live revocation set a resource server holds in memory (docs/revocation.md, "What a
verifier must do"), so a revoked token is refused with no I/O per request.

    feed ──add(event)──► token jti ─┐
                         grant gid  ├─► the event, until its `until`     (prune: a heap by
                         session sid┘                                      `until`)
                         subject sub ─► the latest not-before
    verifier ──vouches(jti, sub, iat, gid, sid, now)──► four dict lookups: nothing on
                                 record for the token, no hole, feed live? then accept
             ──kills(facts, now)──► otherwise, the events found, then the two rules below

What the set does not know, it does not accept (never silently a revoked token):

- **The gap policy.** A feed reports `feed_lost(at)` and `feed_restored()`. While the
  feed is lost, revocations may be happening unseen: after `max_gap_seconds` (default
  30) the set refuses, as FEED_UNAVAILABLE, every token issued before the loss (`iat`
  before `lost_at` + `skew_seconds`; with `strict_gap=True`, every token) until the feed
  has caught up again. A set that has never caught up knows nothing, so it refuses
  tokens issued before its own creation from the start, with no grace.
- **Holes.** A feed that reconnects but cannot vouch for everything it missed (a Redis
  that restarted empty, a stream trimmed past the last entry read) says so with
  `feed_restored(missed_before=t)`: the revocations it may lack were all made before
  `t`, so they kill only tokens issued before `t`, and only until `t` plus the longest
  token lifetime. Those tokens are refused until then, or until a catch-up from the
  whole log (`feed_restored(whole_log=True)`, the HTTP stream) fills the hole.
- **The cap.** At most `max_entries` revocations are held. A new one beyond that evicts
  the one that expires first, and the evicted revocation becomes a hole of its own
  (tokens issued before its `at` are refused until its `until`), so being full costs
  availability, never safety. A warning is logged once per episode; `evicted` counts.

`kills` is the synchronous answer (FEED_UNAVAILABLE counts as killed). With a
`fallback` configured (say, introspection at the issuer), `await check(...)` asks it
about the tokens the feed cannot vouch for instead of refusing them.
"""

import heapq
import logging
import math
from collections.abc import Awaitable, Callable
from enum import Enum

from gatepass.clock import Clock, SystemClock
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind
from gatepass.tokens.revocation_event import TokenFacts as TokenFacts  # re-exported

log = logging.getLogger("gatepass.resource.revocations")

MAX_GAP_SECONDS = 30.0
MAX_ENTRIES = 100_000
# gatepass never signs a token for longer than GATEPASS_MAX_SIGNED_TOKEN_TTL (1 h default).
MAX_TOKEN_TTL_SECONDS = 3600.0
# `iat` comes from the issuer's clock, `lost_at` from ours: refuse a little past the loss.
SKEW_SECONDS = 5.0

# (raw token, its facts) -> True when the issuer says the token is still active.
Fallback = Callable[[str, TokenFacts], Awaitable[bool]]


class Verdict(Enum):
    ACCEPT = "accept"
    REVOKED = "revoked"  # an event in the set kills the token
    FEED_UNAVAILABLE = "feed_unavailable"  # the set cannot vouch for it: refused


class _Hole:
    """Tokens issued before `before` may be killed by a revocation the set lacks, until
    `until`; both only ever grow, so merging holes stays on the safe side."""

    def __init__(self) -> None:
        self.before = -math.inf
        self.until = -math.inf

    def widen(self, before: float, until: float) -> None:
        self.before = max(self.before, before)
        self.until = max(self.until, until)

    def covers(self, iat: float, now: float) -> bool:
        return now < self.until and iat < self.before

    def clear(self) -> None:
        self.before = self.until = -math.inf


class RevocationSet:
    def __init__(
        self,
        *,
        max_gap_seconds: float = MAX_GAP_SECONDS,
        max_entries: int = MAX_ENTRIES,
        max_token_ttl_seconds: float = MAX_TOKEN_TTL_SECONDS,
        skew_seconds: float = SKEW_SECONDS,
        strict_gap: bool = False,
        fallback: Fallback | None = None,
        clock: Clock | None = None,
    ) -> None:
        if max_gap_seconds < 0 or max_entries < 1 or max_token_ttl_seconds <= 0:
            raise ValueError("max_gap_seconds >= 0, max_entries >= 1, max_token_ttl > 0")
        self.max_gap_seconds = max_gap_seconds
        self.max_entries = max_entries
        self.max_token_ttl_seconds = max_token_ttl_seconds
        self.skew_seconds = skew_seconds
        self.strict_gap = strict_gap
        self._fallback = fallback
        self.clock: Clock = clock or SystemClock()
        self._by_kind: dict[RevocationKind, dict[str, RevocationEvent]] = {
            kind: {} for kind in RevocationKind
        }
        self._tokens = self._by_kind[RevocationKind.TOKEN]
        self._grants = self._by_kind[RevocationKind.GRANT]
        self._sessions = self._by_kind[RevocationKind.SESSION]
        self._subjects = self._by_kind[RevocationKind.SUBJECT]
        self._expiry: list[tuple[float, int, RevocationKind, str]] = []
        self._size = 0
        self._gap_hole = _Hole()  # what a feed could not vouch for; a whole-log catch-up fills it
        self._cap_hole = _Hole()  # what the cap evicted; only time fills it
        self._full = False
        self.cursor = 0  # the highest `seq` applied
        self.evicted = 0  # revocations pushed out by the cap
        self.rejected = 0  # events that did not parse or had another version
        # Born lost, with no grace: a set that never caught up knows nothing.
        self._lost_at: float | None = self.clock.now()
        self._grace_until = self._lost_at
        # What `vouches` knows of the feed and the holes (_quieten): until when a hole may
        # be open, and the tokens it may cover, those issued before `_hole_before`.
        self._quiet_from = self._hole_before = math.inf
        # Grows with every change that could make the set refuse a token it vouched for:
        # an event applied, the feed lost or restored. While it stands, a `vouches` answer
        # stands (time only ends events and closes holes), so a verifier may reuse it.
        self.generation = 0

    # -- what verifiers ask -------------------------------------------------------------

    def verdict(self, facts: TokenFacts, now: float) -> Verdict:
        """ACCEPT, REVOKED or FEED_UNAVAILABLE for a token whose signature and claims
        checked out. No I/O: a few dict lookups."""
        if self._revoked(facts, now):
            return Verdict.REVOKED
        if self._gap_hole.covers(facts.iat, now) or self._cap_hole.covers(facts.iat, now):
            return Verdict.FEED_UNAVAILABLE
        lost = self._lost_at
        if (
            lost is not None
            and now >= self._grace_until
            and (self.strict_gap or facts.iat < lost + self.skew_seconds)
        ):
            return Verdict.FEED_UNAVAILABLE
        return Verdict.ACCEPT

    def kills(self, facts: TokenFacts, now: float) -> bool:
        """Whether the token must be refused: revoked, or one the set cannot vouch for."""
        if self.vouches(facts.jti, facts.sub, facts.iat, facts.gid, facts.sid, now):
            return False
        return self.verdict(facts, now) is not Verdict.ACCEPT

    def vouches(
        self, jti: str, sub: str, iat: float, gid: str | None, sid: str | None, now: float
    ) -> bool:
        """True if `verdict` would ACCEPT the token for certain, decided from what is on
        record for these identifiers alone: no event for its jti, grant or session, none
        for its subject that can kill it, the feed live and no hole that may cover it.
        False: ask `verdict` (or `check`). The verifier's every-request path: no object
        is built."""
        if (now < self._quiet_from and iat < self._hole_before) or jti in self._tokens:
            return False
        if gid in self._grants or sid in self._sessions:  # None is never on record
            return False
        standing = self._subjects.get(sub)
        # RevocationEvent.kills: a subject's event kills only tokens issued before `at`.
        return standing is None or iat >= standing.at

    async def check(self, facts: TokenFacts, now: float, token: str) -> Verdict:
        """`verdict`, with the fallback (if configured) asked about the tokens the set
        cannot vouch for. A fallback that fails leaves them FEED_UNAVAILABLE."""
        verdict = self.verdict(facts, now)
        if verdict is not Verdict.FEED_UNAVAILABLE or self._fallback is None:
            return verdict
        try:
            active = await self._fallback(token, facts)
        except Exception as exc:  # any failure of the fallback: still unknown, refused
            log.warning("revocation fallback failed: %s", exc)
            return Verdict.FEED_UNAVAILABLE
        return Verdict.ACCEPT if active else Verdict.REVOKED

    def _revoked(self, facts: TokenFacts, now: float) -> bool:
        found = self._tokens.get(facts.jti)
        if found is not None and found.kills(facts, now):
            return True
        found = self._subjects.get(facts.sub)
        if found is not None and found.kills(facts, now):
            return True
        if facts.gid is not None:
            found = self._grants.get(facts.gid)
            if found is not None and found.kills(facts, now):
                return True
        if facts.sid is not None:
            found = self._sessions.get(facts.sid)
            if found is not None and found.kills(facts, now):
                return True
        return False

    # -- what feeds tell ----------------------------------------------------------------

    def add(self, event: RevocationEvent) -> bool:
        """Apply one event; True if it changed the set. Applying an event twice, or one
        older than what stands, changes nothing, so feeds may deliver from two sources."""
        self.cursor = max(self.cursor, event.seq)
        now = self.clock.now()
        if event.until <= now:
            return False  # everything it could kill has expired
        held = self._by_kind[event.kind]
        standing = held.get(event.id)
        if standing is not None and not _supersedes(event, standing):
            return False
        if standing is None:
            self._make_room(now)
            self._size += 1
        held[event.id] = event
        self.generation += 1
        heapq.heappush(self._expiry, (event.until, event.seq, event.kind, event.id))
        if len(self._expiry) > 2 * self.max_entries + 64:
            self._rebuild_expiry()
        return True

    def add_json(self, text: str | bytes) -> bool:
        """Apply one event as the feed carries it; a malformed one, or one of another
        version, is skipped and reported (docs/revocation.md: parse strictly)."""
        try:
            event = RevocationEvent.from_json(text)
        except ValueError as exc:
            self.rejected += 1
            log.warning("revocation event skipped: %s", exc)
            return False
        return self.add(event)

    def feed_lost(self, at: float | None = None) -> None:
        """The feed stopped delivering at `at` (the last moment it was known to work)."""
        if self._lost_at is not None:
            return  # lost already: the earlier moment stands
        self._lost_at = self.clock.now() if at is None else at
        self._grace_until = self._lost_at + self.max_gap_seconds
        self._quieten()
        self.generation += 1
        log.warning("revocation feed lost; refusing older tokens after %ss", self.max_gap_seconds)

    def feed_restored(self, *, missed_before: float | None = None, whole_log: bool = False) -> None:
        """The feed is live and has caught up. `whole_log`: everything in the issuer's log
        was delivered, which fills earlier holes. `missed_before`: revocations made before
        that moment may be missing (see the module docstring)."""
        if whole_log:
            self._gap_hole.clear()
        if missed_before is not None:
            self._gap_hole.widen(
                missed_before + self.skew_seconds, missed_before + self.max_token_ttl_seconds
            )
            log.warning(
                "revocation feed resumed without its history: tokens issued before %.0f "
                "are refused until %.0f",
                missed_before,
                missed_before + self.max_token_ttl_seconds,
            )
        if self._lost_at is not None:
            log.info("revocation feed caught up at seq %d", self.cursor)
        self._lost_at = None
        self._quieten()
        self.generation += 1

    @property
    def connected(self) -> bool:
        """Live and caught up (a hole may still refuse some older tokens)."""
        return self._lost_at is None

    @property
    def lost_at(self) -> float | None:
        return self._lost_at

    def __len__(self) -> int:
        return self._size

    def prune(self, now: float | None = None) -> int:
        """Drop every revocation whose `until` has passed; how many went."""
        moment = self.clock.now() if now is None else now
        gone = 0
        while self._expiry and self._expiry[0][0] <= moment:
            gone += self._pop_earliest()
        if self._size < self.max_entries:
            self._full = False
        return gone

    def _quieten(self) -> None:
        """What `vouches` needs after the feed or a hole changed. While the feed is lost,
        nothing is vouched for (the grace is `verdict`'s); else a token is, once every hole
        has closed or if it was issued after what any hole may cover (`_Hole.covers`)."""
        if self._lost_at is not None:
            self._quiet_from = self._hole_before = math.inf
        else:
            self._quiet_from = max(self._gap_hole.until, self._cap_hole.until)
            self._hole_before = max(self._gap_hole.before, self._cap_hole.before)

    def _make_room(self, now: float) -> None:
        if self._size < self.max_entries:
            return
        self.prune(now)
        while self._size >= self.max_entries and self._expiry:
            _, _, kind, id = self._expiry[0]
            event = self._by_kind[kind].get(id)
            if self._pop_earliest() and event is not None:
                self.evicted += 1
                # What it killed was issued by `at`; all of it has expired at `until`.
                self._cap_hole.widen(event.at + self.skew_seconds, event.until)
        self._quieten()
        if not self._full:
            self._full = True
            log.warning(
                "revocation set full (%d): evicted revocations refuse the tokens they may "
                "kill until they expire",
                self.max_entries,
            )

    def _pop_earliest(self) -> int:
        """Pop the heap's head; 1 if it was the live entry (not a superseded one)."""
        until, seq, kind, id = heapq.heappop(self._expiry)
        held = self._by_kind[kind]
        standing = held.get(id)
        if standing is None or standing.seq != seq or standing.until != until:
            return 0
        del held[id]
        self._size -= 1
        return 1

    def _rebuild_expiry(self) -> None:
        self._expiry = [
            (e.until, e.seq, e.kind, e.id) for held in self._by_kind.values() for e in held.values()
        ]
        heapq.heapify(self._expiry)


def _supersedes(event: RevocationEvent, standing: RevocationEvent) -> bool:
    """A later not-before replaces a subject's; otherwise the longer-lasting record wins."""
    if event.kind is RevocationKind.SUBJECT and event.at != standing.at:
        return event.at > standing.at
    return event.until > standing.until
