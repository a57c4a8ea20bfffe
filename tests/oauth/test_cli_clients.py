"""`gatepass client create | list | show | delete | rotate-secret`, as a real subprocess.

Clients live in SQL: creation runs on SQLite and PostgreSQL, the rest on SQLite.
"""

import json
import re
import secrets

import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings, load_settings
from gatepass.oauth.errors import InvalidClient
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.cli.conftest import Cli, assert_one_line_error, cli  # noqa: F401 - a fixture
from tests.support import ISSUER

MASTER_KEY = secrets.token_urlsafe(32)
REFRESHING = (
    "--redirect-uri", "https://a.example/cb", "--grant-type", "authorization_code",
    "refresh_token",
)  # fmt: skip
TOKEN_SETTINGS = (
    "refresh_token_idle_ttl", "refresh_token_absolute_ttl", "refresh_retry_window",
    "default_audience",
)  # fmt: skip


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def gp(cli: Cli) -> Cli:  # noqa: F811
    """The command with a master key, as an operator would configure it."""

    class Keyed(Cli):
        @property
        def env(self) -> dict[str, str]:
            return {**super().env, "GATEPASS_SECRET_KEY": MASTER_KEY}

    return Keyed(cli.settings, cli.cwd)


def registry_for(settings: Settings, backends: Backends) -> ClientRegistry:
    """A registry keyed the way the CLI is: the same master key, the same subkey."""
    from gatepass.cli import client_secret_key

    keyed = load_settings(environ={"GATEPASS_SECRET_KEY": MASTER_KEY})
    return ClientRegistry(backends.clients, client_secret_key(keyed), SystemClock())


async def test_create_with_json_prints_one_object_with_id_and_secret(
    gp: Cli, settings: Settings, backends: Backends
) -> None:
    out = await gp.ok(
        "client", "create", "Web App", "--redirect-uri", "https://app.example.com/cb",
        "--redirect-uri", "http://127.0.0.1/cb", "--grant-type", "authorization_code",
        "refresh_token", "--scope", "openid", "--scope", "offline_access", "api:read",
        "--first-party", "--post-logout-redirect-uri", "https://app.example.com/bye",
        "--id-token-alg", "ES256", "--json",
    )  # fmt: skip
    [line] = out.splitlines()
    created = json.loads(line)
    assert created["client_id"].startswith("gpc_")
    assert created["confidential"] is True
    assert created["redirect_uris"] == ["https://app.example.com/cb", "http://127.0.0.1/cb"]
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    assert created["scope"] == "openid offline_access api:read"
    assert created["first_party"] is True
    assert created["id_token_signed_response_alg"] == "ES256"
    registry = registry_for(settings, backends)
    client = await registry.authenticate(created["client_id"], created["client_secret"])
    assert client.post_logout_redirect_uris == ("https://app.example.com/bye",)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_public_client_gets_no_secret(gp: Cli) -> None:
    created = await gp.json(
        "client", "create", "Phone", "--public", "--redirect-uri", "com.example.app:/cb"
    )
    assert "client_secret" not in created
    assert created["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_secret_is_shown_once_and_never_again(gp: Cli) -> None:
    created = await gp.json("client", "create", "A", "--redirect-uri", "https://a.example/cb")
    secret = created["client_secret"]
    shown = await gp.ok("client", "show", created["client_id"])
    listed = await gp.ok("client", "list", "--json")
    assert created["client_id"] in shown
    assert created["client_id"] in listed
    assert secret not in shown + listed


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_list_and_show_round_trip(gp: Cli) -> None:
    first = await gp.json("client", "create", "One", "--redirect-uri", "https://one.example/cb")
    second = await gp.json(
        "client", "create", "Two", "--public", "--redirect-uri", "http://[::1]/cb"
    )
    listed = await gp.json("client", "list")
    assert [c["client_id"] for c in listed] == [first["client_id"], second["client_id"]]
    shown = await gp.json("client", "show", second["client_id"])
    assert shown == listed[1]
    assert shown["client_name"] == "Two"
    text = await gp.ok("client", "list")
    assert "One" in text
    assert "public" in text


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_delete_removes_the_client(gp: Cli) -> None:
    created = await gp.json("client", "create", "A", "--redirect-uri", "https://a.example/cb")
    await gp.ok("client", "delete", created["client_id"])
    assert await gp.json("client", "list") == []
    assert_one_line_error(await gp("client", "show", created["client_id"]), "no client")
    assert_one_line_error(await gp("client", "delete", created["client_id"]), "no client")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_rotate_secret_invalidates_the_old_one(
    gp: Cli, settings: Settings, backends: Backends
) -> None:
    created = await gp.json("client", "create", "A", "--redirect-uri", "https://a.example/cb")
    rotated = await gp.json("client", "rotate-secret", created["client_id"])
    assert rotated["client_id"] == created["client_id"]
    assert rotated["client_secret"] != created["client_secret"]
    registry = registry_for(settings, backends)
    await registry.authenticate(created["client_id"], rotated["client_secret"])
    with pytest.raises(InvalidClient):
        await registry.authenticate(created["client_id"], created["client_secret"])


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--redirect-uri", "http://app.example.com/cb"), "loopback"),
        (("--redirect-uri", "https://app.example.com/cb#x"), "fragment"),
        (("--redirect-uri", "/cb"), "absolute"),
        (("--redirect-uri", "https://a.example/cb", "--grant-type", "implicit"), "implicit"),
        (("--redirect-uri", "https://a.example/cb", "--grant-type", "password"), "password"),
        (
            ("--public", "--redirect-uri", "http://127.0.0.1/cb", "--grant-type",
             "client_credentials"),
            "confidential",
        ),
        (("--redirect-uri", "https://a.example/cb", "--id-token-alg", "none"), "algorithm"),
        ((*REFRESHING, "--refresh-token-idle-ttl", "1h"), "--refresh-token-idle-ttl takes"),
        ((*REFRESHING, "--refresh-token-idle-ttl", "59"), "refresh_token_idle_ttl is a whole"),
        ((*REFRESHING, "--refresh-token-absolute-ttl", "31536001"), "refresh_token_absolute_ttl"),
        ((*REFRESHING, "--refresh-retry-window", "-1"), "--refresh-retry-window takes"),
        ((*REFRESHING, "--refresh-retry-window", "61"), "seconds from 0 to 60"),
        (
            (*REFRESHING, "--refresh-token-idle-ttl", "7200",
             "--refresh-token-absolute-ttl", "3600"),
            "must not exceed",
        ),
        (
            ("--redirect-uri", "https://a.example/cb", "--refresh-retry-window", "10"),
            "refresh_retry_window needs the refresh_token grant",
        ),
        (("--redirect-uri", "https://a.example/cb", "--audience", "/api"), "default_audience"),
        (
            ("--redirect-uri", "https://a.example/cb", "--audience", "https://api.example/#x"),
            "fragment",
        ),
        (("--redirect-uri", "https://a.example/cb", "--audience", ISSUER + "/"), "issuer"),
    ],
    ids=[
        "plain http on a public host",
        "a fragment",
        "a relative URI",
        "the implicit grant",
        "the password grant",
        "client credentials for a public client",
        "alg none",
        "an idle time that is no number",
        "an idle time under a minute",
        "an absolute lifetime over a year",
        "a negative retry window",
        "a retry window over a minute",
        "an idle time over the absolute lifetime",
        "a retry window without the refresh_token grant",
        "a relative audience",
        "an audience with a fragment",
        "the issuer as audience",
    ],
)  # fmt: skip
async def test_create_refuses_a_bad_registration_with_one_line(
    gp: Cli, args: tuple[str, ...], needle: str
) -> None:
    assert_one_line_error(await gp("client", "create", "Bad", *args), needle)
    assert await gp.json("client", "list") == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_rotate_secret_of_a_public_client_is_refused(gp: Cli) -> None:
    created = await gp.json(
        "client", "create", "Phone", "--public", "--redirect-uri", "com.example.app:/cb"
    )
    assert_one_line_error(await gp("client", "rotate-secret", created["client_id"]), "public")


