"""The provider metadata at both well-known URLs (OIDC Discovery §4, RFC 8414 §3).

The body is built from settings once, when the app is created: no session, no
cookie, no storage, and nothing taken from the request (the `Host` header least
of all, R28). Answered ahead of the router (middleware/static_documents.py).
"""

from starlette.types import Scope

from gatepass.oidc.discovery import OAUTH_METADATA_PATH, OPENID_CONFIGURATION_PATH
from gatepass.web.middleware.static_documents import Document

# Metadata changes only with a deployment; an hour of caching spares clients a round trip.
MAX_AGE_SECONDS = 3600


def documents(body: bytes) -> dict[str, Document]:
    async def metadata(_scope: Scope) -> bytes:
        return body

    document = Document(
        metadata, "application/json", f"public, max-age={MAX_AGE_SECONDS}", lambda _app: body
    )
    return {OPENID_CONFIGURATION_PATH: document, OAUTH_METADATA_PATH: document}
