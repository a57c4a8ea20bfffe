"""PKCE (RFC 7636; RFC 9700 §2.1.1; SECURITY.md R4, R6): S256 only, verifiers checked exactly."""

import pytest

from gatepass.oauth.errors import InvalidRequest
from gatepass.oauth.pkce import s256, validate_code_challenge, verify_code_verifier

# RFC 7636 Appendix B, verbatim.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
CHALLENGE = s256("a" * 43)


def test_s256_matches_the_test_vector__rfc7636_appendix_b() -> None:
    assert s256(RFC_VERIFIER) == RFC_CHALLENGE


def test_the_rfc_verifier_answers_its_challenge__rfc7636_4_6() -> None:
    assert verify_code_verifier(RFC_VERIFIER, RFC_CHALLENGE)


GOOD_CHALLENGES = {
    "the RFC's S256 challenge": RFC_CHALLENGE,
    "43 unreserved characters, the shortest": "A" * 43,
    "128 unreserved characters, the longest": "~._-" * 32,
}


@pytest.mark.parametrize("challenge", GOOD_CHALLENGES.values(), ids=list(GOOD_CHALLENGES))
def test_a_well_formed_s256_challenge_is_accepted(challenge: str) -> None:
    assert validate_code_challenge(challenge, "S256") == challenge


REFUSED_CHALLENGES = {
    "a missing challenge__rfc9700_2_1_1": (None, "S256"),
    "a missing method, which would mean plain__rfc7636_4_3": (RFC_CHALLENGE, None),
    "the plain method__rfc9700_2_1_1": (RFC_CHALLENGE, "plain"),
    "an unsupported method__rfc7636_4_4_1": (RFC_CHALLENGE, "S512"),
    "a lower-case s256, methods are case-sensitive": (RFC_CHALLENGE, "s256"),
    "42 characters, one too few__rfc7636_4_2": ("A" * 42, "S256"),
    "129 characters, one too many__rfc7636_4_2": ("A" * 129, "S256"),
    "a character outside the unreserved set__rfc7636_4_2": ("A" * 42 + "+", "S256"),
    "padding__rfc7636_4_2": ("A" * 43 + "=", "S256"),
    "a space inside": ("A" * 21 + " " + "A" * 21, "S256"),
}


@pytest.mark.parametrize(
    ("challenge", "method"), REFUSED_CHALLENGES.values(), ids=list(REFUSED_CHALLENGES)
)
def test_a_bad_challenge_is_invalid_request(challenge: str | None, method: str | None) -> None:
    with pytest.raises(InvalidRequest):
        validate_code_challenge(challenge, method)


WRONG_VERIFIERS = {
    "no verifier at all__rfc7636_4_6": None,
    "an empty verifier": "",
    "the challenge itself, as a plain-method client would send": CHALLENGE,
    "another well-formed verifier": "b" * 43,
    "the right verifier with one character more": "a" * 44,
    "the right verifier but one character short": "a" * 42,
    "a verifier of 129 characters__rfc7636_4_1": "a" * 129,
    "a verifier with characters outside the unreserved set__rfc7636_4_1": "a" * 42 + "/",
    "the right verifier in upper case": "A" * 43,
}


@pytest.mark.parametrize("verifier", WRONG_VERIFIERS.values(), ids=list(WRONG_VERIFIERS))
def test_a_wrong_verifier_is_refused__rfc7636_4_6(verifier: str | None) -> None:
    assert not verify_code_verifier(verifier, CHALLENGE)


@pytest.mark.parametrize("length", [43, 64, 128])
def test_a_right_verifier_of_any_allowed_length_is_accepted(length: int) -> None:
    verifier = ("0123456789-._~" * 10)[:length]
    assert verify_code_verifier(verifier, s256(verifier))
