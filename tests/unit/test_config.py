"""Settings (config.py): defaults, TOML then environment, and refusals that name the setting."""

from dataclasses import fields
from pathlib import Path

import pytest

from gatepass.config import (
    OWASP_ARGON2_MEMORY_KIB,
    OWASP_ARGON2_TIME_COST,
    Settings,
    load_settings,
)
from gatepass.errors import ConfigError


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gatepass.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.redis_url is None
    assert (settings.session_idle_ttl, settings.session_absolute_ttl) == (1800, 43_200)
    assert settings.trusted_proxies == ()


def test_default_argon2_parameters_meet_the_owasp_minimums() -> None:
    settings = Settings()
    assert settings.argon2_memory_kib >= OWASP_ARGON2_MEMORY_KIB == 19456
    assert settings.argon2_time_cost >= OWASP_ARGON2_TIME_COST == 2
    assert settings.argon2_parallelism >= 1


def test_every_setting_has_a_docstring() -> None:
    for spec in fields(Settings):
        assert spec.metadata["doc"].strip(), spec.name


def test_environment_variables_are_read() -> None:
    settings = load_settings(
        environ={
            "GATEPASS_ISSUER": "https://id.example.com",
            "GATEPASS_SESSION_IDLE_TTL": " 600 ",
            "GATEPASS_REDIS_URL": "redis://cache:6379/1",
        }
    )
    assert settings.issuer == "https://id.example.com"
    assert settings.is_https
    assert settings.session_idle_ttl == 600
    assert settings.redis_url == "redis://cache:6379/1"


def test_the_toml_file_overrides_the_defaults(tmp_path: Path) -> None:
    path = toml(tmp_path, 'issuer = "https://id.example.com"\nsession_idle_ttl = 600\n')
    settings = load_settings(path, environ={})
    assert (settings.issuer, settings.session_idle_ttl) == ("https://id.example.com", 600)


def test_the_environment_beats_the_toml_file(tmp_path: Path) -> None:
    path = toml(tmp_path, "session_idle_ttl = 600\nlogin_account_limit = 7\n")
    settings = load_settings(path, environ={"GATEPASS_SESSION_IDLE_TTL": "900"})
    assert settings.session_idle_ttl == 900
    assert settings.login_account_limit == 7


def test_an_empty_redis_url_means_no_redis() -> None:
    assert load_settings(environ={"GATEPASS_REDIS_URL": ""}).redis_url is None


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        pytest.param("", (), id="empty means no proxies"),
        pytest.param("10.0.0.1", ("10.0.0.1",), id="one address"),
        pytest.param(
            " 10.0.0.0/8 , 2001:db8::/32,,",
            ("10.0.0.0/8", "2001:db8::/32"),
            id="comma-separated networks with blanks and spaces",
        ),
    ],
)
def test_trusted_proxies_are_parsed_from_the_environment(raw: str, parsed: tuple[str, ...]) -> None:
    assert load_settings(environ={"GATEPASS_TRUSTED_PROXIES": raw}).trusted_proxies == parsed


def test_trusted_proxies_are_read_as_a_toml_list(tmp_path: Path) -> None:
    path = toml(tmp_path, 'trusted_proxies = ["10.0.0.1", "fd00::/8"]\n')
    assert load_settings(path, environ={}).trusted_proxies == ("10.0.0.1", "fd00::/8")


def test_a_trusted_proxy_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_TRUSTED_PROXIES: 'proxy\.local'"):
        load_settings(environ={"GATEPASS_TRUSTED_PROXIES": "10.0.0.1,proxy.local"})


def test_trusted_proxies_that_are_not_a_list_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_TRUSTED_PROXIES: expected a list"):
        load_settings(toml(tmp_path, "trusted_proxies = 10\n"), environ={})


def test_an_unknown_setting_in_the_toml_file_is_refused(tmp_path: Path) -> None:
    path = toml(tmp_path, "session_idle_tll = 600\n")
    with pytest.raises(ConfigError, match="unknown setting 'session_idle_tll'"):
        load_settings(path, environ={})


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--config: cannot read"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_a_config_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--config: .* is not valid TOML"):
        load_settings(toml(tmp_path, "issuer = \n"), environ={})


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("thirty", id="a word"),
        pytest.param("1.5", id="a decimal"),
        pytest.param("", id="nothing"),
        pytest.param("0x10", id="hexadecimal"),
    ],
)
def test_a_non_integer_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_SESSION_IDLE_TTL: expected a whole number"):
        load_settings(environ={"GATEPASS_SESSION_IDLE_TTL": value})


