"""Types the interop fixtures and tests share (conftest modules are not imported)."""

from collections.abc import Callable
from dataclasses import dataclass

from tests.interop.relying_party import RegisteredClient
from tests.live_server import LiveServer


@dataclass(frozen=True)
class Variant:
    """One server set-up: its GATEPASS_* settings and what they make the tokens say."""

    name: str
    access_token_alg: str
    access_token_ttl: int
    audience: str | None  # None: the default, the issuer followed by "/api"


VARIANTS = (
    Variant("sqlite", access_token_alg="ES256", access_token_ttl=600, audience=None),
    Variant(
        "postgres-redis",
        access_token_alg="EdDSA",
        access_token_ttl=300,
        audience="https://api.interop.example",
    ),
)


@dataclass(frozen=True)
class Gatepass:
    """A running server and the settings the tests check its tokens against."""

    live: LiveServer
    variant: Variant

    @property
    def issuer(self) -> str:
        return self.live.url

    @property
    def access_token_audience(self) -> str:
        return self.variant.audience or self.issuer + "/api"


# register_client(redirect_uri, *, public=False, post_logout_redirect_uri=None)
RegisterClient = Callable[..., RegisteredClient]
