"""New-password rules of NIST SP 800-63B §3.1.1.2: length and a blocklist, no composition rules."""

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

from gatepass.errors import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # generous (ASVS 6.2.9 asks for at least 64) but bounded against hashing DoS
SERVICE_WORDS = ("gatepass", "gate pass", "gate-pass")
_EDGE_NOISE = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from real breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _is_sequence(text: str) -> bool:
    """One repeated character, or a run such as 123456789012 or abcdefgh."""
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1}


def _digit_run(text: str) -> bool:
    """Counting up or down, wrapping past 0: 123456789012, 98765432109."""
    cycle = "0123456789" * 2
    return text.isdigit() and (text[:10] in cycle or text[:10][::-1] in cycle)


def validate_new_password(password: str, context: tuple[str, ...] = ()) -> None:
    """Raise ValidationError with a message a person can act on, or return."""
    normalized = unicodedata.normalize("NFKC", password)
    if len(normalized) < MIN_LENGTH:
        raise ValidationError(f"Use at least {MIN_LENGTH} characters.", field="password")
    if len(normalized) > MAX_LENGTH:
        raise ValidationError(f"Use at most {MAX_LENGTH} characters.", field="password")
    folded = normalized.casefold()
    core = _EDGE_NOISE.sub("", folded)
    common = _common_passwords()
    if folded in common or core in common or _is_sequence(folded) or _digit_run(folded):
        raise ValidationError(
            "This password is too common; choose a longer, less predictable one.",
            field="password",
        )
    for word in (*SERVICE_WORDS, *(c.casefold() for c in context if len(c) >= 4)):
        if word in folded and len(folded) - len(word) < MIN_LENGTH:
            raise ValidationError(
                "Do not build the password from the service name or your e-mail.",
                field="password",
            )