@pytest.mark.parametrize(
    "value",
    [pytest.param("true", id="a boolean"), pytest.param("2.5", id="a float")],
)
def test_a_non_integer_in_toml_is_refused_naming_the_setting(tmp_path: Path, value: str) -> None:
    path = toml(tmp_path, f"argon2_time_cost = {value}\n")
    with pytest.raises(ConfigError, match=r"^GATEPASS_ARGON2_TIME_COST: expected a whole number"):
        load_settings(path, environ={})


def test_a_string_setting_given_a_number_in_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_ISSUER: expected a string"):
        load_settings(toml(tmp_path, "issuer = 8000\n"), environ={})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("GATEPASS_SESSION_IDLE_TTL", "0", id="an idle timeout of zero"),
        pytest.param("GATEPASS_SESSION_IDLE_TTL", "-5", id="a negative idle timeout"),
        pytest.param("GATEPASS_SESSION_ABSOLUTE_TTL", "2592001", id="a lifetime over 30 days"),
        pytest.param("GATEPASS_ARGON2_MEMORY_KIB", "19455", id="argon2 memory below owasp"),
        pytest.param("GATEPASS_ARGON2_TIME_COST", "1", id="one argon2 iteration"),
        pytest.param("GATEPASS_ARGON2_PARALLELISM", "0", id="no argon2 lanes"),
        pytest.param("GATEPASS_MAX_BODY_BYTES", "100", id="a body cap under a kilobyte"),
        pytest.param("GATEPASS_MAX_SESSIONS_PER_USER", "0", id="no sessions at all"),
        pytest.param("GATEPASS_LOGIN_ACCOUNT_LIMIT", "0", id="no login attempts at all"),
        pytest.param("GATEPASS_LOGIN_WINDOW_SECONDS", "86401", id="a window over a day"),
    ],
)
def test_a_value_outside_the_safe_range_is_refused_naming_the_setting(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: .* outside the safe range"):
        load_settings(environ={name: value})


@pytest.mark.parametrize(
    "issuer",
    [
        pytest.param("http://id.example.com", id="plain http on a public host"),
        pytest.param("http://10.0.0.5:8000", id="plain http on a private address"),
        pytest.param("http://localhost.example.com", id="plain http on a lookalike of localhost"),
        pytest.param("ftp://id.example.com", id="not http at all"),
        pytest.param("id.example.com", id="no scheme"),
        pytest.param("https://id.example.com/", id="a trailing slash"),
        pytest.param("https://id.example.com?tenant=1", id="a query"),
        pytest.param("https://id.example.com#top", id="a fragment"),
    ],
)
def test_an_unsafe_or_malformed_issuer_is_refused(issuer: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_ISSUER: "):
        load_settings(environ={"GATEPASS_ISSUER": issuer})


@pytest.mark.parametrize(
    "issuer",
    [
        pytest.param("http://127.0.0.1:8000", id="plain http on the ipv4 loopback"),
        pytest.param("http://localhost:8000", id="plain http on localhost"),
        pytest.param("http://[::1]:8000", id="plain http on the ipv6 loopback"),
        pytest.param("https://id.example.com", id="https anywhere"),
        pytest.param("https://example.com/identity", id="https with a path"),
    ],
)
def test_a_safe_issuer_is_accepted(issuer: str) -> None:
    assert load_settings(environ={"GATEPASS_ISSUER": issuer}).issuer == issuer


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://db.example.com/gatepass", id="mysql"),
        pytest.param("gatepass.db", id="a bare file name"),
        pytest.param("sqlite://gatepass.db", id="sqlite with two slashes"),
    ],
)
def test_an_unsupported_database_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_DATABASE_URL: "):
        load_settings(environ={"GATEPASS_DATABASE_URL": url})


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///gatepass.db",
        "sqlite:////var/lib/gatepass/gatepass.db",
        "postgresql://gatepass@db:5432/gatepass",
        "postgres://gatepass@db/gatepass",
        "postgresql+asyncpg://gatepass@db/gatepass",
    ],
)
def test_a_supported_database_url_is_accepted(url: str) -> None:
    assert load_settings(environ={"GATEPASS_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://cache:6379", id="http"),
        pytest.param("memcached://cache:11211", id="memcached"),
        pytest.param("redis://", id="no host"),
        pytest.param("redis://cache:port/0", id="a port that is not a number"),
    ],
)
def test_a_bad_redis_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_REDIS_URL: "):
        load_settings(environ={"GATEPASS_REDIS_URL": url})


