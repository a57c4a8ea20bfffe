"""E-mail addresses as account identifiers: a light syntax check and one canonical form."""

import re

from gatepass.errors import ValidationError

MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3 path limit, less the angle brackets
# Deliberately permissive: the only real proof of an address is a delivered message.
_EMAIL_SHAPE = re.compile(
    r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f.]+(\.[^@\s\x00-\x1f\x7f.]+)+"
)


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased; raises ValidationError when it cannot be an address."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL_SHAPE.fullmatch(email):
        raise ValidationError("Enter a valid e-mail address.", field="email")
    return email
