"""RevocationSet's every-request shortcuts (resource/revocations.py), held to `verdict`:

- `vouches` answers True only for tokens `verdict` accepts, over random sets made by
  every kind of change (events of each kind, the cap evicting, the feed lost and
  restored, holes, pruning, time passing), and it does answer True for the usual token;
- `generation` grows with every change that could turn a vouched-for token into a
  refused one, so an answer of `vouches` that a verifier keeps stays right while the
  generation stands, whatever the clock does;

and TokenVerifier's cache (resource/tokens.py) relies on them: a cached token is refused
on its next use after a revocation of any kind, or once the feed is lost past its grace.
"""

import random
from collections.abc import AsyncIterator

import pytest

from gatepass.clock import FixedClock
from gatepass.resource import FeedUnavailable, TokenRejected, TokenVerifier
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind, TokenFacts
from tests.resource.token_support import AUDIENCE, ISSUER, Issuer

NOW = 1_800_000_000.0
SEED = 20261128
IDS = ["a", "b", "c", "d"]


def vouches(revocations: RevocationSet, facts: TokenFacts, now: float) -> bool:
    return revocations.vouches(facts.jti, facts.sub, facts.iat, facts.gid, facts.sid, now)


def random_facts(rng: random.Random, now: float) -> TokenFacts:
    return TokenFacts(
        jti=rng.choice(IDS),
        sub=rng.choice(IDS),
        iat=now - rng.randrange(0, 4000),
        gid=rng.choice([*IDS, None]),
        sid=rng.choice([*IDS, None]),
    )


def random_change(revocations: RevocationSet, clock: FixedClock, rng: random.Random) -> str:
    """One change of the kinds a feed, the cap or time make; its name."""
    roll = rng.random()
    if roll < 0.55:
        at = clock.now() - rng.randrange(0, 3000)
        revocations.add(
            RevocationEvent(
                seq=rng.randrange(1, 10_000),
                kind=rng.choice(list(RevocationKind)),
                id=rng.choice(IDS),
                at=at,
                until=at + rng.randrange(1, 4000),
            )
        )
        return "event"
    if roll < 0.65:
        revocations.feed_lost(clock.now() - rng.randrange(0, 60))
        return "lost"
    if roll < 0.75:
        missed = clock.now() - rng.randrange(0, 3000) if rng.random() < 0.5 else None
        revocations.feed_restored(missed_before=missed, whole_log=rng.random() < 0.3)
        return "restored"
    if roll < 0.85:
        revocations.prune()
        return "prune"
    clock.advance(rng.choice([1, 10, 29, 31, 300, 3600]))
    return "time"


def test_vouches_only_for_tokens_verdict_accepts() -> None:
    rng = random.Random(SEED)
    vouched = 0
    for _ in range(60):
        clock = FixedClock(NOW)
        revocations = RevocationSet(clock=clock, max_entries=rng.choice([3, 8, 1000]))
        if rng.random() < 0.8:
            revocations.feed_restored()
        for _ in range(40):
            random_change(revocations, clock, rng)
            for _ in range(10):
                now = clock.now() + rng.choice([0, 1, 31, 600])
                facts = random_facts(rng, now)
                verdict = revocations.verdict(facts, now)
                if vouches(revocations, facts, now):
                    vouched += 1
                    assert verdict is Verdict.ACCEPT, (facts, now)
                assert revocations.kills(facts, now) is (verdict is not Verdict.ACCEPT)
    assert vouched > 1000  # the shortcut is taken, not merely harmless


def test_a_vouched_token_stays_accepted_while_the_generation_stands() -> None:
    rng = random.Random(SEED + 1)
    kept = 0
    for _ in range(60):
        clock = FixedClock(NOW)
        revocations = RevocationSet(clock=clock, max_entries=rng.choice([3, 8, 1000]))
        revocations.feed_restored()
        # (facts, the generation it was vouched for at) as a verifier's cache keeps them
        cache: list[tuple[TokenFacts, int]] = []
        for _ in range(60):
            now = clock.now()
            facts = random_facts(rng, now)
            if vouches(revocations, facts, now):
                cache.append((facts, revocations.generation))
            random_change(revocations, clock, rng)
            for facts, generation in cache:
                if generation == revocations.generation:
                    kept += 1
                    assert revocations.verdict(facts, clock.now()) is Verdict.ACCEPT
    assert kept > 300  # answers kept across changes that left the generation alone


def test_every_change_that_can_refuse_a_token_moves_the_generation() -> None:
    clock = FixedClock(NOW)
    revocations = RevocationSet(clock=clock, max_entries=1)
    seen = [revocations.generation]

    def moved() -> bool:
        seen.append(revocations.generation)
        return seen[-1] > seen[-2]

    revocations.feed_restored()
    assert moved()
    assert revocations.add(RevocationEvent(1, RevocationKind.TOKEN, "a", NOW, NOW + 60))
    assert moved()
    assert revocations.add(RevocationEvent(2, RevocationKind.GRANT, "b", NOW, NOW + 90))
    assert moved()  # and the cap evicted the first: a hole
    assert revocations.evicted == 1
    revocations.feed_lost(NOW)
    assert moved()
    revocations.feed_restored(missed_before=NOW)
    assert moved()
    assert not revocations.add(RevocationEvent(2, RevocationKind.GRANT, "b", NOW, NOW + 90))
    assert not moved()  # nothing changed


