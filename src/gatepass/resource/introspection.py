"""Introspection at the issuer (RFC 7662) as the revocation set's fallback: what a verifier
asks when its feed cannot vouch for a token (docs/resource.md, "When the feed is lost").

One request per token the set cannot vouch for, and only then: with the feed healthy,
verification stays free of I/O. Any failure (issuer down, an error answer, a malformed
body) answers "not active", so the token stays refused: fail closed.
"""

import base64
from urllib.parse import quote_plus

import httpx

from gatepass.resource.revocations import Fallback
from gatepass.tokens.revocation_event import TokenFacts

TIMEOUT_SECONDS = 5.0


def introspection_fallback(
    issuer: str,
    client_id: str,
    client_secret: str,
    *,
    http: httpx.AsyncClient | None = None,
) -> Fallback:
    """A `RevocationSet(fallback=...)` that asks `{issuer}/introspect` with the credentials
    of a confidential client (client_secret_basic, RFC 6749 §2.3.1)."""
    url = issuer.rstrip("/") + "/introspect"
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    headers = {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    client = http or httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    async def active(token: str, facts: TokenFacts) -> bool:
        try:
            response = await client.post(url, data={"token": token}, headers=headers)
            body = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return False
        # RFC 7662 §2.2: `active` is a boolean; and it must be this very token's answer.
        return (
            isinstance(body, dict) and body.get("active") is True and body.get("jti") == facts.jti
        )

    return active
