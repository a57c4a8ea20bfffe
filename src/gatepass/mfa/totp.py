"""TOTP (RFC 6238 over RFC 4226): 160-bit secrets, 30 s steps, six digits, SHA-1.

These are the parameters every authenticator app understands (Google Authenticator
ignores anything else). The server's clock alone decides the time step: a code is
accepted for the current step and at most one step either side (RFC 6238 §5.2 skew),
and only for a step later than the last one accepted (§5.2: "the verifier MUST NOT
accept the second attempt of the OTP after the successful validation has been issued
for the first OTP"); the store enforces that atomically (mfa/store.py `use_step`).
"""

import base64
import hmac
import os
from urllib.parse import quote

import pyotp

SECRET_BYTES = 20  # 160 bits: RFC 4226 §4 R6 recommends it
STEP_SECONDS = 30
DIGITS = 6
SKEW_STEPS = 1


def new_secret() -> str:
    """A fresh secret, base32 without padding (what apps expect in the manual key)."""
    return base64.b32encode(os.urandom(SECRET_BYTES)).decode("ascii").rstrip("=")


def step_at(now: float) -> int:
    return int(now // STEP_SECONDS)


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def normalize_code(code: str) -> str | None:
    """The six digits typed (spaces and dashes allowed), or None when it is no code."""
    digits = code.replace(" ", "").replace("-", "").strip()
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def matching_step(secret: str, code: str, now: float, last_used_step: int) -> int | None:
    """The step whose code `code` is, within the skew and after `last_used_step`; else None.

    Every candidate is compared (constant time) so the answer's timing does not tell
    which step matched."""
    typed = normalize_code(code)
    if typed is None:
        return None
    current = step_at(now)
    found: int | None = None
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if hmac.compare_digest(code_at_step(secret, step), typed) and step > last_used_step:
            found = step if found is None else found
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI of the QR code (Key Uri Format, as authenticator apps read it)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )


def grouped(secret: str) -> str:
    """The manual key in groups of four, easier to type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
