"""Property-based tests (Hypothesis) of every JWT parser gatepass has: the resource
toolkit's lean path (resource/fast_jws.py), the issuer's own (crypto/jwt.py) and the
upstream providers' (crypto/foreign_jws.py).

Two properties each, over generated input:
- any text at all is answered with the parser's one refusal type, never another exception;
- a genuine token changed in any way (a character replaced, removed or inserted anywhere)
  is refused: the signature covers every byte, and base64url is strict and canonical.

Examples are derandomized so a CI run is reproducible; `fuzz/` explores at random.
"""

import functools
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass.crypto import foreign_jws, jwt
from gatepass.crypto.keys import SigningKey, generate_signing_key
from gatepass.errors import InvalidToken
from gatepass.resource.errors import TokenRejected
from gatepass.resource.fast_jws import Reader, VerifyingKey
from gatepass.resource.jwks import import_jwk

ISSUER = "https://id.gatepass.test"
AUDIENCE = "https://orders.example"
NOW = 1_800_000_000
CLAIMS = {
    "iss": ISSUER,
    "aud": AUDIENCE,
    "sub": "user-1",
    "client_id": "app",
    "jti": "j-1",
    "scope": "orders:read",
    "iat": NOW,
    "exp": NOW + 600,
}
ALGS = ("RS256", "ES256", "EdDSA")
# GATEPASS_HOSTILE_EXAMPLES=5000 explores further, at random; the default run is fixed.
DEFAULT_EXAMPLES = 150
EXAMPLES = int(os.environ.get("GATEPASS_HOSTILE_EXAMPLES", DEFAULT_EXAMPLES))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES == DEFAULT_EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Printable ASCII, the base64url alphabet and its neighbours, and a little of the rest.
TOKEN_CHARS = st.one_of(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"),
    st.characters(),
)
ANY_TOKEN = st.one_of(
    st.text(TOKEN_CHARS, max_size=600),
    st.lists(st.text(TOKEN_CHARS, max_size=300), min_size=1, max_size=5).map(".".join),
)


@functools.cache
def key(alg: str) -> SigningKey:
    return generate_signing_key(alg)


@functools.cache
def token(alg: str) -> str:
    return jwt.sign(CLAIMS, key(alg), "at+jwt")


@functools.cache
def verifying_key(alg: str) -> VerifyingKey:
    return import_jwk(key(alg).public_jwk())


def lean_open(text: str, alg: str) -> dict[str, Any] | None:
    wanted = verifying_key(alg)
    return Reader("at+jwt").open(text, lambda kid: wanted if kid == wanted.kid else None)


def issuer_verify(text: str, alg: str) -> dict[str, Any]:
    return jwt.verify(
        text,
        [key(alg).verification_key()],
        issuer=ISSUER,
        audience=AUDIENCE,
        typ="at+jwt",
        now=NOW,
    )


def foreign_verify(text: str, alg: str) -> dict[str, Any]:
    [foreign] = foreign_jws.import_jwks({"keys": [key(alg).public_jwk()]})
    return foreign_jws.verify(text, [foreign], [alg])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """(alg, a genuine token of that alg with one character replaced, removed or added)."""
    alg = draw(st.sampled_from(ALGS))
    original = token(alg)
    at = draw(st.integers(0, len(original) - 1))
    how = draw(st.sampled_from(("replace", "remove", "insert")))
    char = draw(TOKEN_CHARS)
    if how == "remove":
        changed = original[:at] + original[at + 1 :]
    elif how == "insert":
        changed = original[:at] + char + original[at:]
    else:
        changed = original[:at] + char + original[at + 1 :]
    return alg, changed


def test_the_genuine_tokens_pass_every_parser() -> None:
    """The control: the properties below are about refusals, so acceptance must work."""
    for alg in ALGS:
        assert lean_open(token(alg), alg) == CLAIMS
        assert issuer_verify(token(alg), alg) == CLAIMS
        assert foreign_verify(token(alg), alg) == CLAIMS


@PROPERTY
@given(text=ANY_TOKEN, alg=st.sampled_from(ALGS))
def test_any_text_is_refused_by_the_lean_path_with_token_rejected(text: str, alg: str) -> None:
    try:
        opened = lean_open(text, alg)
    except TokenRejected:
        return
    assert opened is None  # only an unknown kid gets past without a verdict


@PROPERTY
@given(text=ANY_TOKEN, alg=st.sampled_from(ALGS))
def test_any_text_is_refused_by_the_issuer_with_invalid_token(text: str, alg: str) -> None:
    try:
        issuer_verify(text, alg)
    except InvalidToken:
        return
    raise AssertionError(f"accepted {text!r}")


@PROPERTY
@given(text=ANY_TOKEN, alg=st.sampled_from(ALGS))
def test_any_text_is_refused_by_the_upstream_parser_with_invalid_token(text: str, alg: str) -> None:
    try:
        foreign_verify(text, alg)
    except InvalidToken:
        return
    raise AssertionError(f"accepted {text!r}")


@PROPERTY
@given(case=mutated())
def test_a_changed_token_is_refused_everywhere(case: tuple[str, str]) -> None:
    alg, changed = case
    if changed == token(alg):  # the same character put back: no change at all
        return
    try:
        opened = lean_open(changed, alg)
    except TokenRejected:
        opened = None
    assert opened is None, changed
    for strict in (issuer_verify, foreign_verify):
        try:
            strict(changed, alg)
        except InvalidToken:
            continue
        raise AssertionError(f"{strict.__name__} accepted {changed!r}")
