"""Recovery codes (NIST 800-63B §5.1.2 look-up secrets): ten, single use, digests only.

Each code is 12 characters of Crockford-ish base32 (60 bits, shown as xxxx-xxxx-xxxx):
enough that guessing one online is hopeless (attempts are throttled too). Only a keyed
digest is stored, HMAC-SHA256 under a master-key subkey with the user's id in the
message: a copied table is useless without the master key, and a digest copied onto
another user's row matches nothing there.
"""

import hashlib
import hmac
import secrets

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/i/l: read from paper
LENGTH = 12
GROUP = 4


def new_codes() -> list[str]:
    return [_new_code() for _ in range(COUNT)]


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(code: str) -> str | None:
    """The code as generated (lower case, no spaces/dashes), or None when it cannot be one."""
    plain = code.strip().lower().replace("-", "").replace(" ", "")
    if len(plain) != LENGTH or any(c not in ALPHABET for c in plain):
        return None
    return plain


def digest(key: bytes, user_id: str, code: str) -> str:
    """Hex HMAC-SHA256 of a normalized code, bound to the user (64 characters)."""
    message = f"{user_id}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
