"""Typed, frozen settings, built once at start-up.

Sources, later ones winning: built-in defaults, a TOML file (`--config`), and
`GATEPASS_*` environment variables. A missing or invalid value fails at start
with a one-line `ConfigError` that names the setting.
"""

import base64
import binascii
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gatepass.errors import ConfigError
from gatepass.redis_url import parse_redis_url

log = logging.getLogger("gatepass")

ENV_PREFIX = "GATEPASS_"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SQL_SCHEMES = frozenset({"sqlite", "postgresql", "postgres"})

# The signing algorithms gatepass implements (crypto/keys.py); OIDC Core §15.1 requires RS256.
SIGNING_ALGORITHMS = ("RS256", "ES256", "EdDSA")
MASTER_KEY_MIN_BYTES = 32
# gatepass.resource's JwksCache refetches at most every 10 s (MIN_REFETCH_INTERVAL_SECONDS),
# whatever max-age says: a shorter max-age would make the rotation lead (max-age + the
# processes' re-read interval) shorter than what such a verifier actually caches.
JWKS_MAX_AGE_MIN_SECONDS = 10
# The access-token audience when none is configured: the issuer's API, never the issuer itself.
DEFAULT_AUDIENCE_SUFFIX = "/api"

# OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1 at least.
OWASP_ARGON2_MEMORY_KIB = 19456
OWASP_ARGON2_TIME_COST = 2


