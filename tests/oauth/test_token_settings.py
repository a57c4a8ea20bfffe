"""refresh_policy_for (oauth/token_settings.py): a client's own settings, else the server's."""

import dataclasses

import pytest

from gatepass.oauth.clients import Client
from gatepass.oauth.token_settings import TokenDefaults, refresh_policy_for
from gatepass.tokens.families import FamilyPolicy

DAY = 86_400
SERVER = TokenDefaults(idle_ttl=30 * DAY, absolute_ttl=90 * DAY, retry_window=30)
CLIENT = Client(
    client_id="gpc_" + "a" * 43,
    name="Example App",
    secret_digest=None,
    redirect_uris=("https://app.example.com/cb",),
    post_logout_redirect_uris=(),
    grant_types=("authorization_code", "refresh_token"),
    scopes=("openid", "offline_access"),
    first_party=False,
    id_token_alg="RS256",
    created_at=0.0,
    updated_at=0.0,
)

POLICIES = {
    "a client without settings gets the server's": ({}, FamilyPolicy(30 * DAY, 90 * DAY, 30)),
    "a client's own settings win": (
        {
            "refresh_token_idle_ttl": DAY,
            "refresh_token_absolute_ttl": 7 * DAY,
            "refresh_retry_window": 5,
        },
        FamilyPolicy(DAY, 7 * DAY, 5),
    ),
    "a strict retry window of 0 is the client's, not unset": (
        {"refresh_retry_window": 0},
        FamilyPolicy(30 * DAY, 90 * DAY, 0),
    ),
    "an idle time alone keeps the server's absolute lifetime": (
        {"refresh_token_idle_ttl": 3600},
        FamilyPolicy(3600, 90 * DAY, 30),
    ),
    "a client's idle time over the server's absolute lifetime is cut to it": (
        {"refresh_token_idle_ttl": 200 * DAY},
        FamilyPolicy(90 * DAY, 90 * DAY, 30),
    ),
    "the server's idle time over a client's absolute lifetime is cut to it": (
        {"refresh_token_absolute_ttl": 3600},
        FamilyPolicy(3600, 3600, 30),
    ),
}


@pytest.mark.parametrize(("settings", "expected"), POLICIES.values(), ids=list(POLICIES))
def test_refresh_policy_for(settings: dict[str, int], expected: FamilyPolicy) -> None:
    client = dataclasses.replace(CLIENT, **settings)
    assert refresh_policy_for(client, SERVER) == expected


def test_the_default_audience_plays_no_part_in_the_refresh_policy() -> None:
    client = dataclasses.replace(CLIENT, default_audience="https://api.example.com")
    assert refresh_policy_for(client, SERVER) == refresh_policy_for(CLIENT, SERVER)
