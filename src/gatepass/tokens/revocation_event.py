"""The revocation feed's event (docs/revocation.md): its JSON form and the rule it enforces.

    {"v":1,"seq":42,"type":"grant","id":"3f9c…","at":1800000000.5,"until":1800003600.5}

One event per revocation. `type` says what `id` names; `at` is when it was revoked
(for `subject`, the not-before time); `until` is when the event stops mattering, because
every token it can kill has expired by then. The rule a verifier applies is `kills`:
the issuer's own checks (userinfo) and the resource toolkit share it, so they agree.
"""

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

VERSION = 1
MAX_ID_LENGTH = 128  # the longest identifier gatepass mints is 64 characters


class RevocationKind(StrEnum):
    TOKEN = "token"  # noqa: S105 - a kind: an access token's `jti`, until its `exp`
    GRANT = "grant"  # a token family or code grant, the `gid` claim of its tokens
    SESSION = "session"  # a login session, the `sid` claim of id tokens
    SUBJECT = "subject"  # a user (`sub`): every token issued before `at` is dead


@dataclass(frozen=True)
class TokenFacts:
    """What a verifier reads off a token to check it against the revocations."""

    jti: str
    sub: str
    iat: float
    gid: str | None = None
    sid: str | None = None

    def revocation_keys(self) -> list[tuple[RevocationKind, str]]:
        """The (kind, id) pairs a revocation of this token would be recorded under."""
        keys = [(RevocationKind.TOKEN, self.jti), (RevocationKind.SUBJECT, self.sub)]
        if self.gid is not None:
            keys.append((RevocationKind.GRANT, self.gid))
        if self.sid is not None:
            keys.append((RevocationKind.SESSION, self.sid))
        return keys


@dataclass(frozen=True)
class RevocationEvent:
    seq: int  # increases with every record in one database; gaps are normal
    kind: RevocationKind
    id: str
    at: float  # seconds since the epoch; for a subject, its not-before time
    until: float  # seconds since the epoch; after it, the event kills nothing

    def kills(self, token: TokenFacts, now: float) -> bool:
        """Whether this revocation makes `token` unacceptable at `now`."""
        if now >= self.until:
            return False
        if self.kind is RevocationKind.SUBJECT:
            # `iat` is whole seconds: a token issued in the same second as a subject
            # revocation counts as issued before it (fail closed).
            return token.sub == self.id and token.iat < self.at
        return (self.kind, self.id) in token.revocation_keys()

    def to_json(self) -> str:
        """The stable encoding: these members, in this order, no white space."""
        members = {
            "v": VERSION,
            "seq": self.seq,
            "type": self.kind.value,
            "id": self.id,
            "at": self.at,
            "until": self.until,
        }
        return json.dumps(members, separators=(",", ":"), ensure_ascii=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> "RevocationEvent":
        """Parse one event; ValueError for anything but a well-formed version-1 event."""
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("not JSON") from None
        if not isinstance(raw, dict) or raw.get("v") != VERSION:
            raise ValueError("not a version 1 revocation event")
        return cls(
            seq=_integer(raw.get("seq")),
            kind=_kind(raw.get("type")),
            id=validate_id(raw.get("id")),
            at=_time(raw.get("at")),
            until=_time(raw.get("until")),
        )


def validate_id(value: Any) -> str:
    """An identifier fit to record: a non-empty string, short, printable, no white space."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise ValueError("a revoked identifier is a string of 1 to 128 characters")
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise ValueError("a revoked identifier has no white space or control characters")
    return value


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("seq is a positive integer")
    return value


def _kind(value: Any) -> RevocationKind:
    try:
        return RevocationKind(value)
    except (ValueError, TypeError):
        raise ValueError("unknown revocation type") from None


def _time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("a time is a number of seconds since the epoch")
    return float(value)
