"""Typed, frozen settings, built once at start-up.

Sources, later ones winning: built-in defaults, a TOML file (`--config`), and
`GATEPASS_*` environment variables. A missing or invalid value fails at start
with a one-line `ConfigError` that names the setting.
"""

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gatepass.errors import ConfigError

ENV_PREFIX = "GATEPASS_"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SQL_SCHEMES = frozenset({"sqlite", "postgresql", "postgres"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})

# OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1 at least.
OWASP_ARGON2_MEMORY_KIB = 19456
OWASP_ARGON2_TIME_COST = 2


def _setting(default: Any, doc: str, *, low: int | None = None, high: int | None = None) -> Any:
    return field(default=default, metadata={"doc": doc, "low": low, "high": high})


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
        "Redis for sessions and throttling counters (`redis://host:6379/0`, `rediss://...`). "
        "Unset: both live in the SQL database.",
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
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        "Addresses or networks of reverse proxies whose `X-Forwarded-For` is believed "
        "(comma-separated in the environment). Empty: the socket peer is the client.",
    )

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
    for name in known:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            raw[name] = environ[env_name]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(str(config_file), f"unknown setting {unknown[0]!r}")
    values = {name: _coerce(known[name], value) for name, value in raw.items()}
    settings = Settings(**values)
    _validate(settings)
    return settings


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
    if not isinstance(value, str):
        raise ConfigError(name, "expected a string")
    return value


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
    parts = urlsplit(settings.redis_url)
    if parts.scheme not in REDIS_SCHEMES or (parts.scheme != "unix" and not parts.hostname):
        raise ConfigError("GATEPASS_REDIS_URL", "expected redis://host:port/db or rediss://...")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise ConfigError("GATEPASS_REDIS_URL", "the port is not a number") from None


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
        low, high = spec.metadata["low"], spec.metadata["high"]
        bounds = f"{low}..{high}" if low is not None else ""
        default = "unset" if spec.default is None else f"`{spec.default!r}`"
        env = ENV_PREFIX + spec.name.upper()
        doc = spec.metadata["doc"]
        lines.append(f"| `{spec.name}` | `{env}` | {default} | {bounds} | {doc} |")
    return "\n".join(lines) + "\n"
