"""Where token cores get keys, and how they sign without stalling the event loop.

`KeySource` is what a core needs of the key ring (keys/ring.py's `KeyRing` is one):
the active key of an algorithm to sign with, and every published key to verify
against, so a token signed just before a rotation still verifies after it.
"""

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, Protocol

from gatepass.crypto import cpu_threads, jwt
from gatepass.crypto.keys import SigningKey, VerificationKey


class KeySource(Protocol):
    async def signing_key(self, alg: str) -> SigningKey:
        """The key that signs `alg` now; raises if the ring has none."""
        ...

    async def verification_keys(self) -> list[VerificationKey]:
        """Every published key (next, active and retiring)."""
        ...


# An RSA-2048 signature costs 0.2 to 0.5 ms of CPU (docs/tokens.md), long enough to hold
# up every other request on the loop at volume; EC and EdDSA signatures cost about a
# tenth of that, less than handing the work to a thread would (ES256 /token answers
# measured 8,100-8,300 a second signed on the loop, 4,900-5,140 signed in the pool).
_OFF_LOOP_ALGORITHMS = frozenset({"RS256"})
# As the argon2 threads' (crypto/passwords.py): the loop keeps its core when they want it.
SIGNING_NICENESS = 10


async def sign_jwt(claims: Mapping[str, Any], key: SigningKey, typ: str) -> str:
    """`crypto.jwt.sign`, in a signing thread when the algorithm is slow to sign."""
    if key.alg in _OFF_LOOP_ALGORITHMS:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_signing_threads(), jwt.sign, claims, key, typ)
    return jwt.sign(claims, key, typ)


@cache
def _signing_threads() -> ThreadPoolExecutor:
    """One pool for the whole process (crypto/cpu_threads.py), apart from asyncio's
    default executor, whose 5 + cores threads answered about 10% fewer RS256 /token
    requests a second: more threads than cores preempt the loop, which holds the GIL, and
    every finished signature then waits for it (3,520-4,080 against 3,900-4,470)."""
    return cpu_threads.pool("signing", SIGNING_NICENESS)
