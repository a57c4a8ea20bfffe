"""gatepass: sessions, tokens and OAuth 2.0 / OpenID Connect from one user store."""

__version__ = "0.1.0"
