"""Password hashing: argon2id with at least OWASP's parameters, off the event loop."""

import asyncio
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gatepass.crypto import cpu_threads

# How much lower than the rest of the process the hashing threads run (a nice value, added
# to the process's own). A hash takes tens of milliseconds of CPU; a JWKS, a token or a
# session check takes well under one. At 10 the scheduler weighs a hashing thread at a
# tenth of the event loop's, so a request that arrives while every core hashes runs at
# once instead of waiting for a time slice; with nothing else to run, the hashes still
# have every core, so logins lose no throughput.
HASHING_NICENESS = 10


@dataclass(frozen=True)
class Argon2Parameters:
    memory_kib: int
    time_cost: int
    parallelism: int


def normalize_password(password: str) -> str:
    """NIST SP 800-63B §5.1.1.2: normalize Unicode (NFKC) before hashing.

    So a password typed as NFC on one device and NFD on another is the same.
    """
    return unicodedata.normalize("NFKC", password)


class PasswordHasher:
    """Self-describing argon2id hashes; `needs_rehash` when parameters grow."""

    def __init__(self, params: Argon2Parameters) -> None:
        self._params = params
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=argon2.Type.ID,
        )
        # Verifying against this costs what a real verification costs, so an
        # unknown account answers in the same time as a wrong password.
        self._dummy_hash = self._hasher.hash("gatepass dummy password")

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(normalize_password(password))

    def verify_sync(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; a missing hash does the same work and fails."""
        target = password_hash if password_hash is not None else self._dummy_hash
        try:
            matched = self._hasher.verify(target, normalize_password(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored hash is weaker than the configured parameters.

        Only weaker: during a rolling upgrade a process still on the old settings
        must not rewrite a stronger hash back down.
        """
        try:
            stored = argon2.extract_parameters(password_hash)
        except InvalidHashError:
            return True
        return (
            stored.type is not argon2.Type.ID
            or stored.memory_cost < self._params.memory_kib
            or stored.time_cost < self._params.time_cost
            or stored.parallelism < self._params.parallelism
        )

    async def hash(self, password: str) -> str:
        # argon2-cffi releases the GIL, so a worker thread keeps the loop serving.
        return await asyncio.get_running_loop().run_in_executor(
            _hashing_threads(), self.hash_sync, password
        )

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            _hashing_threads(), self.verify_sync, password_hash, password
        )


@cache
def _hashing_threads() -> ThreadPoolExecutor:
    """One pool for the whole process (crypto/cpu_threads.py). Queued, the first logins of a
    burst finish at full speed; and asyncio's default executor (DNS, files) stays free
    during a login storm."""
    return cpu_threads.pool("argon2", HASHING_NICENESS)
