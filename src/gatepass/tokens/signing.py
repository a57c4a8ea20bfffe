"""Where token cores get keys, and how they sign without stalling the event loop.

`KeySource` is what a core needs of the key ring (keys/ring.py's `KeyRing` is one):
the active key of an algorithm to sign with, and every published key to verify
against, so a token signed just before a rotation still verifies after it.
"""

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from gatepass.crypto import jwt
from gatepass.crypto.keys import SigningKey, VerificationKey


class KeySource(Protocol):
    async def signing_key(self, alg: str) -> SigningKey:
        """The key that signs `alg` now; raises if the ring has none."""
        ...

    async def verification_keys(self) -> list[VerificationKey]:
        """Every published key (next, active and retiring)."""
        ...


# An RSA-2048 signature costs about half a millisecond of CPU (docs/tokens.md), long enough
# to hold up every other request on the loop at volume; EC and EdDSA signatures cost a
# sixth of that, less than handing the work to a thread would.
_OFF_LOOP_ALGORITHMS = frozenset({"RS256"})


async def sign_jwt(claims: Mapping[str, Any], key: SigningKey, typ: str) -> str:
    """`crypto.jwt.sign`, in a worker thread when the algorithm is slow to sign."""
    if key.alg in _OFF_LOOP_ALGORITHMS:
        return await asyncio.to_thread(jwt.sign, claims, key, typ)
    return jwt.sign(claims, key, typ)
