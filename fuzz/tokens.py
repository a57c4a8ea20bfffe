"""Fuzz target: every parser of tokens and bearer headers (see fuzz/README.md)."""

import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["gatepass"]):
    from gatepass.crypto import foreign_jws, jwt
    from gatepass.crypto.keys import generate_signing_key
    from gatepass.errors import InvalidToken
    from gatepass.resource.errors import TokenRejected
    from gatepass.resource.fast_jws import Reader
    from gatepass.resource.jwks import import_jwk
    from gatepass.tokens.bearer import BearerError, parse_bearer

ISSUER = "https://id.gatepass.test"
NOW = 1_800_000_000
KEYS = [generate_signing_key(alg) for alg in ("RS256", "ES256", "EdDSA")]
LEAN = {key.kid: import_jwk(key.public_jwk()) for key in KEYS}
FOREIGN = foreign_jws.import_jwks({"keys": [key.public_jwk() for key in KEYS]})
VERIFYING = [key.verification_key() for key in KEYS]
# Genuine tokens in the corpus's reach: the fuzzer mutates from well-formed ones too.
SEEDS = [
    jwt.sign({"iss": ISSUER, "aud": "api", "exp": NOW + 60, "iat": NOW}, key, "at+jwt")
    for key in KEYS
]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    seed = SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]
    at = fdp.ConsumeIntInRange(0, len(seed))
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    token = seed[:at] + text if at % 2 else text  # half the time, a genuine prefix
    with contextlib.suppress(TokenRejected):
        Reader("at+jwt").open(token, LEAN.get)
    with contextlib.suppress(InvalidToken):
        jwt.verify(token, VERIFYING, issuer=ISSUER, audience="api", typ="at+jwt", now=NOW)
    with contextlib.suppress(InvalidToken):
        foreign_jws.verify(token, FOREIGN, ["RS256", "ES256", "EdDSA"])
    with contextlib.suppress(BearerError):
        parse_bearer([token])


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
