"""The federation core's small parts: the pending login's cookie form, provider rules,
the registry over a real store, sealed secrets, and identity links."""

import dataclasses

import pytest

from gatepass.clock import FixedClock
from gatepass.config import Secret, decode_master_key
from gatepass.crypto.master_key import MasterKey
from gatepass.crypto.secret_box import SecretSealer, SecretUnsealError
from gatepass.errors import ValidationError
from gatepass.federation.identities import Identities
from gatepass.federation.model import (
    AlreadyLinked,
    DuplicateProvider,
    PendingLogin,
    ReadOnlyProvider,
    UpstreamError,
    UpstreamIdentity,
    UpstreamProvider,
)
from gatepass.federation.presets import github_endpoints, make_provider
from gatepass.federation.registry import ProviderRegistry
from gatepass.storage.backends import Backends
from tests.federation.core_fixtures import a_user, sql_backend, sql_backends, sql_settings
from tests.support import SECRET_KEY

__all__ = ["sql_backend", "sql_backends", "sql_settings"]
PENDING = PendingLogin("corp", "state-1", "nonce-1", "verifier-1", 1_800_000_000.0)


def test_a_pending_login_survives_its_json_form() -> None:
    assert PendingLogin.from_json(PENDING.to_json()) == PENDING


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"provider": "corp"}',
        PENDING.to_json().replace('"state-1"', '""'),
        PENDING.to_json().replace("1800000000.0", "true"),
        PENDING.to_json()[:-1] + ',"extra":1}',
    ],
    ids=["not JSON", "a list", "fields missing", "an empty state", "a boolean time", "extra"],
)
def test_a_damaged_pending_login_is_invalid_state(text: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        PendingLogin.from_json(text)
    assert caught.value.reason == "invalid_state"


def test_a_provider_repr_never_shows_its_secret() -> None:
    provider = make_provider("corp", issuer="https://id.example", client_id="c", client_secret="s3")
    assert "s3" not in repr(provider)


def test_presets_fill_in_google_and_github() -> None:
    google = make_provider("google", kind="google", client_id="c", client_secret="s")
    assert (google.issuer, google.scopes) == (
        "https://accounts.google.com",
        ("openid", "email", "profile"),
    )
    github = make_provider("gh", kind="github", client_id="c", client_secret="s")
    assert (github.issuer, github.display_name) == ("https://github.com", "GitHub")
    assert github.scopes == ("read:user", "user:email")
    assert github_endpoints("https://github.com").api == "https://api.github.com"
    assert github_endpoints("http://127.0.0.1:7000").api == "http://127.0.0.1:7000/api/v3"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Corp"}, "name"),
        ({"name": "x" * 33}, "name"),
        ({"name": "../x"}, "name"),
        ({"issuer": "http://id.example"}, "issuer"),
        ({"issuer": "https://id.example?x=1"}, "issuer"),
        ({"issuer": "ftp://id.example"}, "issuer"),
        ({"client_id": ""}, "client_id"),
        ({"client_secret": "a\nb"}, "client_secret"),
        ({"scopes": ("email",)}, "scopes"),
        ({"scopes": ('open"id',)}, "scopes"),
        ({"kind": "saml"}, "kind"),
        ({"display_name": "   "}, "display_name"),
    ],
)
def test_provider_rules_name_the_field(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "issuer": "https://id.example",
        "client_id": "c",
        "client_secret": "s",
        "name": "corp",
    }
    name = str(changes.pop("name", values.pop("name")))
    with pytest.raises(ValidationError) as caught:
        make_provider(name, **{**values, **changes})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_an_oidc_provider_needs_an_issuer() -> None:
    with pytest.raises(ValidationError) as caught:
        make_provider("corp", client_id="c", client_secret="s")
    assert caught.value.field == "issuer"


def test_a_plain_http_issuer_is_allowed_on_loopback_only() -> None:
    local = make_provider("dev", issuer="http://127.0.0.1:9000", client_id="c", client_secret="s")
    assert local.issuer == "http://127.0.0.1:9000"


