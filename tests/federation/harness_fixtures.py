"""Fixtures for the upstream identity providers the federation tests sign in against.

Import them into a conftest.py (`from tests.federation.harness_fixtures import ...`):

- `oidc_provider_install` (session): oidc-provider from npm, `npm ci`-ed once per run in a
  scratch directory outside the checkout;
- `start_oidc_provider(clients, accounts, *, jwks=None) -> issuer`: a running oidc-provider
  on a free loopback port, stopped when the test ends;
- `start_github_standin(users, client_id, client_secret) -> StandIn`: a running GitHub
  stand-in, stopped when the test ends.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from typing import Any, Protocol

import pytest

from tests.federation import github_standin, oidc_provider
from tests.federation.github_standin import GitHubUser, StandIn
from tests.federation.oidc_provider import InstalledProvider, OidcAccount, OidcClient
from tests.live_server import free_port


class StartOidcProvider(Protocol):
    def __call__(
        self,
        clients: Sequence[OidcClient],
        accounts: Mapping[str, OidcAccount],
        *,
        jwks: Mapping[str, Any] | None = None,
    ) -> str: ...


class StartGitHubStandIn(Protocol):
    def __call__(
        self, users: Iterable[GitHubUser], client_id: str, client_secret: str
    ) -> StandIn: ...


@pytest.fixture(scope="session")
def oidc_provider_install(tmp_path_factory: pytest.TempPathFactory) -> InstalledProvider:
    """oidc-provider from npm, installed once per run outside the checkout."""
    return oidc_provider.install(tmp_path_factory.mktemp("oidc-provider"))


@pytest.fixture
def start_oidc_provider(oidc_provider_install: InstalledProvider) -> Iterator[StartOidcProvider]:
    """Start oidc-provider instances (each on a port of its own); all stop after the test."""
    with ExitStack() as stack:

        def start(
            clients: Sequence[OidcClient],
            accounts: Mapping[str, OidcAccount],
            *,
            jwks: Mapping[str, Any] | None = None,
        ) -> str:
            provider = oidc_provider.running(
                oidc_provider_install, free_port(), clients, accounts, jwks=jwks
            )
            return stack.enter_context(provider)

        yield start


@pytest.fixture
def start_github_standin() -> Iterator[StartGitHubStandIn]:
    """Start GitHub stand-ins; all stop after the test."""
    with ExitStack() as stack:

        def start(users: Iterable[GitHubUser], client_id: str, client_secret: str) -> StandIn:
            return stack.enter_context(github_standin.running(users, client_id, client_secret))

        yield start
