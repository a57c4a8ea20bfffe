"""Opaque secrets (crypto/secrets.py): 256 random bits, stored only as digests."""

import base64

import pytest

from gatepass.crypto.secrets import derive, digest, looks_like_secret, new_secret, same


@pytest.fixture(scope="module")
def thousand() -> list[str]:
    return [new_secret() for _ in range(1000)]


def test_a_thousand_secrets_are_all_different(thousand: list[str]) -> None:
    assert len(set(thousand)) == 1000


def test_a_secret_is_43_url_safe_characters(thousand: list[str]) -> None:
    for secret in thousand:
        assert len(secret) == 43
        assert looks_like_secret(secret)


def test_a_secret_carries_at_least_256_bits__rfc6749_10_10(thousand: list[str]) -> None:
    for secret in thousand[:50]:
        raw = base64.urlsafe_b64decode(secret + "=")
        assert len(raw) * 8 >= 256


def test_the_digest_is_stable_and_is_not_the_secret() -> None:
    secret = new_secret()
    assert digest(secret) == digest(secret)
    assert digest(secret) != secret
    assert secret not in digest(secret)
    assert looks_like_secret(digest(secret))


def test_different_secrets_have_different_digests(thousand: list[str]) -> None:
    assert len({digest(secret) for secret in thousand}) == 1000


def test_the_digest_is_sha256_in_unpadded_base64url() -> None:
    assert digest("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("A" * 42, id="too short"),
        pytest.param("A" * 44, id="too long"),
        pytest.param("A" * 42 + "=", id="padded"),
        pytest.param("A" * 42 + "+", id="standard base64"),
        pytest.param("A" * 42 + "é", id="unicode"),
        pytest.param("A" * 43 + "\n", id="a trailing newline"),
    ],
)
def test_looks_like_secret_refuses_garbage(value: str) -> None:
    assert looks_like_secret(value) is False


def test_derive_is_bound_to_the_key_and_the_purpose() -> None:
    key = new_secret()
    assert derive(key, "csrf") == derive(key, "csrf")
    assert derive(key, "csrf") != derive(key, "other")
    assert derive(key, "csrf") != derive(new_secret(), "csrf")


def test_same_compares_strings() -> None:
    assert same("abc", "abc") is True
    assert same("abc", "abd") is False
    assert same("abc", "abcd") is False
    assert same("é", "é") is True