class Secret:
    """A secret setting: its repr never shows the value (starlette.config.Secret's idea)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'**********'"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def decode_master_key(text: str) -> bytes | None:
    """The bytes of a base64url master key (padding optional), or None if it is not one."""
    text = text.strip()
    if not text or any(c not in _B64URL for c in text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def _setting(
    default: Any,
    doc: str,
    *,
    low: int | None = None,
    high: int | None = None,
    toml_only: bool = False,
) -> Any:
    return field(
        default=default, metadata={"doc": doc, "low": low, "high": high, "toml_only": toml_only}
    )


# --- upstream identity providers ("Login with ..."): the TOML file's [providers.NAME] ---
# The rules live here, not in federation/, so that the file is checked at start-up and the
# CLI (through federation/) applies the very same ones.

PROVIDER_KINDS = ("oidc", "google", "github")
# A provider's name is a URL path segment (/login/NAME) and a storage key.
PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
PROVIDER_DEFAULT_ISSUERS = {"google": "https://accounts.google.com", "github": "https://github.com"}
PROVIDER_DEFAULT_SCOPES = {
    "oidc": ("openid", "email", "profile"),
    "google": ("openid", "email", "profile"),
    "github": ("read:user", "user:email"),
}
PROVIDER_DEFAULT_DISPLAY_NAMES = {"google": "Google", "github": "GitHub"}
PROVIDER_FIELDS = ("kind", "issuer", "client_id", "client_secret", "scopes", "display_name")
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_MAX_PROVIDER_TEXT = 1024


@dataclass(frozen=True)
class ProviderSettings:
    """One `[providers.NAME]` table, checked; web/app.py makes it an UpstreamProvider."""

    name: str
    kind: str
    issuer: str
    client_id: str
    client_secret: Secret
    scopes: tuple[str, ...]
    display_name: str


def upstream_url_problem(url: str) -> str | None:
    """Why `url` cannot be an upstream provider's issuer or endpoint, or None if it can.

    The same rule as for our own issuer: https, or plain http for a loopback host only.
    """
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        return f"the port of {url[:200]!r} is not a number"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected an http(s) URL, got {url[:200]!r}"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "must have no query, fragment or credentials"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "must not contain white space"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "plain http is allowed only for a loopback host; use https"
    return None


def provider_problem(
    name: str,
    kind: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    scopes: tuple[str, ...],
    display_name: str,
) -> tuple[str, str] | None:
    """(field, reason) of the first rule an upstream provider breaks, or None."""
    if not PROVIDER_NAME.fullmatch(name):
        return "name", "1 to 32 of a-z, 0-9, _ and -, beginning with a letter or digit"
    if kind not in PROVIDER_KINDS:
        return "kind", f"unknown kind {kind[:40]!r}; use {', '.join(PROVIDER_KINDS)}"
    if (problem := upstream_url_problem(issuer)) is not None:
        return "issuer", problem
    for label, value in (("client_id", client_id), ("client_secret", client_secret)):
        if not value or len(value) > _MAX_PROVIDER_TEXT or not value.isprintable():
            return label, "must be non-empty printable text"
    if not scopes or not all(_SCOPE_TOKEN.fullmatch(scope) for scope in scopes):
        return "scopes", "expected one or more scope names (RFC 6749 §3.3)"
    if kind != "github" and "openid" not in scopes:
        return "scopes", "must include openid: the login rests on the id token"
    if not display_name.strip() or len(display_name) > 100 or not display_name.isprintable():
        return "display_name", "must be 1 to 100 printable characters"
    return None


@dataclass(frozen=True)
class Settings:
    """Every setting has a default, an environment variable and a docstring."""

    issuer: str = _setting(
        "http://127.0.0.1:8000",
        "Public base URL of this server. Cookies are `Secure` with the `__Host-` prefix "
        "when it is https; plain http is accepted only for a loopback host (development).",
    )
    database_url: str = _setting(
        "sqlite:///gatepass.db",
        "SQL database for durable records: `sqlite:///relative.db`, `sqlite:////abs/path.db` "
        "or `postgresql://user@host:5432/db`.",
    )
    redis_url: str | None = _setting(
        None,
        "Redis for sessions, authorization codes and throttling counters "
        "(`redis://host:6379/0`, `rediss://...`; Sentinel `redis+sentinel://host:26379/service`; "
        "Cluster `redis+cluster://host:6379,host:6380`: docs/redis.md). "
        "Unset: they live in the SQL database.",
    )
    redis_prefix: str = _setting(
        "gp:", "Prefix of every Redis key, so several deployments can share one Redis."
    )
    session_idle_ttl: int = _setting(
        1800, "Seconds of inactivity after which a session ends.", low=1, high=86_400
    )
    session_absolute_ttl: int = _setting(
        43_200,
        "Seconds after login at which a session ends, active or not.",
        low=1,
        high=30 * 86_400,
    )
    max_sessions_per_user: int = _setting(
        50,
        "Live sessions one user may hold; a new login evicts the oldest beyond it.",
        low=1,
        high=10_000,
    )
    code_ttl: int = _setting(
        60,
        "Lifetime of an authorization code, in seconds. A client redeems its code right after "
        "the redirect, so a minute is plenty (ASVS L3 asks at most one; RFC 6749 §4.1.2 at most "
        "ten); a short life narrows the window for a stolen code.",
        low=1,
        high=600,
    )
    login_account_limit: int = _setting(
        10, "Login attempts per account per throttle window before 429.", low=1, high=1000
    )
    login_address_limit: int = _setting(
        100,
        "Login attempts per client address per throttle window before 429.",
        low=1,
        high=100_000,
    )
    login_window_seconds: int = _setting(
        900, "Length of the sliding login-throttle window, in seconds.", low=1, high=86_400
    )
    reauth_window_seconds: int = _setting(
        600,
        "Seconds after a sign-in during which sensitive changes (e-mail, password, second "
        "factors, deleting the account) go ahead; later, the person confirms who they are "
        "first (ASVS 7.5.1).",
        low=30,
        high=86_400,
    )
    smtp_url: Secret | None = _setting(  # noqa: RUF009 - the default is None
        None,
        "Outgoing mail server: `smtp://host:25` (STARTTLS when the server offers it) or "
        "`smtps://user:password@host:465` (TLS from the first byte); user and password are "
        "URL-encoded. Unset: each message is written as an `.eml` file to `mail_folder` "
        "(development).",
    )
    mail_from: str = _setting(
        "gatepass <no-reply@localhost>",
        "`From` address of the messages gatepass sends (verification, password reset, "
        "e-mail change).",
    )
    mail_folder: str = _setting(
        "mail",
        "Folder the development sender writes messages to when `smtp_url` is unset "
        "(relative paths are from the working directory); each path is logged.",
    )
    mail_templates: str | None = _setting(
        None,
        "Folder of mail templates that replace the built-in ones file by file "
        "(`verify-email.txt`, `verify-email.html`, ...; see docs/accounts.md).",
    )
    require_verified_email: bool = _setting(
        False,
        "Whether a user must have verified their e-mail address before signing in to an "
        "OAuth client; an unverified user sees a page that can send the link again.",
    )
    mfa_required: bool = _setting(
        False,
        "Whether every user must sign in with a second factor (docs/mfa.md). Off: only "
        "users who enrolled one, and clients marked `--require-mfa` or asking for "
        "`acr_values`, get asked for it. On: a user without a factor enrols one at their "
        "next sign-in before the session starts.",
    )
    argon2_memory_kib: int = _setting(
        OWASP_ARGON2_MEMORY_KIB,
        "argon2id memory cost in KiB (OWASP minimum 19456).",
        low=OWASP_ARGON2_MEMORY_KIB,
        high=4 * 1024 * 1024,
    )
    argon2_time_cost: int = _setting(
        OWASP_ARGON2_TIME_COST,
        "argon2id iterations (OWASP minimum 2).",
        low=OWASP_ARGON2_TIME_COST,
        high=64,
    )
    argon2_parallelism: int = _setting(1, "argon2id lanes.", low=1, high=64)
    max_body_bytes: int = _setting(
        65_536,
        "Largest request body accepted; larger ones get 413.",
        low=1024,
        high=10 * 1024 * 1024,
    )
    secret_key: Secret | None = _setting(  # noqa: RUF009 - the default is None
        None,
        "Master key, base64url, at least 32 random bytes (e.g. from "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`). Signing keys are "
        "encrypted at rest under a key derived from it. Unset: read from `key_file`, created "
        "there on first start.",
    )
    key_file: str = _setting(
        "gatepass.key",
        "File holding the master key when `secret_key` is unset; created with mode 0600 on "
        "first start (relative paths are from the working directory). Back it up: without it "
        "the stored signing keys cannot be decrypted.",
    )
    signing_algorithms: tuple[str, ...] = _setting(
        SIGNING_ALGORITHMS,
        "Algorithms that have signing keys (comma-separated): `RS256` (required by OpenID "
        "Connect), `ES256`, `EdDSA`. Each gets an active key on first start.",
    )
    jwks_max_age: int = _setting(
        3600,
        "Seconds clients may cache `/jwks.json` (`Cache-Control: max-age`). A rotated-in key "
        "is published this long plus `key_refresh_seconds` before it signs. At least 10: "
        "`gatepass.resource` verifiers never refetch more often, so a shorter one would not "
        "shorten their cache, only the lead that must cover it.",
        low=JWKS_MAX_AGE_MIN_SECONDS,
        high=86_400,
    )
    key_refresh_seconds: int = _setting(
        60,
        "Seconds between each process's re-reads of the signing keys from the database (it "
        "re-reads at once after its own changes). A rotated-in key signs this long plus "
        "`jwks_max_age` after `gatepass key rotate`, so give every process and every "
        "`gatepass` command the same value.",
        low=1,
        high=3600,
    )
    max_signed_token_ttl: int = _setting(
        3600,
        "Longest lifetime of any token gatepass signs, in seconds. A retired signing key stays "
        "in `/jwks.json` this long after it stops signing.",
        low=60,
        high=86_400,
    )
    access_token_ttl: int = _setting(
        900,
        "Lifetime of access tokens (RFC 9068 JWTs), in seconds: 15 minutes by default, never "
        "over one hour. A JWT cannot be recalled, so a short life bounds what a leaked one buys.",
        low=60,
        high=3600,
    )
    id_token_ttl: int = _setting(
        300,
        "Lifetime of id tokens, in seconds. A client reads its id token once, right after the "
        "code exchange, so five minutes covers slow clients and clock skew while keeping a "
        "replayed one short-lived; an expired one still works as a logout hint.",
        low=60,
        high=3600,
    )
    access_token_alg: str = _setting(
        "ES256",
        "Algorithm that signs access tokens; it must be among `signing_algorithms`. ES256 signs "
        "and verifies together in less than half the CPU time of RS256, and unlike EdDSA every "
        "JOSE library and API gateway verifies it (figures in docs/tokens.md).",
    )
    default_audience: str | None = _setting(
        None,
        "`aud` of access tokens whose request names no resource (RFC 8707). Unset: the issuer "
        'followed by "/api". Never the issuer itself, so an access token cannot pass for an '
        "assertion addressed to this server.",
    )
    refresh_token_idle_ttl: int = _setting(
        30 * 86_400,
        "Seconds a refresh token family may go unused before it ends (sliding: each refresh "
        "starts the count again). A client may register a shorter one.",
        low=60,
        high=365 * 86_400,
    )
    refresh_token_absolute_ttl: int = _setting(
        90 * 86_400,
        "Seconds after the authorization that started it at which a refresh token family ends, "
        "used or not (ASVS 10.4.8: an absolute expiry even with sliding renewal).",
        low=60,
        high=365 * 86_400,
    )
    refresh_retry_window: int = _setting(
        30,
        "Seconds during which a client presenting the refresh token it just rotated gets the "
        "same successor again (a lost response, two tabs), instead of the family being "
        "revoked as stolen. 0 is strict. Per client with `client create --refresh-retry-window`.",
        low=0,
        high=60,
    )
    first_party_refresh_tokens: bool = _setting(
        True,
        "Whether first-party clients allowed the refresh_token grant get a refresh token "
        "without asking for `offline_access`; other clients always need that scope.",
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        "Addresses or networks of reverse proxies whose `X-Forwarded-For` is believed "
        "(comma-separated in the environment). Empty: the socket peer is the client.",
    )
    client_cache_seconds: int = _setting(
        5,
        "Seconds a process keeps its copy of an OAuth client's record, so the token endpoint "
        "does not read it from the database per request. A change through the CLI (secret "
        "rotation, deletion) reaches running servers within this time; 0 reads every time.",
        low=0,
        high=300,
    )
    metrics_token: Secret | None = _setting(  # noqa: RUF009 - the default is None
        None,
        "Bearer token a Prometheus scraper sends to `/metrics` (`Authorization: Bearer ...`). "
        "Unset: `/metrics` answers only direct connections from this host (loopback, no "
        "forwarding headers), and 404 to everyone else.",
    )
    providers: tuple[ProviderSettings, ...] = _setting(
        (),
        'Upstream identity providers for "Login with ...": `[providers.NAME]` tables in the '
        "TOML file only (see below). Those added with `gatepass provider add` live in the "
        "database instead.",
        toml_only=True,
    )

    @property
    def access_token_audience(self) -> str:
        """`default_audience`, or the issuer followed by "/api" when it is unset."""
        return self.default_audience or self.issuer + DEFAULT_AUDIENCE_SUFFIX

    @property
    def is_https(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def issuer_is_loopback(self) -> bool:
        return (urlsplit(self.issuer).hostname or "") in LOOPBACK_HOSTS


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then the TOML file, then `GATEPASS_*` variables; validated."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if config_file is not None:
        raw.update(_read_toml(config_file))
    known = {f.name: f for f in fields(Settings)}
    from_environment = {name: f for name, f in known.items() if not f.metadata["toml_only"]}
    for name in from_environment:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            raw[name] = environ[env_name]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(str(config_file), f"unknown setting {unknown[0]!r}")
    for env_name in _unknown_variables(environ, from_environment):
        # Not refused: other tools share the prefix (tests, bench). Said, so a typo shows.
        log.warning("%s is not a gatepass setting and is ignored", env_name)
    providers = parse_providers(raw.pop("providers", {}))
    values = {name: _coerce(known[name], value) for name, value in raw.items()}
    settings = Settings(**values, providers=providers)
    _validate(settings)
    return settings


def parse_providers(tables: Any) -> tuple[ProviderSettings, ...]:
    """The `[providers.NAME]` tables of the TOML file, by name; ConfigError names the key."""
    if not isinstance(tables, dict):
        raise ConfigError("providers", "expected [providers.NAME] tables")
    return tuple(_provider(name, tables[name]) for name in sorted(tables))


def _provider(name: str, table: Any) -> ProviderSettings:
    where = f"providers.{name}"
    if not isinstance(table, dict):
        raise ConfigError(where, "expected a table")
    extra = sorted(set(table) - set(PROVIDER_FIELDS))
    if extra:
        raise ConfigError(f"{where}.{extra[0]}", "unknown provider setting")
    for key in ("kind", "issuer", "client_id", "client_secret", "display_name"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{where}.{key}", "expected a string")
    kind = table.get("kind", "oidc")
    scopes = table.get("scopes", PROVIDER_DEFAULT_SCOPES.get(kind, ()))
    if not isinstance(scopes, list | tuple) or not all(isinstance(s, str) for s in scopes):
        raise ConfigError(f"{where}.scopes", "expected a list of strings")
    if "issuer" not in table and kind not in PROVIDER_DEFAULT_ISSUERS:
        raise ConfigError(f"{where}.issuer", "required for an oidc provider")
    settings = ProviderSettings(
        name=name,
        kind=kind,
        issuer=table.get("issuer", PROVIDER_DEFAULT_ISSUERS.get(kind, "")),
        client_id=table.get("client_id", ""),
        client_secret=Secret(table.get("client_secret", "")),
        scopes=tuple(dict.fromkeys(scopes)),
        display_name=table.get("display_name", PROVIDER_DEFAULT_DISPLAY_NAMES.get(kind, name)),
    )
    problem = provider_problem(
        settings.name,
        settings.kind,
        settings.issuer,
        settings.client_id,
        settings.client_secret.reveal(),
        settings.scopes,
        settings.display_name,
    )
    if problem is not None:
        key, reason = problem
        raise ConfigError(where if key == "name" else f"{where}.{key}", reason)
    return settings


# GATEPASS_* variables read by other parts than the settings.
_OTHER_VARIABLE_PREFIXES = ("GATEPASS_CONFIG_FILE", "GATEPASS_TEST_", "GATEPASS_BENCH_")


def _unknown_variables(environ: Mapping[str, str], known: Mapping[str, Any]) -> list[str]:
    return sorted(
        name
        for name in environ
        if name.startswith(ENV_PREFIX)
        and name[len(ENV_PREFIX) :].lower() not in known
        and not name.startswith(_OTHER_VARIABLE_PREFIXES)
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError("--config", f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from None


def _coerce(spec: Any, value: Any) -> Any:
    name = ENV_PREFIX + spec.name.upper()
    kind = spec.type
    if kind is bool:
        return _as_bool(name, value)
    if kind is int:
        number = _as_int(name, value)
        low, high = spec.metadata["low"], spec.metadata["high"]
        if (low is not None and number < low) or (high is not None and number > high):
            raise ConfigError(name, f"{number} is outside the safe range {low}..{high}")
        return number
    if kind == tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(name, "expected a list")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if kind == (str | None) and value in ("", None):
        return None
    if kind == (Secret | None):
        if value in ("", None):
            return None
        if not isinstance(value, str):
            raise ConfigError(name, "expected a string")
        return Secret(value)
    if not isinstance(value, str):
        raise ConfigError(name, "expected a string")
    return value


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"expected true or false, got {value!r}")


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(name, "expected a whole number")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {value!r}") from None


_CHECKS: list[Callable[[Settings], None]] = []


def _check(fn: Callable[[Settings], None]) -> Callable[[Settings], None]:
    _CHECKS.append(fn)
    return fn


def _validate(settings: Settings) -> None:
    for check in _CHECKS:
        check(settings)


@_check
def _check_issuer(settings: Settings) -> None:
    parts = urlsplit(settings.issuer)
    name = "GATEPASS_ISSUER"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"expected an http(s) URL, got {settings.issuer!r}")
    if parts.query or parts.fragment or settings.issuer.endswith("/"):
        raise ConfigError(name, "must have no query, fragment or trailing slash")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(name, "plain http is allowed only for a loopback host; use https")


@_check
def _check_database_url(settings: Settings) -> None:
    scheme = urlsplit(settings.database_url).scheme.split("+")[0]
    if scheme not in SQL_SCHEMES:
        raise ConfigError(
            "GATEPASS_DATABASE_URL",
            f"unsupported scheme {scheme!r}; use sqlite:///file.db or postgresql://host/db",
        )
    if scheme == "sqlite" and not settings.database_url.startswith("sqlite:///"):
        raise ConfigError("GATEPASS_DATABASE_URL", "SQLite URLs look like sqlite:///file.db")


@_check
def _check_redis_url(settings: Settings) -> None:
    if settings.redis_url is None:
        return
    try:  # one parser for every form (docs/redis.md), shared with the resource toolkit
        parse_redis_url(settings.redis_url)
    except ValueError as exc:
        raise ConfigError("GATEPASS_REDIS_URL", str(exc)) from None


@_check
def _check_smtp_url(settings: Settings) -> None:
    if settings.smtp_url is None:
        return
    # The URL holds a password: the message never repeats it.
    parts = urlsplit(settings.smtp_url.reveal())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("GATEPASS_SMTP_URL", "expected smtp://host:port or smtps://...")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise ConfigError("GATEPASS_SMTP_URL", "the port is not a number") from None


@_check
def _check_session_lifetimes(settings: Settings) -> None:
    if settings.session_idle_ttl > settings.session_absolute_ttl:
        raise ConfigError(
            "GATEPASS_SESSION_IDLE_TTL", "must not exceed GATEPASS_SESSION_ABSOLUTE_TTL"
        )


@_check
def _check_trusted_proxies(settings: Settings) -> None:
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(
                "GATEPASS_TRUSTED_PROXIES", f"{proxy!r} is not an address or network"
            ) from None


@_check
def _check_secret_key(settings: Settings) -> None:
    if settings.secret_key is None:
        return
    raw = decode_master_key(settings.secret_key.reveal())
    if raw is None:
        raise ConfigError("GATEPASS_SECRET_KEY", "expected base64url text")
    if len(raw) < MASTER_KEY_MIN_BYTES:
        raise ConfigError(
            "GATEPASS_SECRET_KEY",
            f"too short: {len(raw)} bytes, at least {MASTER_KEY_MIN_BYTES} random bytes needed",
        )


@_check
def _check_key_file(settings: Settings) -> None:
    if not settings.key_file.strip():
        raise ConfigError("GATEPASS_KEY_FILE", "must name a file")


@_check
def _check_signing_algorithms(settings: Settings) -> None:
    name = "GATEPASS_SIGNING_ALGORITHMS"
    for alg in settings.signing_algorithms:
        if alg not in SIGNING_ALGORITHMS:
            raise ConfigError(
                name, f"unknown algorithm {alg!r}; use {', '.join(SIGNING_ALGORITHMS)}"
            )
    if "RS256" not in settings.signing_algorithms:
        raise ConfigError(name, "must include RS256 (OpenID Connect Core §15.1)")


@_check
def _check_token_settings(settings: Settings) -> None:
    if settings.access_token_alg not in settings.signing_algorithms:
        raise ConfigError(
            "GATEPASS_ACCESS_TOKEN_ALG",
            f"{settings.access_token_alg!r} is not among GATEPASS_SIGNING_ALGORITHMS",
        )
    # A key leaves /jwks.json max_signed_token_ttl after it stops signing: a longer-lived
    # token would outlive the key that verifies it.
    for name in ("access_token_ttl", "id_token_ttl"):
        if getattr(settings, name) > settings.max_signed_token_ttl:
            raise ConfigError(
                ENV_PREFIX + name.upper(), "must not exceed GATEPASS_MAX_SIGNED_TOKEN_TTL"
            )
    if settings.refresh_token_idle_ttl > settings.refresh_token_absolute_ttl:
        raise ConfigError(
            "GATEPASS_REFRESH_TOKEN_IDLE_TTL", "must not exceed GATEPASS_REFRESH_TOKEN_ABSOLUTE_TTL"
        )
    audience = settings.default_audience
    if audience is not None and any(ch.isspace() for ch in audience):
        raise ConfigError("GATEPASS_DEFAULT_AUDIENCE", "must not contain white space")
    if audience is not None and audience.rstrip("/") == settings.issuer:
        raise ConfigError("GATEPASS_DEFAULT_AUDIENCE", "must differ from GATEPASS_ISSUER")


def render_reference() -> str:
    """docs/configuration.md, generated from the settings themselves."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `src/gatepass/config.py` by `scripts/gen-docs`; do not edit by hand.",
        "",
        "Settings come from built-in defaults, then a TOML file given with `--config`",
        "(keys are the lower-case names below), then `GATEPASS_*` environment variables,",
        "which win. A missing or invalid value stops the start with one line naming it.",
        "",
        "| setting | environment variable | default | range | what it does |",
        "|---|---|---|---|---|",
    ]
    for spec in fields(Settings):
        if spec.metadata["toml_only"]:
            continue
        low, high = spec.metadata["low"], spec.metadata["high"]
        bounds = f"{low}..{high}" if low is not None else ""
        default = "unset" if spec.default is None else f"`{_shown(spec.default)}`"
        env = ENV_PREFIX + spec.name.upper()
        doc = spec.metadata["doc"]
        lines.append(f"| `{spec.name}` | `{env}` | {default} | {bounds} | {doc} |")
    return "\n".join([*lines, *_PROVIDERS_REFERENCE]) + "\n"


