"""The GitHub stand-in speaks GitHub's documented OAuth web flow and user endpoints.

Plain httpx against a running stand-in: authorize (straight back with code + state),
the token exchange in both of GitHub's answer formats, /user and /user/emails, and the
refusals a relying party must cope with (reused or expired code, PKCE mismatch, wrong
client secret, bad token, cancelled authorization, GitHub down).
"""

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.federation import github_standin
from tests.federation.github_standin import GitHubEmail, GitHubUser, StandIn
from tests.federation.harness_fixtures import (  # noqa: F401
    StartGitHubStandIn,
    start_github_standin,
)

CALLBACK = "http://127.0.0.1:9/login/github/callback"  # never requested
CLIENT_ID = "Iv1.standin0000000"
CLIENT_SECRET = "standin-secret-" + "z" * 24
OCTOCAT = GitHubUser(
    id=583231,
    login="octocat",
    name="The Octocat",
    email=None,
    emails=(
        GitHubEmail("octocat@github.com", primary=True, verified=True),
        GitHubEmail("old@example.com", primary=False, verified=False, visibility=None),
    ),
)
HUBOT = GitHubUser(id=7, login="hubot", name=None, email="hubot@example.com")


@pytest.fixture(scope="module")
def module_standin() -> Iterator[StandIn]:
    with github_standin.running([OCTOCAT, HUBOT], CLIENT_ID, CLIENT_SECRET) as standin:
        yield standin


@pytest.fixture
def standin(module_standin: StandIn) -> StandIn:
    """The module's stand-in with its knobs reset for this test."""
    module_standin.next_user = "octocat"
    module_standin.user_cancels = False
    module_standin.unavailable = False
    return module_standin


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as client:
        yield client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def authorize(
    http: httpx.AsyncClient, standin: StandIn, challenge: str, **extra: str
) -> dict[str, str]:
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "read:user user:email",
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    response = await http.get(f"{standin.authorize_url}?{urlencode(query)}")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def exchange(
    http: httpx.AsyncClient,
    standin: StandIn,
    code: str,
    verifier: str,
    *,
    secret: str = CLIENT_SECRET,
    basic: bool = False,
) -> httpx.Response:
    form = {"code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}
    if basic:
        return await http.post(
            standin.token_url,
            data=form,
            auth=(CLIENT_ID, secret),
            headers={"Accept": "application/json"},
        )
    form |= {"client_id": CLIENT_ID, "client_secret": secret}
    return await http.post(standin.token_url, data=form, headers={"Accept": "application/json"})


async def access_token(http: httpx.AsyncClient, standin: StandIn, **extra: str) -> str:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge, **extra)
    response = await exchange(http, standin, params["code"], verifier)
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("basic", [False, True], ids=["secret_in_form", "http_basic"])
async def test_web_flow_with_pkce_reaches_user_and_emails(
    http: httpx.AsyncClient, standin: StandIn, basic: bool
) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    assert params["state"] == "st4te"
    response = await exchange(http, standin, params["code"], verifier, basic=basic)
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["scope"] == "read:user,user:email"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    user = await http.get(f"{standin.api_url}/user", headers=headers)
    emails = await http.get(f"{standin.api_url}/user/emails", headers=headers)
    assert user.status_code == 200
    assert {k: user.json()[k] for k in ("id", "login", "name", "email")} == {
        "id": 583231,
        "login": "octocat",
        "name": "The Octocat",
        "email": None,
    }
    assert emails.json() == [
        {"email": "octocat@github.com", "primary": True, "verified": True, "visibility": "private"},
        {"email": "old@example.com", "primary": False, "verified": False, "visibility": None},
    ]


async def test_token_answer_is_form_encoded_without_accept_json(
    http: httpx.AsyncClient, standin: StandIn
) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": params["code"]}
    response = await http.post(standin.token_url, data=form | {"code_verifier": verifier})
    assert response.headers["content-type"].startswith("application/x-www-form-urlencoded")
    answer = parse_qs(response.text)
    assert answer["token_type"] == ["bearer"]
    assert answer["access_token"][0].startswith("gho_")


async def test_login_parameter_and_token_scheme_choose_the_user(
    http: httpx.AsyncClient, standin: StandIn
) -> None:
    token = await access_token(http, standin, login="hubot", scope="read:user")
    headers = {"Authorization": f"token {token}"}
    user = await http.get(f"{standin.api_url}/user", headers=headers)
    emails = await http.get(f"{standin.api_url}/user/emails", headers=headers)
    assert (user.json()["id"], user.json()["email"]) == (7, "hubot@example.com")
    assert emails.status_code == 404  # no user:email scope


async def test_code_is_single_use(http: httpx.AsyncClient, standin: StandIn) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    first = await exchange(http, standin, params["code"], verifier)
    again = await exchange(http, standin, params["code"], verifier)
    assert "access_token" in first.json()
    assert (again.status_code, again.json()["error"]) == (200, "bad_verification_code")


async def test_expired_code_is_refused(http: httpx.AsyncClient, standin: StandIn) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    standin.expire_codes()
    response = await exchange(http, standin, params["code"], verifier)
    assert response.json()["error"] == "bad_verification_code"


async def test_pkce_mismatch_is_refused_and_burns_the_code(
    http: httpx.AsyncClient, standin: StandIn
) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    wrong = await exchange(http, standin, params["code"], pkce_pair()[0])
    right = await exchange(http, standin, params["code"], verifier)
    assert wrong.json()["error"] == "bad_verification_code"
    assert right.json()["error"] == "bad_verification_code"


async def test_wrong_client_secret_is_refused(http: httpx.AsyncClient, standin: StandIn) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    response = await exchange(http, standin, params["code"], verifier, secret="wrong", basic=True)
    assert response.status_code == 200
    assert response.json()["error"] == "incorrect_client_credentials"


async def test_bad_or_revoked_token_gets_401(http: httpx.AsyncClient, standin: StandIn) -> None:
    token = await access_token(http, standin)
    forged = await http.get(f"{standin.api_url}/user", headers={"Authorization": "Bearer gho_x"})
    standin.revoke_tokens()
    revoked = await http.get(
        f"{standin.api_url}/user", headers={"Authorization": f"Bearer {token}"}
    )
    assert forged.status_code == revoked.status_code == 401
    assert revoked.json()["message"] == "Bad credentials"


async def test_cancelled_authorization_returns_access_denied(
    http: httpx.AsyncClient, standin: StandIn
) -> None:
    standin.user_cancels = True
    params = await authorize(http, standin, pkce_pair()[1])
    assert (params["error"], params["state"]) == ("access_denied", "st4te")
    assert "code" not in params


async def test_unavailable_github_answers_502(http: httpx.AsyncClient, standin: StandIn) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize(http, standin, challenge)
    standin.unavailable = True
    response = await exchange(http, standin, params["code"], verifier)
    assert response.status_code == 502


async def test_factory_starts_a_standin_of_its_own(
    start_github_standin: StartGitHubStandIn,  # noqa: F811
    module_standin: StandIn,
    http: httpx.AsyncClient,
) -> None:
    other = start_github_standin([HUBOT], "other-client", "other-secret")
    assert other.base_url != module_standin.base_url
    other.next_user = "hubot"
    query = {"client_id": "other-client", "redirect_uri": CALLBACK, "state": "s"}
    response = await http.get(f"{other.authorize_url}?{urlencode(query)}")
    assert response.status_code == 302
    assert "code=" in response.headers["location"]
    unknown = await http.get(f"{other.authorize_url}?client_id={CLIENT_ID}")
    assert unknown.status_code == 404
