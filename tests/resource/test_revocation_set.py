"""RevocationSet (resource/revocations.py) with a fixed clock: what each kind of event
kills, pruning, the cap, the gap policy, holes and the fallback."""

import logging

import pytest

from gatepass.clock import FixedClock
from gatepass.resource.revocations import RevocationSet, Verdict
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind, TokenFacts

NOW = 1_800_000_000.0
TOKEN = TokenFacts(jti="jti-1", sub="user-1", iat=NOW - 60, gid="gid-1", sid="sid-1")
OTHER = TokenFacts(jti="jti-2", sub="user-2", iat=NOW - 60, gid="gid-2", sid="sid-2")


def event(
    seq: int, kind: RevocationKind, id: str, *, at: float = NOW, until: float = NOW + 900
) -> RevocationEvent:
    return RevocationEvent(seq, kind, id, at, until)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def live(clock: FixedClock) -> RevocationSet:
    """A set whose feed has caught up (as a feed would report)."""
    revocations = RevocationSet(clock=clock)
    revocations.feed_restored()
    return revocations


@pytest.mark.parametrize(
    "revoked",
    [
        event(1, RevocationKind.TOKEN, "jti-1"),
        event(1, RevocationKind.GRANT, "gid-1"),
        event(1, RevocationKind.SESSION, "sid-1"),
        event(1, RevocationKind.SUBJECT, "user-1", at=NOW - 30),
    ],
    ids=[
        "a token event kills its jti",
        "a grant event kills its gid",
        "a session event its sid",
        "a subject event kills tokens issued before its not-before",
    ],
)
def test_each_kind_kills_what_it_names_and_nothing_else(
    live: RevocationSet, revoked: RevocationEvent
) -> None:
    assert live.verdict(TOKEN, NOW) is Verdict.ACCEPT
    assert live.add(revoked)
    assert live.verdict(TOKEN, NOW) is Verdict.REVOKED
    assert live.kills(TOKEN, NOW)
    assert live.verdict(OTHER, NOW) is Verdict.ACCEPT
    assert not live.kills(OTHER, NOW)


def test_a_subject_event_spares_tokens_issued_after_it(live: RevocationSet) -> None:
    live.add(event(1, RevocationKind.SUBJECT, "user-1", at=NOW - 30.5))
    # iat is whole seconds: issued in the same second as the revocation counts as before.
    assert live.kills(TokenFacts("a", "user-1", iat=NOW - 31), NOW)
    assert not live.kills(TokenFacts("c", "user-1", iat=NOW - 30), NOW)


def test_a_later_not_before_replaces_an_earlier_one_and_not_the_reverse(
    live: RevocationSet,
) -> None:
    assert live.add(event(1, RevocationKind.SUBJECT, "user-1", at=NOW - 100))
    assert live.add(event(5, RevocationKind.SUBJECT, "user-1", at=NOW - 10))
    assert not live.add(event(3, RevocationKind.SUBJECT, "user-1", at=NOW - 50))  # late, older
    assert len(live) == 1
    assert live.kills(TokenFacts("a", "user-1", iat=NOW - 20), NOW)
    assert live.cursor == 5


def test_an_event_applied_twice_changes_nothing(live: RevocationSet) -> None:
    revoked = event(7, RevocationKind.GRANT, "gid-1")
    assert live.add(revoked)
    assert not live.add(revoked)
    assert len(live) == 1
    assert live.cursor == 7


def test_events_kill_nothing_after_until_and_leave_when_pruned(
    live: RevocationSet, clock: FixedClock
) -> None:
    live.add(event(1, RevocationKind.TOKEN, "jti-1", until=NOW + 10))
    live.add(event(2, RevocationKind.GRANT, "gid-2", until=NOW + 20))
    assert live.kills(TOKEN, NOW + 9.9)
    assert not live.kills(TOKEN, NOW + 10)
    assert live.prune(NOW + 10) == 1
    assert len(live) == 1
    assert live.kills(OTHER, NOW + 19)
    clock.advance(25)
    assert live.prune() == 1
    assert len(live) == 0
    # One already expired when it arrives is not kept, but moves the cursor.
    assert not live.add(event(3, RevocationKind.TOKEN, "jti-3", until=NOW))
    assert (len(live), live.cursor) == (0, 3)


def test_malformed_events_and_other_versions_are_skipped_and_counted(
    live: RevocationSet, caplog: pytest.LogCaptureFixture
) -> None:
    good = event(4, RevocationKind.TOKEN, "jti-1").to_json()
    with caplog.at_level(logging.WARNING, logger="gatepass.resource.revocations"):
        assert not live.add_json("{not json")
        assert not live.add_json(good.replace('"v":1', '"v":2'))
        assert not live.add_json(good.replace('"jti-1"', '"has space"'))
    assert live.add_json(good)
    assert live.rejected == 3
    assert "revocation event skipped" in caplog.text
    assert live.kills(TOKEN, NOW)


