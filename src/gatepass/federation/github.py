"""GitHub's user, once the code is exchanged: OAuth 2.0 and its REST API, no id token.

GET {api}/user         id (a number: the stable subject; logins can be renamed), name
GET {api}/user/emails  the primary address, verified only if GitHub says so (needs the
                       user:email scope; without it, the profile's public address,
                       never taken as verified)
"""

from typing import Any

import httpx

from gatepass.federation.http import call
from gatepass.federation.model import UpstreamError, UpstreamIdentity, UpstreamProvider
from gatepass.federation.presets import github_endpoints

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254


async def github_identity(
    http: httpx.AsyncClient, provider: UpstreamProvider, access_token: str
) -> UpstreamIdentity:
    api = github_endpoints(provider.issuer).api
    headers = {**API_HEADERS, "Authorization": f"Bearer {access_token}"}
    user = await _get(http, f"{api}/user", headers)
    if not isinstance(user, dict):
        raise UpstreamError("unavailable", "GitHub user is not a JSON object")
    user_id = user.get("id")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
        raise UpstreamError("unavailable", "GitHub user without a numeric id")
    email, verified = await _primary_email(http, f"{api}/user/emails", headers)
    if email is None:
        email, verified = _text(user.get("email"), MAX_EMAIL_CHARS), False
    login = _text(user.get("login"), MAX_NAME_CHARS)
    return UpstreamIdentity(
        provider=provider.name,
        subject=str(user_id),
        email=email,
        email_verified=verified,
        name=_text(user.get("name"), MAX_NAME_CHARS) or login or str(user_id),
    )


async def _get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    answer = await call(http, "GET", url, headers=headers)
    if answer.status == 401:
        raise UpstreamError("exchange_failed", f"{url} refused the access token")
    if answer.status != 200:
        raise UpstreamError("unavailable", f"{url} answered HTTP {answer.status}")
    return answer.json()


async def _primary_email(
    http: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[str | None, bool]:
    answer = await call(http, "GET", url, headers=headers)
    if answer.status in (403, 404):  # the user:email scope was not granted
        return None, False
    if answer.status != 200:
        raise UpstreamError("unavailable", f"{url} answered HTTP {answer.status}")
    emails = answer.json()
    for entry in emails if isinstance(emails, list) else []:
        if isinstance(entry, dict) and entry.get("primary") is True:
            email = _text(entry.get("email"), MAX_EMAIL_CHARS)
            return email, email is not None and entry.get("verified") is True
    return None, False


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return value.strip()
