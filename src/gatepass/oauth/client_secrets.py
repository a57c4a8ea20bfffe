"""Client secrets (RFC 6749 §2.3.1): 256 random bits, stored as HMAC-SHA256 under a server key.

A digest binds the secret to its client id, so a digest copied to another client's
row, or one client's secret presented as another's, never verifies.
"""

from gatepass.crypto import secrets
from gatepass.crypto.secrets import KeyedDigest, same

MIN_KEY_BYTES = 32
MAX_SECRET_LENGTH = 512  # a presented secret longer than this is refused unhashed
_PURPOSE = "gatepass/oauth-client-secret/v1"
_NO_DIGEST = "0" * 64  # compared against when there is no client, so failures cost alike


def new_secret() -> str:
    """A fresh client secret: 43 URL-safe characters, 256 bits from the OS CSPRNG."""
    return secrets.new_secret()


class ClientSecrets:
    """Digest and verify client secrets under one server key (`hmac_key`, >= 32 bytes)."""

    def __init__(self, hmac_key: bytes) -> None:
        if len(hmac_key) < MIN_KEY_BYTES:
            raise ValueError(f"the client-secret key needs at least {MIN_KEY_BYTES} bytes")
        self._digest = KeyedDigest(hmac_key)

    def __repr__(self) -> str:
        return "ClientSecrets('**********')"

    def digest(self, client_id: str, secret: str) -> str:
        return self._digest.hex(f"{_PURPOSE}\x00{client_id}\x00{secret}")

    def verify(self, client_id: str, secret: str, stored_digest: str | None) -> bool:
        """Whether `secret` is the client's; constant time in the secret's content."""
        if not secret or len(secret) > MAX_SECRET_LENGTH:
            return False
        expected = stored_digest if stored_digest is not None else _NO_DIGEST
        matches = same(self.digest(client_id, secret), expected)
        return matches and stored_digest is not None