@pytest.mark.parametrize(
    "url", ["redis://cache:6379/0", "rediss://:secret@cache:6380/1", "unix:///run/redis.sock"]
)
def test_a_good_redis_url_is_accepted(url: str) -> None:
    assert load_settings(environ={"GATEPASS_REDIS_URL": url}).redis_url == url


def test_an_idle_timeout_longer_than_the_absolute_lifetime_is_refused() -> None:
    environ = {"GATEPASS_SESSION_IDLE_TTL": "7200", "GATEPASS_SESSION_ABSOLUTE_TTL": "3600"}
    with pytest.raises(ConfigError, match=r"^GATEPASS_SESSION_IDLE_TTL: must not exceed"):
        load_settings(environ=environ)


def test_an_idle_timeout_equal_to_the_absolute_lifetime_is_accepted() -> None:
    environ = {"GATEPASS_SESSION_IDLE_TTL": "3600", "GATEPASS_SESSION_ABSOLUTE_TTL": "3600"}
    assert load_settings(environ=environ).session_idle_ttl == 3600


def test_a_config_error_fits_on_one_line_and_keeps_the_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"GATEPASS_MAX_BODY_BYTES": "lots\nand lots"})
    assert raised.value.setting == "GATEPASS_MAX_BODY_BYTES"
    assert "\n" not in str(raised.value)


def test_refresh_token_lifetimes_default_to_30_days_idle_and_90_absolute() -> None:
    settings = Settings()
    assert settings.refresh_token_idle_ttl == 30 * 86_400
    assert settings.refresh_token_absolute_ttl == 90 * 86_400
    assert settings.refresh_retry_window == 30


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REFRESH_RETRY_WINDOW", "61"),
        ("REFRESH_RETRY_WINDOW", "-1"),
        ("REFRESH_TOKEN_IDLE_TTL", "59"),
    ],
)
def test_refresh_settings_beyond_their_bounds_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match="GATEPASS_" + name):
        load_settings(environ={"GATEPASS_" + name: value})


def test_a_refresh_idle_lifetime_beyond_the_absolute_one_is_refused() -> None:
    environ = {
        "GATEPASS_REFRESH_TOKEN_IDLE_TTL": "7200",
        "GATEPASS_REFRESH_TOKEN_ABSOLUTE_TTL": "3600",
    }
    with pytest.raises(ConfigError, match="GATEPASS_REFRESH_TOKEN_IDLE_TTL"):
        load_settings(environ=environ)


@pytest.mark.parametrize(
    ("raw", "parsed"), [("false", False), ("0", False), ("YES", True), ("on", True)]
)
def test_a_yes_no_setting_reads_the_usual_words(raw: str, parsed: bool) -> None:
    settings = load_settings(environ={"GATEPASS_FIRST_PARTY_REFRESH_TOKENS": raw})
    assert settings.first_party_refresh_tokens is parsed


def test_a_yes_no_setting_refuses_anything_else() -> None:
    with pytest.raises(ConfigError, match="GATEPASS_FIRST_PARTY_REFRESH_TOKENS"):
        load_settings(environ={"GATEPASS_FIRST_PARTY_REFRESH_TOKENS": "maybe"})


def test_a_mistyped_variable_is_reported_not_silently_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="gatepass"):
        load_settings(environ={"GATEPASS_SESION_IDLE_TTL": "60", "GATEPASS_TEST_REDIS_URL": "x"})
    assert "GATEPASS_SESION_IDLE_TTL is not a gatepass setting" in caplog.text
    assert "GATEPASS_TEST_REDIS_URL" not in caplog.text
