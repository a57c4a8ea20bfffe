"""`gatepass client create | list | show | delete | rotate-secret`, as a real subprocess.

Clients live in SQL: creation runs on SQLite and PostgreSQL, the rest on SQLite.
"""

import json
import secrets

import pytest

from gatepass.clock import SystemClock
from gatepass.config import Settings, load_settings
from gatepass.oauth.errors import InvalidClient
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends
from tests.cli.conftest import Cli, assert_one_line_error, cli  # noqa: F401 - a fixture

MASTER_KEY = secrets.token_urlsafe(32)


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
    ],
    ids=[
        "plain http on a public host",
        "a fragment",
        "a relative URI",
        "the implicit grant",
        "the password grant",
        "client credentials for a public client",
        "alg none",
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
