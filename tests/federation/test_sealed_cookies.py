"""The sealed cookie that carries an upstream login across its redirects."""

import os

from gatepass.clock import FixedClock
from gatepass.web.sealed_cookies import CookieBox

KEY = os.urandom(32)


def box(clock: FixedClock, key: bytes = KEY) -> CookieBox:
    return CookieBox(lambda: key, clock)


def test_what_is_sealed_opens_for_its_purpose_until_it_expires() -> None:
    clock = FixedClock()
    value = box(clock).seal("login", {"state": "s", "next": "/account"}, 600)
    assert box(clock).open("login", value) == {"state": "s", "next": "/account"}
    assert "state" not in value  # encrypted, not merely signed
    assert "account" not in value
    clock.advance(599)
    assert box(clock).open("login", value) is not None
    clock.advance(1)
    assert box(clock).open("login", value) is None


def test_another_purpose_key_or_a_changed_byte_opens_nothing() -> None:
    clock = FixedClock()
    value = box(clock).seal("login", {"user": "a"}, 600)
    assert box(clock).open("link", value) is None
    assert box(clock, os.urandom(32)).open("login", value) is None
    flipped = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]
    assert box(clock).open("login", flipped) is None


def test_garbage_opens_nothing_and_raises_nothing() -> None:
    clock = FixedClock()
    for junk in ("", "x", "!!!", "A" * 10_000, "é" * 40, "AAAA" * 10):
        assert box(clock).open("login", junk) is None