_PROVIDERS_REFERENCE = [
    "",
    "## Upstream identity providers",
    "",
    'Each `[providers.NAME]` table of the TOML file adds a "Continue with ..." button to the',
    "login page; there are no environment variables for them. NAME (1 to 32 of `a-z`, `0-9`,",
    "`_`, `-`) is part of the redirect URI to register at the provider:",
    "`{issuer}/login/NAME/callback`. Providers in the file cannot be changed by",
    "`gatepass provider add|remove`, which manage others in the database (their client",
    "secrets encrypted under a key derived from the master key).",
    "",
    "| key | default | what it is |",
    "|---|---|---|",
    "| `kind` | `oidc` | `oidc` (any OpenID provider, by discovery), `google` or `github` |",
    "| `issuer` | `https://accounts.google.com` for google, `https://github.com` for github "
    "| the OpenID issuer; for github the web address (GitHub Enterprise: its own). https, "
    "or http for a loopback host only |",
    "| `client_id` | (required) | the client id the provider gave gatepass |",
    "| `client_secret` | (required) | its secret |",
    "| `scopes` | `openid email profile`; github: `read:user user:email` "
    "| a list; must include `openid` except for github |",
    "| `display_name` | `Google`, `GitHub`, or NAME | the button's label |",
]


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple) and default:
        return ",".join(str(item) for item in default)
    return repr(default)
