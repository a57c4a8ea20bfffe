"""The schema. Changes go through an Alembic migration in migrations/versions/."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("password_hash", Text, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # Proven by a delivered link, or by an upstream provider that says so (0011).
    Column("email_verified", Boolean, nullable=False, default=False, server_default=false()),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(43), primary_key=True),  # digest of the cookie secret
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("idle_expires_at", Float, nullable=False),
    Column("absolute_expires_at", Float, nullable=False),
    Column("address", String(64), nullable=False, default=""),
    Column("user_agent", String(256), nullable=False, default=""),
    # How the user authenticated (sessions/model.py): space-separated amr, and the
    # upstream provider's name for a federated login.
    Column("amr", String(64), nullable=False, server_default="pwd"),
    Column("idp", String(64), nullable=True),
    Index(None, "user_id"),
    Index(None, "idle_expires_at"),
)

throttle_hits = Table(
    "throttle_hits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False),
    Column("at", Float, nullable=False),
    Index(None, "key", "at"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("type", String(40), nullable=False),
    # No foreign key: the log outlives the account it speaks of.
    Column("user_id", String(36), nullable=True),
    Column("email", String(254), nullable=True),
    Column("address", String(64), nullable=True),
    Column("user_agent", String(256), nullable=True),
    Column("detail", Text, nullable=True),
    Index(None, "at"),
    Index(None, "user_id", "at"),
)

# A signing key's life is read off its times: published from `published_at`, signs
# from `active_at`, stops signing at `retired_at`, leaves the JWKS at `expires_at`.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),  # JSON, public members only
    Column("private_jwk_encrypted", Text, nullable=False),  # under the key-encryption key
    Column("created_at", Float, nullable=False),
    Column("published_at", Float, nullable=False),
    Column("active_at", Float, nullable=False),
    Column("retired_at", Float, nullable=True),
    Column("expires_at", Float, nullable=True),
    Index(None, "alg", "active_at"),
)

clients = Table(
    "clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_digest", String(64), nullable=True),  # HMAC-SHA256; None for public clients
    Column("redirect_uris", Text, nullable=False),  # JSON list, compared by exact string
    Column("post_logout_redirect_uris", Text, nullable=False),  # JSON list
    Column("grant_types", Text, nullable=False),  # JSON list
    Column("scopes", Text, nullable=False),  # JSON list
    Column("first_party", Boolean, nullable=False, default=False),
    Column("id_token_alg", String(16), nullable=False, default="RS256"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # The client's own token settings (seconds, and a URI); NULL: the server's setting.
    Column("refresh_token_idle_ttl", Integer, nullable=True),
    Column("refresh_token_absolute_ttl", Integer, nullable=True),
    Column("refresh_retry_window", Integer, nullable=True),
    Column("default_audience", Text, nullable=True),
    # Multi-factor sign-in required for this client; NULL: the server's policy (0012).
    Column("require_mfa", Boolean, nullable=True),
)

# A row is a live code until `redeemed_at` is set; then it is the code's tombstone
# (SECURITY.md decision 2) until `expires_at`, which consume moves to the tombstone's end.
authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("digest", String(43), primary_key=True),  # SHA-256 of the code, never the code
    Column("client_id", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("session_id", String(43), nullable=False),
    Column("scope", Text, nullable=False),  # space-separated, as in RFC 6749 §3.3
    Column("nonce", Text, nullable=True),
    Column("resource", Text, nullable=True),
    Column("auth_time", Float, nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("code_expires_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # when the row may be swept
    Column("grant_id", String(64), nullable=True),
    Column("redeemed_at", Float, nullable=True),
    Column("amr", String(64), nullable=False, server_default="pwd"),
    Column("idp", String(64), nullable=True),
    Index(None, "expires_at"),
)

# What a user allowed a client (OIDC Core §3.1.2.4), remembered until revoked.
consents = Table(
    "consents",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "client_id",
        String(64),
        ForeignKey("clients.client_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("scopes", Text, nullable=False),  # JSON list
    Column("granted_at", Float, nullable=False),
)

# The revocation log (tokens/revocation.py, docs/revocation.md): one row per revoked token,
# grant, session or subject, kept until `expires_at`, when everything it can kill has
# expired. `seq` orders the feed; AUTOINCREMENT keeps SQLite from reusing the largest one
# after a delete. A subject's newer not-before replaces its row (a new `seq`).
revocations = Table(
    "revocations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # token, grant, session, subject
    Column("value", String(128), nullable=False),  # jti, gid, session id, user id
    Column("revoked_at", Float, nullable=False),  # for a subject: its not-before time
    Column("expires_at", Float, nullable=False),
    UniqueConstraint("kind", "value"),
    Index(None, "expires_at"),
    sqlite_autoincrement=True,
)

# Every authorization (a code redemption) and the tokens issued under it (tokens/families.py).
# `id` is the `gid` claim of its access tokens; `generation` counts refresh-token rotations.
token_families = Table(
    "token_families",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "client_id",
        String(64),
        ForeignKey("clients.client_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("scope", Text, nullable=False),  # space-separated, as in RFC 6749 §3.3
    Column("resource", Text, nullable=True),
    Column("auth_time", Float, nullable=False),
    Column("session_id", String(43), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("idle_ttl", Integer, nullable=False),  # 0: no refresh token
    Column("retry_window", Integer, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("rotated_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("amr", String(64), nullable=False, server_default="pwd"),
    Column("idp", String(64), nullable=True),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

# One row per refresh token a family has had: finding an old one is how reuse is detected.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("digest", String(43), primary_key=True),  # SHA-256 of the token, never the token
    Column(
        "family_id",
        String(64),
        ForeignKey("token_families.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("generation", Integer, nullable=False),
    Index(None, "family_id"),
)

# Upstream identity providers added with `gatepass provider add` (federation/registry.py);
# those of the configuration file are never stored.
upstream_providers = Table(
    "upstream_providers",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("issuer", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("sealed_secret", Text, nullable=False),  # AES-GCM under a master-key subkey
    Column("scopes", Text, nullable=False),  # space-separated, as in RFC 6749 §3.3
    Column("display_name", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Which upstream account (provider, subject) is which local user (federation/identities.py).
# No foreign key to upstream_providers: a removed provider's links stay for its return.
user_identities = Table(
    "user_identities",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Index(None, "user_id"),
)


# Single-use links mailed to a person (accounts/links.py): e-mail verification, password
# reset, e-mail change. Only the digest of the token is stored; each is bound to one user
# and to the address it was sent to.
account_links = Table(
    "account_links",
    metadata,
    Column("id", String(43), primary_key=True),  # digest of the token in the link
    Column("purpose", String(32), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)


# Second factors (mfa/). One TOTP authenticator per user, its secret sealed under a
# master-key subkey; `last_used_step` makes each code good once (RFC 6238 §5.2).
totp_factors = Table(
    "totp_factors",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_secret", Text, nullable=False),
    Column("confirmed_at", Float, nullable=True),  # NULL: enrolment not yet confirmed
    Column("last_used_step", BigInteger, nullable=False, default=0, server_default="0"),
    Column("created_at", Float, nullable=False),
)

# Single-use recovery codes, digests only.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
)

# WebAuthn credentials (passkeys); ids and COSE public keys base64url-encoded.
passkeys = Table(
    "passkeys",
    metadata,
    Column("credential_id", String(1400), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("sign_count", BigInteger, nullable=False, default=0, server_default="0"),
    Column("transports", Text, nullable=False, default="", server_default=""),
    Column("backed_up", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
    Index(None, "user_id"),
)