def test_the_usual_token_is_vouched_for_and_one_on_record_is_not() -> None:
    clock = FixedClock(NOW)
    revocations = RevocationSet(clock=clock)
    fresh = TokenFacts("jti-1", "user-1", NOW - 10, "gid-1", "sid-1")
    assert not vouches(revocations, fresh, NOW)  # never caught up: it knows nothing
    revocations.feed_restored()
    assert vouches(revocations, fresh, NOW)
    # A subject revoked before the token was issued does not touch it; after, it does.
    revocations.add(RevocationEvent(1, RevocationKind.SUBJECT, "user-1", NOW - 20, NOW + 900))
    assert vouches(revocations, fresh, NOW)
    revocations.add(RevocationEvent(2, RevocationKind.SUBJECT, "user-1", NOW - 5, NOW + 900))
    assert not vouches(revocations, fresh, NOW)
    # A hole covers older tokens only: newer ones are vouched for at once.
    revocations.feed_lost(NOW)
    revocations.feed_restored(missed_before=NOW + 100)
    newer = TokenFacts("jti-2", "user-2", NOW + 200)
    assert vouches(revocations, newer, NOW + 201)
    assert not vouches(revocations, TokenFacts("jti-3", "user-2", NOW + 50), NOW + 201)


# --- the verifier's cache --------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_issuer() -> Issuer:
    return Issuer("ES256")


@pytest.fixture
def issuer(shared_issuer: Issuer) -> Issuer:
    return Issuer(clock=FixedClock(NOW), keys=list(shared_issuer.keys))


@pytest.fixture
def revocations(issuer: Issuer) -> RevocationSet:
    revocations = RevocationSet(clock=issuer.clock, max_gap_seconds=30)
    revocations.feed_restored()
    return revocations


@pytest.fixture
async def verifier(issuer: Issuer, revocations: RevocationSet) -> AsyncIterator[TokenVerifier]:
    async with TokenVerifier(
        ISSUER, AUDIENCE, http=issuer.http(), clock=issuer.clock, revocations=revocations
    ) as verifier:
        yield verifier


@pytest.mark.parametrize(
    ("kind", "claim"),
    [
        (RevocationKind.TOKEN, "jti"),
        (RevocationKind.GRANT, "gid"),
        (RevocationKind.SESSION, "sid"),
        (RevocationKind.SUBJECT, "sub"),
    ],
    ids=["its jti", "its grant", "its session", "its user"],
)
async def test_a_cached_token_is_refused_at_its_next_use_once_revoked_by(
    kind: RevocationKind,
    claim: str,
    issuer: Issuer,
    revocations: RevocationSet,
    verifier: TokenVerifier,
) -> None:
    token = issuer.mint(gid="grant-1", sid="session-1")
    other = issuer.mint(sub="user-2", gid="grant-2", sid="session-2")
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # from the cache
    assert await verifier.verify(other)

    target = dict(first.token_claims)[claim]
    revocations.add(RevocationEvent(1, kind, target, NOW + 1, NOW + 900))

    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    assert caught.value.reason == "revoked"
    with pytest.raises(TokenRejected):
        await verifier.verify(token)  # and every time after
    assert (await verifier.verify(other)).subject == "user-2"  # the set changed; not for it


async def test_a_cached_token_is_unavailable_once_the_feed_is_lost_past_its_grace(
    issuer: Issuer, revocations: RevocationSet, verifier: TokenVerifier
) -> None:
    token = issuer.mint()
    verified = await verifier.verify(token)
    revocations.feed_lost(NOW)
    issuer.clock.advance(29)
    assert await verifier.verify(token) is verified  # within the grace
    issuer.clock.advance(1)
    with pytest.raises(FeedUnavailable):
        await verifier.verify(token)
    revocations.feed_restored()
    assert await verifier.verify(token) is verified


async def test_a_cached_token_issued_before_a_hole_is_unavailable_until_it_closes(
    issuer: Issuer, revocations: RevocationSet, verifier: TokenVerifier
) -> None:
    token = issuer.mint()
    await verifier.verify(token)
    revocations.feed_lost(NOW)
    revocations.feed_restored(missed_before=NOW + 10)  # a Redis that restarted empty
    with pytest.raises(FeedUnavailable):
        await verifier.verify(token)
    revocations.feed_restored(whole_log=True)  # the HTTP stream caught up from the log
    assert (await verifier.verify(token)).subject == "user-1"
