"""A session record as storage keeps it: keyed by the digest of the cookie, never the cookie."""

from dataclasses import dataclass

PASSWORD_AMR = ("pwd",)
# RFC 8176 registers no value for "signed in at another provider"; "fed" is the one
# Microsoft's identity platform uses for a federated assertion.
FEDERATED_AMR = ("fed",)


@dataclass(frozen=True)
class Session:
    id: str  # digest of the session secret; safe to show and to use as a handle
    user_id: str
    created_at: float
    last_seen_at: float
    absolute_expires_at: float
    address: str = ""
    user_agent: str = ""
    # How the user authenticated (RFC 8176 method values, carried into id tokens as
    # `amr`) and, for a login at an upstream provider, that provider's name (`idp`).
    amr: tuple[str, ...] = PASSWORD_AMR
    idp: str | None = None