def test_past_the_cap_the_soonest_expiring_is_evicted_and_fails_closed(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    capped = RevocationSet(max_entries=2, skew_seconds=0, clock=clock)
    capped.feed_restored()
    capped.add(event(1, RevocationKind.TOKEN, "soon", at=NOW - 100, until=NOW + 50))
    capped.add(event(2, RevocationKind.TOKEN, "later", at=NOW - 10, until=NOW + 500))
    with caplog.at_level(logging.WARNING, logger="gatepass.resource.revocations"):
        assert capped.add(event(3, RevocationKind.TOKEN, "newest", at=NOW, until=NOW + 900))
    assert (len(capped), capped.evicted) == (2, 1)
    assert "revocation set full" in caplog.text
    # The evicted revocation's token is still refused, as are all that may be it...
    evicted = TokenFacts("soon", "u", iat=NOW - 200)
    assert capped.verdict(evicted, NOW) is Verdict.FEED_UNAVAILABLE
    assert capped.verdict(TokenFacts("x", "u", iat=NOW - 101), NOW) is Verdict.FEED_UNAVAILABLE
    # ... but not tokens issued after it was revoked, nor after it would have expired.
    assert capped.verdict(TokenFacts("y", "u", iat=NOW - 99), NOW) is Verdict.ACCEPT
    assert capped.verdict(evicted, NOW + 50) is Verdict.ACCEPT
    assert capped.verdict(TokenFacts("later", "u", iat=NOW - 50), NOW) is Verdict.REVOKED


def test_a_set_that_never_caught_up_refuses_tokens_older_than_itself(clock: FixedClock) -> None:
    fresh = RevocationSet(clock=clock, skew_seconds=5)
    assert not fresh.connected
    assert fresh.verdict(TOKEN, NOW) is Verdict.FEED_UNAVAILABLE
    assert fresh.kills(TOKEN, NOW)
    assert fresh.verdict(TokenFacts("new", "u", iat=NOW + 6), NOW + 7) is Verdict.ACCEPT
    fresh.feed_restored()
    assert fresh.connected
    assert fresh.verdict(TOKEN, NOW) is Verdict.ACCEPT


def test_a_lost_feed_refuses_tokens_issued_before_the_loss_after_the_grace(
    live: RevocationSet, clock: FixedClock
) -> None:
    lost_at = NOW + 100
    clock.at = lost_at + 40  # the loss is noticed late: it is backdated
    live.feed_lost(lost_at)
    assert not live.connected
    assert live.lost_at == lost_at
    before_loss = TokenFacts("old", "u", iat=NOW)
    after_loss = TokenFacts("new", "u", iat=lost_at + 10)
    assert live.verdict(before_loss, lost_at + 29) is Verdict.ACCEPT  # within 30 s of grace
    assert live.verdict(before_loss, lost_at + 30) is Verdict.FEED_UNAVAILABLE
    assert live.verdict(after_loss, lost_at + 30) is Verdict.ACCEPT
    live.feed_lost(lost_at + 20)  # a second report does not move the loss
    assert live.lost_at == lost_at
    live.feed_restored()
    assert live.verdict(before_loss, lost_at + 60) is Verdict.ACCEPT


def test_a_strict_gap_refuses_every_token(clock: FixedClock) -> None:
    strict = RevocationSet(clock=clock, strict_gap=True, max_gap_seconds=0)
    strict.feed_restored()
    strict.feed_lost(NOW)
    assert strict.verdict(TokenFacts("new", "u", iat=NOW + 100), NOW + 101) is (
        Verdict.FEED_UNAVAILABLE
    )
    strict.feed_restored()
    assert strict.verdict(TokenFacts("new", "u", iat=NOW + 100), NOW + 101) is Verdict.ACCEPT


def test_a_catch_up_that_cannot_vouch_leaves_a_hole_until_tokens_expire(
    live: RevocationSet,
) -> None:
    live.feed_lost(NOW)
    live.feed_restored(missed_before=NOW + 50)  # e.g. Redis restarted empty at NOW + 50
    assert live.connected
    issued_before = TokenFacts("a", "u", iat=NOW + 40)
    assert live.verdict(issued_before, NOW + 60) is Verdict.FEED_UNAVAILABLE
    assert live.verdict(TokenFacts("b", "u", iat=NOW + 60), NOW + 61) is Verdict.ACCEPT
    # Every token issued before the hole has expired an hour later: the hole closes.
    assert live.verdict(issued_before, NOW + 50 + 3600) is Verdict.ACCEPT
    # A catch-up from the whole log fills it at once.
    live.feed_restored(whole_log=True)
    assert live.verdict(issued_before, NOW + 60) is Verdict.ACCEPT


async def test_the_fallback_decides_only_what_the_set_cannot(clock: FixedClock) -> None:
    asked: list[str] = []
    active = {"jti-1": True, "jti-2": False}

    async def introspect(token: str, facts: TokenFacts) -> bool:
        asked.append(token)
        if facts.jti not in active:
            raise RuntimeError("issuer down")
        return active[facts.jti]

    revocations = RevocationSet(clock=clock, fallback=introspect)  # never caught up
    assert await revocations.check(TOKEN, NOW, "tok-1") is Verdict.ACCEPT
    assert await revocations.check(OTHER, NOW, "tok-2") is Verdict.REVOKED
    unknown = TokenFacts("jti-3", "u", iat=NOW - 60)
    assert await revocations.check(unknown, NOW, "tok-3") is Verdict.FEED_UNAVAILABLE
    assert revocations.kills(TOKEN, NOW)  # the synchronous answer stays closed
    revocations.feed_restored()
    revocations.add(event(9, RevocationKind.TOKEN, "jti-1"))
    assert await revocations.check(TOKEN, NOW, "tok-1") is Verdict.REVOKED
    assert await revocations.check(OTHER, NOW, "tok-2") is Verdict.ACCEPT
    assert asked == ["tok-1", "tok-2", "tok-3"]  # never asked once the set knows


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        RevocationSet(max_entries=0)
    with pytest.raises(ValueError, match="max_gap"):
        RevocationSet(max_gap_seconds=-1)
