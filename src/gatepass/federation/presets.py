"""What each kind of provider looks like: defaults, GitHub's endpoints, accepted issuers.

oidc    any OpenID provider: endpoints and keys from its discovery document
google  an OpenID provider at https://accounts.google.com
github  OAuth 2.0 without id tokens: authorize and token at the web address, the
        user from the REST API (https://api.github.com, or {issuer}/api/v3 for GitHub
        Enterprise Server and look-alikes)
"""

from collections.abc import Sequence
from dataclasses import dataclass

from gatepass.config import (
    PROVIDER_DEFAULT_DISPLAY_NAMES,
    PROVIDER_DEFAULT_ISSUERS,
    PROVIDER_DEFAULT_SCOPES,
    ProviderSettings,
    provider_problem,
)
from gatepass.errors import ValidationError
from gatepass.federation.model import UpstreamProvider

GITHUB_DOT_COM = "https://github.com"
GITHUB_DOT_COM_API = "https://api.github.com"
# Google's id tokens carry either form (Google Identity docs, "Validate an ID token").
GOOGLE_ISSUER_ALIASES = {"https://accounts.google.com": ("accounts.google.com",)}


@dataclass(frozen=True)
class GitHubEndpoints:
    authorization_endpoint: str
    token_endpoint: str
    api: str


def uses_discovery(kind: str) -> bool:
    """Whether the provider is an OpenID provider (discovery, JWKS, id tokens)."""
    return kind != "github"


def github_endpoints(issuer: str) -> GitHubEndpoints:
    base = issuer.rstrip("/")
    api = GITHUB_DOT_COM_API if base == GITHUB_DOT_COM else f"{base}/api/v3"
    return GitHubEndpoints(f"{base}/login/oauth/authorize", f"{base}/login/oauth/access_token", api)


def accepted_issuers(provider: UpstreamProvider) -> tuple[str, ...]:
    """The `iss` values an id token of this provider may carry."""
    aliases = GOOGLE_ISSUER_ALIASES.get(provider.issuer, ()) if provider.kind == "google" else ()
    return (provider.issuer, *aliases)


def make_provider(
    name: str,
    *,
    kind: str = "oidc",
    issuer: str | None = None,
    client_id: str,
    client_secret: str,
    scopes: Sequence[str] = (),
    display_name: str | None = None,
    source: str = "cli",
) -> UpstreamProvider:
    """A provider with its kind's defaults filled in, checked (ValidationError names the field)."""
    if issuer is None:
        issuer = PROVIDER_DEFAULT_ISSUERS.get(kind)
        if issuer is None:
            raise ValidationError("an oidc provider needs its issuer URL", "issuer")
    provider = UpstreamProvider(
        name=name,
        kind=kind,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        scopes=tuple(dict.fromkeys(scopes or PROVIDER_DEFAULT_SCOPES.get(kind, ()))),
        display_name=display_name or PROVIDER_DEFAULT_DISPLAY_NAMES.get(kind, name),
        source=source,
    )
    validate_provider(provider)
    return provider


def validate_provider(provider: UpstreamProvider) -> None:
    """The rules of config.py's [providers.NAME] tables, for providers from anywhere."""
    problem = provider_problem(
        provider.name,
        provider.kind,
        provider.issuer,
        provider.client_id,
        provider.client_secret,
        provider.scopes,
        provider.display_name,
    )
    if problem is not None:
        field, reason = problem
        raise ValidationError(f"{field}: {reason}", field)


def from_settings(settings: Sequence[ProviderSettings]) -> tuple[UpstreamProvider, ...]:
    """The configuration file's providers (config.py checked them) as UpstreamProviders."""
    return tuple(
        UpstreamProvider(
            name=item.name,
            kind=item.kind,
            issuer=item.issuer,
            client_id=item.client_id,
            client_secret=item.client_secret.reveal(),
            scopes=item.scopes,
            display_name=item.display_name,
            source="config",
        )
        for item in settings
    )
