"""`gatepass provider add|list|remove`, run as the installed command on SQLite and PostgreSQL."""

import json
from pathlib import Path

import pytest

from gatepass.config import Secret, Settings, decode_master_key
from gatepass.crypto.master_key import MasterKey
from gatepass.crypto.secret_box import SecretSealer
from gatepass.storage.backends import Backends
from tests.cli.conftest import Cli, assert_one_line_error
from tests.federation.core_fixtures import sql_backend, sql_backends, sql_settings
from tests.support import ISSUER, SECRET_KEY

__all__ = ["sql_backend", "sql_backends", "sql_settings"]


@pytest.fixture
def cli(sql_settings: Settings, sql_backends: Backends, tmp_path: Path) -> Cli:
    """The command on the SQL backend that `sql_backends` migrated and wipes."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    return Cli(sql_settings, workdir)


ADD = ("provider", "add", "corp", "--issuer", "https://id.corp.example", "--client-id", "gp")


async def test_add_prints_the_redirect_uri_and_never_the_secret(
    cli: Cli, sql_backends: Backends
) -> None:
    added = await cli.json(
        *ADD, "--client-secret-stdin", "--display-name", "Corp", stdin="s3cret\n"
    )
    assert added == {
        "name": "corp",
        "kind": "oidc",
        "issuer": "https://id.corp.example",
        "client_id": "gp",
        "scopes": ["openid", "email", "profile"],
        "display_name": "Corp",
        "source": "cli",
        "redirect_uri": f"{ISSUER}/login/corp/callback",
    }
    stored = await sql_backends.providers.get("corp")
    assert stored is not None
    assert "s3cret" not in stored.sealed_secret
    raw = decode_master_key(Secret(SECRET_KEY).reveal())
    assert raw is not None
    opened = SecretSealer(MasterKey(raw)).open(
        stored.sealed_secret, bound_to="upstream provider corp"
    )
    assert opened == "s3cret"  # the trailing newline of stdin is not part of it


async def test_github_and_google_need_no_issuer(cli: Cli) -> None:
    github = await cli.json(
        "provider",
        "add",
        "gh",
        "--kind",
        "github",
        "--client-id",
        "c",
        "--client-secret-stdin",
        stdin="s",
    )
    assert (github["issuer"], github["scopes"]) == (
        "https://github.com",
        ["read:user", "user:email"],
    )
    google = await cli.json(
        "provider",
        "add",
        "google",
        "--kind",
        "google",
        "--client-id",
        "c",
        "--client-secret-stdin",
        "--scope",
        "openid",
        "email",
        stdin="s",
    )
    assert (google["issuer"], google["scopes"]) == (
        "https://accounts.google.com",
        ["openid", "email"],
    )
    listed = await cli.json("provider", "list")
    assert [p["name"] for p in listed] == ["gh", "google"]
    assert all("secret" not in json.dumps(p) for p in listed)
    text = await cli.ok("provider", "list")
    assert "gh" in text
    assert "https://accounts.google.com" in text


async def test_an_unreachable_oidc_issuer_can_still_be_added(cli: Cli) -> None:
    added = await cli.json(
        "provider",
        "add",
        "down",
        "--issuer",
        "http://127.0.0.1:9",
        "--client-id",
        "c",
        "--client-secret-stdin",
        stdin="s",
    )
    assert added["issuer"] == "http://127.0.0.1:9"


async def test_remove_deletes_and_says_so_once(cli: Cli) -> None:
    await cli.ok(*ADD, "--client-secret-stdin", stdin="s")
    assert "removed provider corp" in await cli.ok("provider", "remove", "corp")
    assert await cli.json("provider", "list") == []
    assert_one_line_error(await cli("provider", "remove", "corp"), "no provider named 'corp'")


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (
            ("provider", "add", "Corp", "--issuer", "https://a.example", "--client-id", "c"),
            "s",
            "name",
        ),
        (("provider", "add", "corp", "--client-id", "c"), "s", "issuer"),
        (
            ("provider", "add", "corp", "--issuer", "http://a.example", "--client-id", "c"),
            "s",
            "loopback",
        ),
        (("provider", "add", "corp", "--issuer", "not a url", "--client-id", "c"), "s", "issuer"),
        (
            ("provider", "add", "corp", "--issuer", "https://a.example", "--client-id", "c"),
            "",
            "standard input",
        ),
        (
            (
                "provider",
                "add",
                "corp",
                "--issuer",
                "https://a.example",
                "--client-id",
                "c",
                "--scope",
                "email",
            ),
            "s",
            "openid",
        ),
    ],
    ids=[
        "an upper-case name",
        "no issuer",
        "remote plain http",
        "not a URL",
        "no secret",
        "no openid",
    ],
)
# Refused before any storage is touched: SQLite alone says as much (and saves a minute).
@pytest.mark.parametrize("sql_backend", ["sqlite"], indirect=True)
async def test_bad_input_is_one_line_and_exit_2(
    cli: Cli, args: tuple[str, ...], stdin: str, needle: str
) -> None:
    result = await cli(*args, "--client-secret-stdin", stdin=stdin)
    assert_one_line_error(result, needle)
    assert await cli.json("provider", "list") == []


async def test_a_taken_name_is_refused(cli: Cli) -> None:
    await cli.ok(*ADD, "--client-secret-stdin", stdin="s")
    assert_one_line_error(await cli(*ADD, "--client-secret-stdin", stdin="t"), "corp")


async def test_providers_of_the_configuration_file_are_listed_and_read_only(
    cli: Cli, tmp_path: Path
) -> None:
    config = tmp_path / "gatepass.toml"
    config.write_text(
        '[providers.filed]\nissuer = "https://f.example"\nclient_id = "c"\n'
        'client_secret = "file-secret"\n'
    )
    listed = await cli.json("provider", "list", "--config", str(config))
    assert [(p["name"], p["source"]) for p in listed] == [("filed", "config")]
    assert "file-secret" not in json.dumps(listed)
    result = await cli("provider", "remove", "filed", "--config", str(config))
    assert_one_line_error(result, "configuration file")
    added = await cli(
        *ADD[:2], "filed", *ADD[3:], "--client-secret-stdin", "--config", str(config), stdin="s"
    )
    assert_one_line_error(added, "configuration file")
