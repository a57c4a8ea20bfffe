"""Token settings: defaults, bounds refused at start, and the default audience."""

import pytest

from gatepass.config import Settings, load_settings
from gatepass.errors import ConfigError


def test_token_defaults_are_short_lived_and_es256() -> None:
    settings = load_settings(environ={})
    assert settings.access_token_ttl == 900  # DESIGN.md: 15 minutes
    assert settings.id_token_ttl == 300
    assert settings.access_token_alg == "ES256"
    assert settings.access_token_audience == "http://127.0.0.1:8000/api"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEPASS_ACCESS_TOKEN_TTL", "3601"),  # never over one hour
        ("GATEPASS_ACCESS_TOKEN_TTL", "0"),
        ("GATEPASS_ID_TOKEN_TTL", "3601"),
        ("GATEPASS_ACCESS_TOKEN_ALG", "HS256"),
        ("GATEPASS_DEFAULT_AUDIENCE", "http://127.0.0.1:8000"),  # the issuer itself
        ("GATEPASS_DEFAULT_AUDIENCE", "two words"),
    ],
)
def test_a_token_setting_beyond_its_bounds_is_refused_at_start(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value})
    assert caught.value.setting == variable


def test_the_access_token_alg_must_have_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            environ={"GATEPASS_SIGNING_ALGORITHMS": "RS256", "GATEPASS_ACCESS_TOKEN_ALG": "EdDSA"}
        )
    assert caught.value.setting == "GATEPASS_ACCESS_TOKEN_ALG"


def test_no_token_may_outlive_the_key_that_signed_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            environ={"GATEPASS_MAX_SIGNED_TOKEN_TTL": "600", "GATEPASS_ACCESS_TOKEN_TTL": "900"}
        )
    assert caught.value.setting == "GATEPASS_ACCESS_TOKEN_TTL"


def test_the_start_refuses_an_access_token_ttl_over_one_hour_in_a_config_file(
    tmp_path: object,
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "gatepass.toml"
    path.write_text("access_token_ttl = 7200\n")
    with pytest.raises(ConfigError, match="GATEPASS_ACCESS_TOKEN_TTL"):
        load_settings(path, environ={})


def test_an_explicit_default_audience_and_ttls_are_read() -> None:
    settings = load_settings(
        environ={
            "GATEPASS_DEFAULT_AUDIENCE": "https://api.example.com",
            "GATEPASS_ACCESS_TOKEN_TTL": "3600",
            "GATEPASS_ID_TOKEN_TTL": "120",
            "GATEPASS_ACCESS_TOKEN_ALG": "RS256",
        }
    )
    assert settings.access_token_audience == "https://api.example.com"
    assert (settings.access_token_ttl, settings.id_token_ttl) == (3600, 120)
    assert settings.access_token_alg == "RS256"
    assert Settings().access_token_alg in Settings().signing_algorithms
