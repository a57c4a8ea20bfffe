"""gatepass.resource: what an API or app imports to trust gatepass's tokens and sessions.

    from gatepass.resource import TokenVerifier, TokenRejected

    verifier = TokenVerifier("https://id.example.com", "https://api.example.com")
    token = await verifier.verify(access_token)   # TokenRejected -> 401 invalid_token
    token.require_scope("orders:read")            # ScopeMissing  -> 403 insufficient_scope

Framework-free: the adapters under `gatepass.resource.adapters` are the only modules
that import a web framework, and nothing here imports the identity server's own
packages (import-linter keeps it so). docs/resource.md says more.
"""

# Verifying access tokens (tokens.py, jwks.py, fast_jws.py, errors.py) and the
# revocation feed (revocations.py, feeds.py).
from gatepass.resource.errors import (
    FeedUnavailable,
    IssuerUnavailable,
    MalformedRequest,
    NoToken,
    ResourceError,
    ScopeMissing,
    TokenRejected,
    token_from_headers,
)
from gatepass.resource.feed_task import FeedBroken
from gatepass.resource.feeds import HttpRevocationFeed, RedisRevocationFeed
from gatepass.resource.introspection import introspection_fallback
from gatepass.resource.jwks import JwksCache

# TokenFacts: what a RevocationSet judges; an app that keeps its own sessions
# (examples/webapp) asks it about a login (sub, login time, gatepass's sid) as a
# verifier asks about a token.
from gatepass.resource.revocations import RevocationSet, TokenFacts, Verdict
from gatepass.resource.sessions import (  # sessions.py: apps on gatepass's own site
    SessionRejected,
    SessionStoreUnavailable,
    SessionVerifier,
    VerifiedSession,
)
from gatepass.resource.tokens import RevocationCheck, TokenVerifier, VerifiedToken

__all__ = [
    "FeedBroken",
    "FeedUnavailable",
    "HttpRevocationFeed",
    "IssuerUnavailable",
    "JwksCache",
    "MalformedRequest",
    "NoToken",
    "RedisRevocationFeed",
    "ResourceError",
    "RevocationCheck",
    "RevocationSet",
    "ScopeMissing",
    "SessionRejected",
    "SessionStoreUnavailable",
    "SessionVerifier",
    "TokenFacts",
    "TokenRejected",
    "TokenVerifier",
    "Verdict",
    "VerifiedSession",
    "VerifiedToken",
    "introspection_fallback",
    "token_from_headers",
]
