"""The revocation core (tokens/revocation.py) and its event (revocation_event.py), with a
fixed clock on SQLite and PostgreSQL (the log is SQL whatever holds the sessions)."""

import json

import pytest

from gatepass.clock import FixedClock
from gatepass.storage.backends import Backends
from gatepass.tokens.access_tokens import AccessTokenClaims
from gatepass.tokens.revocation import Revocations, facts_of
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind, TokenFacts
from tests.contract.conftest import START

TTL = 3600
USER, OTHER = "3f0c9a53-2f7e-4c52-9d9b-0a8f1f3c7d11", "8b1d6c0e-6a41-4f0e-b1f5-7e2f9d3c4a20"


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def revocations(backends: Backends, clock: FixedClock) -> Revocations:
    return Revocations(
        backends.revocations, backends.revocation_feed, clock, max_token_ttl_seconds=TTL
    )


def token(
    *, jti: str = "jti-a", sub: str = USER, iat: float = START, gid: str | None = "gid-a"
) -> TokenFacts:
    return TokenFacts(jti=jti, sub=sub, iat=iat, gid=gid)


async def test_a_fresh_token_is_active(revocations: Revocations) -> None:
    assert await revocations.is_active(token())
    assert await revocations.revocation_of(token()) is None


async def test_a_revoked_jti_kills_that_token_until_its_exp(
    revocations: Revocations, clock: FixedClock
) -> None:
    assert await revocations.revoke_token("jti-a", until=START + 900)
    assert not await revocations.revoke_token("jti-a", until=START + 900)  # the first stands
    assert not await revocations.is_active(token())
    assert await revocations.is_active(token(jti="jti-b"))
    clock.advance(900)
    assert await revocations.is_active(token())


async def test_a_revoked_grant_kills_every_token_carrying_its_gid_for_the_longest_ttl(
    revocations: Revocations, clock: FixedClock
) -> None:
    assert await revocations.revoke_grant("gid-a")
    event = await revocations.revocation_of(token(jti="any"))
    assert event is not None
    assert (event.kind, event.id, event.until) == (RevocationKind.GRANT, "gid-a", START + TTL)
    assert await revocations.is_active(token(gid="gid-b"))
    assert await revocations.is_active(token(gid=None))
    clock.advance(TTL)
    assert await revocations.is_active(token())


async def test_a_grant_may_be_revoked_until_a_given_time(revocations: Revocations) -> None:
    assert await revocations.revoke_grant("gid-a", until=START + 60)
    (event,) = await revocations.since(0)
    assert event.until == START + 60


async def test_a_revoked_session_kills_tokens_naming_it(revocations: Revocations) -> None:
    assert await revocations.revoke_session("sid-a", until=START + 7200)
    assert not await revocations.is_active(TokenFacts("j", USER, START, sid="sid-a"))
    assert await revocations.is_active(TokenFacts("j", USER, START, sid="sid-b"))
    # An access token carries no sid: a session revocation does not name it.
    assert await revocations.is_active(token())


async def test_a_subject_revocation_kills_tokens_issued_before_it_only(
    revocations: Revocations, clock: FixedClock
) -> None:
    clock.advance(100)
    assert await revocations.revoke_subject(USER)
    assert not await revocations.is_active(token(iat=START))
    assert not await revocations.is_active(token(iat=START + 99))
    assert await revocations.is_active(token(iat=START + 100))
    assert await revocations.is_active(token(sub=OTHER, iat=START))
    clock.advance(TTL)  # every token issued before it has expired: the record is moot
    assert await revocations.is_active(token(iat=START))


async def test_a_later_subject_revocation_moves_not_before_forward(
    revocations: Revocations, clock: FixedClock
) -> None:
    assert await revocations.revoke_subject(USER)
    clock.advance(50)
    assert await revocations.is_active(token(iat=START + 50))
    assert await revocations.revoke_subject(USER)
    assert not await revocations.is_active(token(iat=START + 49))
    (event,) = await revocations.since(0)
    assert (event.kind, event.at, event.until) == (
        RevocationKind.SUBJECT,
        START + 50,
        START + 50 + TTL,
    )


async def test_a_subject_revocation_in_the_same_second_counts_as_after__fail_closed(
    revocations: Revocations, clock: FixedClock
) -> None:
    clock.advance(0.4)
    assert await revocations.revoke_subject(USER)
    # iat is whole seconds: a token of START may have been issued at START + 0.9.
    assert not await revocations.is_active(token(iat=START))
    assert await revocations.is_active(token(iat=START + 1))


async def test_revoking_what_has_expired_already_records_nothing(
    revocations: Revocations,
) -> None:
    assert not await revocations.revoke_token("jti-a", until=START)
    assert not await revocations.revoke_session("sid-a", until=START - 1)
    assert await revocations.since(0) == []


@pytest.mark.parametrize("bad", ["", " ", "a b", "x" * 129, "tab\there", "nul\x00"], ids=repr)
async def test_an_identifier_unfit_for_the_log_is_refused(
    revocations: Revocations, bad: str
) -> None:
    with pytest.raises(ValueError, match="identifier"):
        await revocations.revoke_grant(bad)
    assert await revocations.since(0) == []


@pytest.mark.parametrize(("cursor", "limit"), [(-1, 10), (0, 0), (0, 1001)])
async def test_since_refuses_a_bad_cursor_or_limit(
    revocations: Revocations, cursor: int, limit: int
) -> None:
    with pytest.raises(ValueError, match="limit"):
        await revocations.since(cursor, limit)


def test_facts_of_an_access_token_are_its_jti_sub_iat_and_gid() -> None:
    claims = AccessTokenClaims(
        issuer="https://id.example.com",
        subject=USER,
        audience=("https://api.example.com",),
        client_id="gpc_x",
        scope=("openid",),
        jti="jti-a",
        issued_at=int(START),
        expires_at=int(START) + 900,
        grant_id="gid-a",
    )
    assert facts_of(claims) == TokenFacts(jti="jti-a", sub=USER, iat=START, gid="gid-a")


# ---- the event's JSON form (docs/revocation.md)

EVENT = RevocationEvent(7, RevocationKind.GRANT, "gid-a", 1800000000.5, 1800003600.5)


def test_the_json_form_is_stable_compact_and_in_order() -> None:
    assert EVENT.to_json() == (
        '{"v":1,"seq":7,"type":"grant","id":"gid-a","at":1800000000.5,"until":1800003600.5}'
    )
    assert RevocationEvent.from_json(EVENT.to_json()) == EVENT
    assert RevocationEvent.from_json(EVENT.to_json().encode()) == EVENT


def test_integer_times_are_read_as_seconds() -> None:
    text = '{"v":1,"seq":1,"type":"subject","id":"u","at":10,"until":20}'
    assert RevocationEvent.from_json(text) == RevocationEvent(
        1, RevocationKind.SUBJECT, "u", 10.0, 20.0
    )


def _with(**members: object) -> str:
    good = json.loads(EVENT.to_json())
    return json.dumps({**good, **members})


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        _with(v=2),
        _with(seq=0),
        _with(seq="7"),
        _with(seq=True),
        _with(type="family"),
        _with(type=["grant"]),
        _with(id=""),
        _with(id=7),
        _with(at="now"),
        _with(until=None),
        '{"v":1,"seq":1,"type":"grant","id":"g","at":NaN,"until":1}',
        "[" * 100_000,
    ],
    ids=lambda text: text[:40],
)
def test_a_malformed_event_is_refused_with_value_error(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - one error type for every malformed event
        RevocationEvent.from_json(text)
