"""TOTP (RFC 6238) and recovery-code rules, with a fixed clock: the window, the skew,
single use, and what counts as a code."""

import base64

import pyotp
import pytest

from gatepass.clock import FixedClock
from gatepass.mfa import recovery, totp

# RFC 6238 Appendix B: the SHA-1 test secret "12345678901234567890", 8 digits there;
# pyotp's six-digit codes are those values' last six digits.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1234567890, "005924"),
    (2000000000, "279037"),
]


def test_secrets_are_160_random_bits_in_base32() -> None:
    first, second = totp.new_secret(), totp.new_secret()
    assert first != second
    assert len(first) == 32
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert len(base64.b32decode(first)) == 20


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS)
def test_codes_are_rfc_6238_sha1_30_second_steps(at: int, code: str) -> None:
    assert totp.code_at_step(RFC_SECRET, totp.step_at(at)) == code


def test_the_current_code_matches_its_step() -> None:
    clock = FixedClock(1_800_000_015.0)
    step = totp.step_at(clock.now())
    code = totp.code_at_step(RFC_SECRET, step)
    assert totp.matching_step(RFC_SECRET, code, clock.now(), 0) == step


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_skew_either_way_is_accepted(offset: int) -> None:
    now = 1_800_000_015.0
    step = totp.step_at(now) + offset
    code = totp.code_at_step(RFC_SECRET, step)
    assert totp.matching_step(RFC_SECRET, code, now, 0) == step


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_two_or_more_steps_away_are_refused(offset: int) -> None:
    now = 1_800_000_015.0
    code = totp.code_at_step(RFC_SECRET, totp.step_at(now) + offset)
    # Unless some other step in the window happens to give the same six digits.
    window = {totp.code_at_step(RFC_SECRET, totp.step_at(now) + d) for d in (-1, 0, 1)}
    assert code not in window
    assert totp.matching_step(RFC_SECRET, code, now, 0) is None


def test_a_code_61_seconds_old_is_refused_31_seconds_old_still_within_the_skew() -> None:
    clock = FixedClock(1_800_000_010.0)  # early in its step
    code = totp.code_at_step(RFC_SECRET, totp.step_at(clock.now()))
    clock.advance(31)
    assert totp.matching_step(RFC_SECRET, code, clock.now(), 0) is not None
    clock.advance(30)
    assert totp.matching_step(RFC_SECRET, code, clock.now(), 0) is None


def test_a_step_used_already_or_earlier_is_refused() -> None:
    now = 1_800_000_015.0
    step = totp.step_at(now)
    code = totp.code_at_step(RFC_SECRET, step)
    assert totp.matching_step(RFC_SECRET, code, now, step) is None
    assert totp.matching_step(RFC_SECRET, code, now, step + 1) is None
    assert totp.matching_step(RFC_SECRET, code, now, step - 1) == step
    previous = totp.code_at_step(RFC_SECRET, step - 1)
    assert totp.matching_step(RFC_SECRET, previous, now, step) is None


@pytest.mark.parametrize(
    "typed",
    ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 34 5", None],
)
def test_what_is_no_code_matches_nothing(typed: str | None) -> None:
    assert totp.normalize_code(typed or "") is None
    assert totp.matching_step(RFC_SECRET, typed or "", 1_800_000_015.0, 0) is None


def test_spaces_and_dashes_in_a_code_are_ignored() -> None:
    assert totp.normalize_code(" 123 456 ") == "123456"
    assert totp.normalize_code("123-456") == "123456"


def test_the_provisioning_uri_names_the_parameters_apps_read() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, "alice@example.com", "id.example.com")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == RFC_SECRET
    assert (parsed.digits, parsed.interval, parsed.issuer) == (6, 30, "id.example.com")
    assert parsed.name == "alice@example.com"


def test_recovery_codes_are_ten_distinct_codes_of_60_bits() -> None:
    codes = recovery.new_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        plain = recovery.normalize(code)
        assert plain is not None
        assert len(plain) == 12


def test_recovery_code_digests_are_keyed_and_bound_to_the_user() -> None:
    code = recovery.normalize(recovery.new_codes()[0]) or ""
    key, other_key = b"k" * 32, b"o" * 32
    digest = recovery.digest(key, "user-1", code)
    assert len(digest) == 64
    assert code not in digest
    assert recovery.digest(key, "user-2", code) != digest
    assert recovery.digest(other_key, "user-1", code) != digest


@pytest.mark.parametrize("typed", ["", "abcd-efgh", "abcd-efgh-jkm0", "x" * 40, "abcd efgh jkmn p"])
def test_what_cannot_be_a_recovery_code_is_refused(typed: str) -> None:
    assert recovery.normalize(typed) is None


def test_recovery_codes_may_be_typed_in_capitals_and_without_dashes() -> None:
    assert recovery.normalize("ABCD EFGH JKMN") == "abcdefghjkmn"
