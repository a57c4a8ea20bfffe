"""Browser steps of the authorization flow: follow to the consent page, decide, log in."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support import PASSWORD, csrf_of

_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in _HIDDEN.findall(html)}


async def decide(client: httpx.AsyncClient, consent_html: str, decision: str) -> httpx.Response:
    fields = hidden_fields(consent_html)
    return await client.post("/consent", data={**fields, "decision": decision})


def login_next(response: httpx.Response) -> str:
    """Where the login page a redirect points at will send the browser afterwards."""
    assert response.status_code == 303, response.status_code
    location = response.headers["location"]
    assert location.startswith("/login?"), location
    return parse_qs(urlsplit(location).query)["next"][0]


async def log_in_via(
    client: httpx.AsyncClient, login_location: str, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Show the login page a redirect pointed at, then submit it like a browser."""
    page = await client.get(login_location)
    assert page.status_code == 200, page.status_code
    fields = hidden_fields(page.text)
    return await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "next": fields["next"],
            "email": email,
            "password": password,
        },
    )