def test_a_sealed_secret_opens_only_with_its_key_and_binding() -> None:
    sealer = SecretSealer(MasterKey(b"k" * 32))
    sealed = sealer.seal("top secret", bound_to="provider corp")
    assert "top secret" not in sealed
    assert sealer.open(sealed, bound_to="provider corp") == "top secret"
    with pytest.raises(SecretUnsealError):
        sealer.open(sealed, bound_to="provider other")
    with pytest.raises(SecretUnsealError):
        SecretSealer(MasterKey(b"j" * 32)).open(sealed, bound_to="provider corp")
    with pytest.raises(SecretUnsealError):
        sealer.open("v1.!!!", bound_to="provider corp")


def _sealer() -> SecretSealer:
    raw = decode_master_key(Secret(SECRET_KEY).reveal())
    assert raw is not None
    return SecretSealer(MasterKey(raw))


CONFIGURED = UpstreamProvider(
    "aaa", "oidc", "https://a.example", "c", "s", ("openid",), "A", source="config"
)


async def test_the_registry_lists_the_file_first_then_the_store(sql_backends: Backends) -> None:
    registry = ProviderRegistry([CONFIGURED], sql_backends.providers, _sealer(), FixedClock())
    corp = make_provider("corp", issuer="https://id.example", client_id="c", client_secret="s")
    await registry.add(corp)
    await registry.add(dataclasses.replace(corp, name="abc"))
    assert [p.name for p in await registry.list()] == ["aaa", "abc", "corp"]
    assert await registry.get("corp") == corp  # the secret unsealed again
    stored = await sql_backends.providers.get("corp")
    assert stored is not None
    assert stored.sealed_secret.startswith("v1.")
    assert stored.created_at == FixedClock().now()
    assert await registry.get("nope") is None


async def test_the_registry_refuses_a_taken_name_and_keeps_the_file_read_only(
    sql_backends: Backends,
) -> None:
    registry = ProviderRegistry([CONFIGURED], sql_backends.providers, _sealer())
    with pytest.raises(DuplicateProvider):
        await registry.add(dataclasses.replace(CONFIGURED, source="cli"))
    corp = make_provider("corp", issuer="https://id.example", client_id="c", client_secret="s")
    await registry.add(corp)
    with pytest.raises(DuplicateProvider):
        await registry.add(corp)
    with pytest.raises(ReadOnlyProvider):
        await registry.remove("aaa")
    assert await registry.remove("corp") is True
    assert await registry.remove("corp") is False


async def test_a_secret_sealed_under_another_master_key_is_misconfigured(
    sql_backends: Backends,
) -> None:
    corp = make_provider("corp", issuer="https://id.example", client_id="c", client_secret="s")
    await ProviderRegistry([], sql_backends.providers, SecretSealer(MasterKey(b"x" * 32))).add(corp)
    registry = ProviderRegistry([], sql_backends.providers, _sealer())
    with pytest.raises(UpstreamError) as caught:
        await registry.get("corp")
    assert caught.value.reason == "misconfigured"
    assert await registry.list() == []  # left out of the login page, not a crash


async def test_identities_link_find_touch_and_unlink(sql_backends: Backends) -> None:
    clock = FixedClock()
    identities = Identities(sql_backends.identities, clock)
    user = await a_user(sql_backends)
    upstream = UpstreamIdentity("corp", "sub-1", None, False, "Ada")
    linked = await identities.link(user, upstream)
    assert (linked.email, linked.created_at) == ("", clock.now())
    with pytest.raises(AlreadyLinked):
        await identities.link(await a_user(sql_backends), upstream)
    clock.advance(60)
    await identities.touch("corp", "sub-1")
    found = await identities.find("corp", "sub-1")
    assert found is not None
    assert (found.last_used_at, found.user_id) == (clock.now(), user)
    assert [i.subject for i in await identities.for_user(user)] == ["sub-1"]
    assert await identities.unlink(user, "corp", "sub-1") is True
    assert await identities.find("corp", "sub-1") is None
