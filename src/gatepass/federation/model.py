"""The values of upstream login: providers, a login in flight, what it proved, a link."""

import json
from dataclasses import asdict, dataclass
from typing import Any

from gatepass.config import PROVIDER_KINDS as CONFIG_PROVIDER_KINDS
from gatepass.errors import GatepassError

PROVIDER_KINDS: tuple[str, ...] = CONFIG_PROVIDER_KINDS
# What each UpstreamError reason tells the person who met it.
MESSAGES = {
    "access_denied": "The sign-in was cancelled at the provider.",
    "invalid_state": "This sign-in link is no longer valid. Please start again.",
    "exchange_failed": "The provider did not confirm the sign-in. Please start again.",
    "invalid_id_token": "The provider's answer could not be verified. Please start again.",
    "unavailable": "The provider cannot be reached right now. Please try again later.",
    "misconfigured": "Signing in with this provider is not set up correctly.",
}


class UpstreamError(GatepassError):
    """An upstream login failed. `reason` is one of MESSAGES' keys; `message` is safe to
    show a person; `debug` is for logs only (never a secret)."""

    def __init__(self, reason: str, debug: str = "", message: str | None = None) -> None:
        if reason not in MESSAGES:
            raise ValueError(f"unknown upstream error reason {reason!r}")
        self.reason = reason
        self.message = message or MESSAGES[reason]
        self.debug = debug
        super().__init__(f"{reason}: {debug}" if debug else reason)


class DuplicateProvider(GatepassError):
    """A provider of that name exists already (in the configuration file or the database)."""


class ReadOnlyProvider(GatepassError):
    """The provider comes from the configuration file; only editing the file changes it."""


class AlreadyLinked(GatepassError):
    """That upstream identity is linked to a local user already (perhaps another one)."""


@dataclass(frozen=True)
class UpstreamProvider:
    name: str  # ^[a-z0-9][a-z0-9_-]{0,31}$ (a URL path segment)
    kind: str  # "oidc" | "google" | "github"
    issuer: str  # oidc/google: the OIDC issuer; github: the web base URL
    client_id: str
    client_secret: str  # plaintext in memory only; sealed at rest
    scopes: tuple[str, ...]
    display_name: str
    source: str = "cli"  # "cli" (database) | "config" (TOML file)

    def __repr__(self) -> str:
        # The secret never reaches a log line or a traceback through repr.
        return (
            f"UpstreamProvider(name={self.name!r}, kind={self.kind!r}, issuer={self.issuer!r}, "
            f"client_id={self.client_id!r}, source={self.source!r})"
        )


@dataclass(frozen=True)
class PendingLogin:
    """What must survive the browser's trip upstream; the web layer seals it in a cookie."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    created_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "PendingLogin":
        try:
            data: Any = json.loads(text)
        except (ValueError, TypeError):
            raise UpstreamError("invalid_state", "pending login is not JSON") from None
        names = ("provider", "state", "nonce", "code_verifier")
        if (
            not isinstance(data, dict)
            or set(data) != {*names, "created_at"}
            or not all(isinstance(data[n], str) and data[n] for n in names)
            or isinstance(data["created_at"], bool)
            or not isinstance(data["created_at"], int | float)
        ):
            raise UpstreamError("invalid_state", "pending login has the wrong shape")
        return cls(**{**data, "created_at": float(data["created_at"])})


@dataclass(frozen=True)
class UpstreamIdentity:
    """What a completed upstream login tells us."""

    provider: str
    subject: str  # id token `sub` (oidc) or GitHub's numeric user id as a string
    email: str | None
    email_verified: bool  # only true when the provider says so explicitly
    name: str
    amr: tuple[str, ...] = ()  # upstream's amr claim, if any


@dataclass(frozen=True)
class LinkedIdentity:
    provider: str
    subject: str
    user_id: str
    email: str  # as the provider gave it at link time ("" if none)
    created_at: float
    last_used_at: float
