"""Fixtures for the signing-key tests: a master key, a sealer, a key ring on a real store."""

from collections.abc import Callable

import pytest

from gatepass.clock import FixedClock
from gatepass.crypto.master_key import MasterKey
from gatepass.crypto.sealing import KeySealer
from gatepass.keys.ring import KeyRing, RotationPolicy
from gatepass.storage.backends import Backends

JWKS_MAX_AGE = 3600
TOKEN_TTL = 900
ISSUER = "https://id.example.com"
AUDIENCE = "https://api.example.com"


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey(b"k" * 32)


@pytest.fixture
def sealer(master_key: MasterKey) -> KeySealer:
    return KeySealer(master_key)


@pytest.fixture
def policy() -> RotationPolicy:
    return RotationPolicy(jwks_max_age_seconds=JWKS_MAX_AGE, max_token_ttl_seconds=TOKEN_TTL)


@pytest.fixture
def make_ring(
    backends: Backends, sealer: KeySealer, policy: RotationPolicy, clock: FixedClock
) -> Callable[..., KeyRing]:
    def make(*algorithms: str, key_sealer: KeySealer | None = None) -> KeyRing:
        return KeyRing(
            backends.signing_keys,
            key_sealer or sealer,
            policy,
            clock,
            algorithms or ("RS256", "ES256", "EdDSA"),
        )

    return make
