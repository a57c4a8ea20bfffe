"""`[providers.NAME]` tables in the TOML file (config.py): parsed, defaulted, refused by name."""

import logging
from pathlib import Path

import pytest

from gatepass.config import load_settings
from gatepass.errors import ConfigError
from gatepass.federation.presets import from_settings


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gatepass.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_provider_tables_become_settings_with_their_kinds_defaults(tmp_path: Path) -> None:
    path = toml(
        tmp_path,
        """
[providers.corp]
issuer = "https://id.corp.example"
client_id = "gatepass"
client_secret = "s3cret"
scopes = ["openid", "email"]
display_name = "Corp SSO"

[providers.google]
kind = "google"
client_id = "g-id"
client_secret = "g-secret"
""",
    )
    settings = load_settings(path, environ={})
    corp, google = settings.providers
    assert (corp.name, corp.kind, corp.issuer) == ("corp", "oidc", "https://id.corp.example")
    assert corp.scopes == ("openid", "email")
    assert corp.client_secret.reveal() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert (google.issuer, google.display_name) == ("https://accounts.google.com", "Google")
    assert google.scopes == ("openid", "email", "profile")
    providers = from_settings(settings.providers)
    assert [p.source for p in providers] == ["config", "config"]
    assert providers[0].client_secret == "s3cret"


def test_no_providers_is_the_default() -> None:
    assert load_settings(environ={}).providers == ()


@pytest.mark.parametrize(
    ("table", "setting"),
    [
        (
            '[providers.Corp]\nissuer="https://a.example"\nclient_id="c"\nclient_secret="s"',
            "providers.Corp",
        ),
        ('[providers.corp]\nclient_id="c"\nclient_secret="s"', "providers.corp.issuer"),
        (
            '[providers.corp]\nissuer="http://a.example"\nclient_id="c"\nclient_secret="s"',
            "providers.corp.issuer",
        ),
        (
            '[providers.corp]\nissuer="https://a.example"\nclient_secret="s"',
            "providers.corp.client_id",
        ),
        (
            '[providers.corp]\nissuer="https://a.example"\nclient_id="c"',
            "providers.corp.client_secret",
        ),
        (
            '[providers.corp]\nkind="saml"\nissuer="https://a.example"\nclient_id="c"\nclient_secret="s"',
            "providers.corp.kind",
        ),
        (
            '[providers.corp]\nissuer="https://a.example"\nclient_id="c"\nclient_secret="s"\nscopes="openid"',
            "providers.corp.scopes",
        ),
        (
            '[providers.corp]\nissuer="https://a.example"\nclient_id="c"\nclient_secret="s"\nscopes=["email"]',
            "providers.corp.scopes",
        ),
        (
            '[providers.corp]\nissuer="https://a.example"\nclient_id="c"\nclient_secret="s"\ncolour="red"',
            "providers.corp.colour",
        ),
        ('[providers.corp]\nissuer=42\nclient_id="c"\nclient_secret="s"', "providers.corp.issuer"),
        ('providers = "corp"', "providers"),
        ("[providers]\ncorp = 1", "providers.corp"),
    ],
    ids=[
        "an upper-case name",
        "an oidc provider without issuer",
        "plain http to a remote issuer",
        "no client id",
        "no client secret",
        "an unknown kind",
        "scopes as a string",
        "scopes without openid",
        "an unknown key",
        "an issuer that is no string",
        "providers that is no table",
        "a provider that is no table",
    ],
)
def test_a_bad_provider_table_names_the_setting(tmp_path: Path, table: str, setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(toml(tmp_path, table), environ={})
    assert caught.value.setting == setting


def test_unknown_settings_are_still_refused_beside_providers(tmp_path: Path) -> None:
    text = 'issuer_url = "x"\n[providers.gh]\nkind="github"\nclient_id="c"\nclient_secret="s"'
    with pytest.raises(ConfigError, match="unknown setting 'issuer_url'"):
        load_settings(toml(tmp_path, text), environ={})


def test_providers_are_not_read_from_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gatepass"):
        settings = load_settings(environ={"GATEPASS_PROVIDERS": "corp"})
    assert settings.providers == ()
    assert "GATEPASS_PROVIDERS is not a gatepass setting" in caplog.text
