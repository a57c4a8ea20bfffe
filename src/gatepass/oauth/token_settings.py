"""Per-client token settings: a client's own refresh-token lifetimes, else the server's.

The server's settings come in as plain ints (`TokenDefaults`), never as the Settings
object, so this stays a framework-free core; web/app.py builds them once at start-up.
"""

from dataclasses import dataclass

from gatepass.oauth.clients import Client
from gatepass.tokens.families import FamilyPolicy


@dataclass(frozen=True)
class TokenDefaults:
    """The server's `refresh_token_idle_ttl`, `refresh_token_absolute_ttl` and
    `refresh_retry_window`, in seconds: what a client that registered none gets."""

    idle_ttl: int
    absolute_ttl: int
    retry_window: int


def refresh_policy_for(client: Client, defaults: TokenDefaults) -> FamilyPolicy:
    """The lifetimes of `client`'s refresh-token families: each of its own settings, or the
    server's where it registered none (0 is a setting: a strict retry window).

    Registration keeps a client's own idle time within its own absolute one, but a mix
    of the two sources may not be (a client's 60-day idle under the server's 30-day
    absolute, or the server's idle over a client's 1-hour absolute): the idle time is
    then cut to the absolute one, which always holds (ASVS 10.4.8).
    """
    idle = _own_or(client.refresh_token_idle_ttl, defaults.idle_ttl)
    absolute = _own_or(client.refresh_token_absolute_ttl, defaults.absolute_ttl)
    retry_window = _own_or(client.refresh_retry_window, defaults.retry_window)
    return FamilyPolicy(
        idle_ttl=min(idle, absolute), absolute_ttl=absolute, retry_window=retry_window
    )


def _own_or(own: int | None, default: int) -> int:
    return default if own is None else own
