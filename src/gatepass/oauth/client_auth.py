"""Client credentials at the token endpoint (RFC 6749 §2.3.1; OAuth 2.1 §2.4).

Three methods: `client_secret_basic` (HTTP Basic, id and secret form-urlencoded first),
`client_secret_post` (client_id and client_secret in the body) and `none` (a public
client names itself with client_id and proves nothing; PKCE binds its code). A request
MUST NOT use more than one method (RFC 6749 §2.3).
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from gatepass.oauth.errors import InvalidClient, InvalidRequest

MAX_CREDENTIAL_LENGTH = 512


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str | None  # None for `none`
    method: str


def parse_client_credentials(
    authorization: str | None, form: Mapping[str, str]
) -> ClientCredentials:
    """Who the client says it is; raises InvalidRequest or InvalidClient."""
    body_id, body_secret = form.get("client_id") or None, form.get("client_secret") or None
    if authorization is not None:
        client_id, secret = _parse_basic(authorization)
        if body_secret is not None:
            # RFC 6749 §2.3: the client MUST NOT use more than one authentication method.
            raise InvalidRequest("Use one client authentication method, not two.")
        if body_id is not None and body_id != client_id:
            raise InvalidRequest("The client_id does not match the authenticated client.")
        return ClientCredentials(client_id, secret, "client_secret_basic")
    if body_id is None:
        raise InvalidClient("Client authentication is required.")
    if body_secret is not None:
        return ClientCredentials(body_id, body_secret, "client_secret_post")
    return ClientCredentials(body_id, None, "none")


def _parse_basic(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(encoded) > MAX_CREDENTIAL_LENGTH * 3:
        raise InvalidClient("Use HTTP Basic or client_secret_post.", debug="not Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient(debug="malformed Basic credentials") from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise InvalidClient(debug="Basic credentials without a colon")
    # RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before Basic.
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if not client_id or not secret:
        raise InvalidClient(debug="empty client id or secret in Basic credentials")
    return client_id, secret
