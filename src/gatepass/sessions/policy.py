"""Session lifetimes and the cookie that carries the session secret."""

from dataclasses import dataclass
from typing import Literal

MAX_USER_AGENT_LENGTH = 256


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int
    absolute_seconds: int
    max_per_user: int


@dataclass(frozen=True)
class CookiePolicy:
    """`Secure` and the `__Host-` prefix on https; dropped only for a loopback http issuer.

    Browsers refuse `Secure` cookies set over plain http (except on some
    localhost variants), so development on http://127.0.0.1 would otherwise
    have no working login; the server warns at start when it runs this way.
    """

    secure: bool
    # OIDC arrives by cross-site top-level redirects, which SameSite=Strict would drop.
    same_site: Literal["lax", "strict"] = "lax"

    @property
    def session_name(self) -> str:
        return "__Host-gp_session" if self.secure else "gp_session"

    @property
    def upstream_name(self) -> str:
        # An upstream login in flight (web/sealed_cookies.py): sealed, minutes long.
        return "__Host-gp_upstream" if self.secure else "gp_upstream"

    @property
    def csrf_name(self) -> str:
        # Anonymous visitors' CSRF key, for the forms shown before a session exists.
        return "__Host-gp_csrf" if self.secure else "gp_csrf"