async def test_create_stores_the_token_settings_and_prints_them(
    gp: Cli, settings: Settings, backends: Backends
) -> None:
    created = await gp.json(
        "client", "create", "Mobile API", *REFRESHING, "--refresh-token-idle-ttl", "3600",
        "--refresh-token-absolute-ttl", "604800", "--refresh-retry-window", "0",
        "--audience", "https://api.example.com/v1",
    )  # fmt: skip
    assert {name: created[name] for name in TOKEN_SETTINGS} == {
        "refresh_token_idle_ttl": 3600,
        "refresh_token_absolute_ttl": 604800,
        "refresh_retry_window": 0,
        "default_audience": "https://api.example.com/v1",
    }
    stored = await backends.clients.get(created["client_id"])
    assert stored is not None
    assert (stored.refresh_token_idle_ttl, stored.refresh_token_absolute_ttl) == (3600, 604800)
    assert (stored.refresh_retry_window, stored.default_audience) == (
        0,
        "https://api.example.com/v1",
    )


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_show_and_list_print_token_settings_and_null_when_unset(gp: Cli) -> None:
    tuned = await gp.json(
        "client", "create", "Tuned", *REFRESHING, "--refresh-retry-window", "10"
    )  # fmt: skip
    plain = await gp.json("client", "create", "Plain", "--redirect-uri", "https://p.example/cb")
    assert {name: plain[name] for name in TOKEN_SETTINGS} == dict.fromkeys(TOKEN_SETTINGS)
    shown = await gp.json("client", "show", tuned["client_id"])
    assert shown["refresh_retry_window"] == 10
    assert shown["refresh_token_idle_ttl"] is None
    listed = await gp.json("client", "list")
    assert [c["refresh_retry_window"] for c in listed] == [10, None]
    assert all(set(TOKEN_SETTINGS) <= set(c) for c in listed)
    text = await gp.ok("client", "show", plain["client_id"])
    assert re.search(r"^default_audience:\s+\(server setting\)$", text, re.MULTILINE), text


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_client_credentials_client_may_name_its_audience(gp: Cli) -> None:
    created = await gp.json(
        "client", "create", "Worker", "--grant-type", "client_credentials",
        "--audience", "urn:example:orders",
    )  # fmt: skip
    assert created["default_audience"] == "urn:example:orders"
    assert created["grant_types"] == ["client_credentials"]
